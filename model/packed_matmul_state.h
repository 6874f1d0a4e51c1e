#pragma once
// Internal to fs_model: a packed matrix product's state, shared by the linear layers
// (fast_matmul.cpp) and token mixing (fast_token_mix.cpp). Not part of the library's interface.
#include "model/fast_inference.h"
#include "model/kernel_policy.h"
#include "model/onednn_support.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace fs::model {

// The free dimension (rows for a linear layer, columns for token mixing), the batch (token mixing;
// 1 for a linear layer), the op, and whether W is used transposed (token mixing's input gradient).
using MatmulKey = std::tuple<int64_t, int64_t, MatmulOp, bool>;

struct MatmulEntry {
  MatmulKey key;
  bool blas = false;                 // oneDNN offered only a reference kernel for this shape
  int64_t* uses = nullptr;           // kernelCounter() of what runs
  dnnl::matmul primitive;
  dnnl::memory::desc src, weights, bias, dst;
  dnnl::memory blockedWeight;  // the weight in `weights`' blocked layout, shared (State::blocked); else empty
};

struct PackedMatmul::State {
  at::Tensor weight, bias;
  at::Tensor weightSource, biasSource;  // the caller's tensors: whether they want a gradient now
  bool blas = false;  // matmulBackend() chose BLAS for every product of this layer
  int64_t* blasUses = kernelCounter("matmul", "blas:sgemm");
  onednn::PrimitiveCache<MatmulEntry> cache;
  // The weight reordered into each blocked layout a primitive asked for (usually one per layer);
  // kept while the layer is packed, outliving the primitives the cache evicts.
  std::vector<dnnl::memory> blocked;

  // W as the (K,N) layout `layout` wants, from `plain` (W's own storage, described as (K,N)),
  // reordered the first time a primitive asks for that layout.
  dnnl::memory blockedWeight(const dnnl::memory::desc& layout, const dnnl::memory::desc& plain);

  // The cached primitive for this key, made by build() the first time; an entry whose primitive
  // would be a reference kernel is marked for BLAS instead.
  template <class Build>
  const MatmulEntry& entry(const MatmulKey& key, const Build& build) {
    try {
      return cache.get(key, [&] {
        MatmulEntry e;
        const dnnl::matmul::primitive_desc pd = build(e);
        const std::string impl = pd.impl_info_str();
        e.key = key;
        e.blas = isSlowImplementation(impl);
        e.uses = e.blas ? blasUses : kernelCounter("matmul", impl);
        if (!e.blas) e.primitive = dnnl::matmul(pd);
        return e;
      });
    } catch (const dnnl::error& err) {
      throw std::runtime_error(std::string("oneDNN matmul: ") + err.what());
    }
  }
};

}  // namespace fs::model
