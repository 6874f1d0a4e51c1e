#pragma once
// Internal to fs_model: what the oneDNN convolutions (fast_inference.cpp, packed_conv_gradient.cpp)
// and matrix products (fast_matmul.cpp) share. Not part of the library's interface.
#include <ATen/core/Tensor.h>
#include <ATen/core/ivalue.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <cstddef>
#include <list>
#include <memory>
#include <utility>

namespace fs::model::onednn {

using Dims = dnnl::memory::dims;
using Tag = dnnl::memory::format_tag;
constexpr auto kF32 = dnnl::memory::data_type::f32;
constexpr std::size_t kShapesPerLayer = 4;  // primitives (and conv weight copies) kept per layer

dnnl::engine& engine();
dnnl::stream& threadStream();
dnnl::memory wrap(const dnnl::memory::desc& d, const at::Tensor& t);
dnnl::memory wrap(const dnnl::memory::desc& d, const float* p);
// oneDNN's OpenMP regions take the calling thread's setting; LibTorch's count is the one we keep.
void syncThreads();
// `from` reordered into new memory of layout `to` (owned by the result), finished when it returns:
// weights prepared once for a primitive that asked for its own layout.
dnnl::memory reordered(dnnl::memory from, const dnnl::memory::desc& to);
// Neither the weight nor the (optional) bias wants a gradient now: a packed layer's gradient pass
// may run its own autograd node (PackedConv, PackedTokenMix), which gives them none.
inline bool frozen(const at::Tensor& weight, const at::Tensor& bias) {
  return !weight.requires_grad() && !(bias.defined() && bias.requires_grad());
}
// A layer's packed state kept alive with an autograd graph whose backward needs it (the model may
// re-fold or re-pack its weights meanwhile), as a capsule in the node's saved_data.
template <class State>
struct StateHolder : torch::CustomClassHolder {
  explicit StateHolder(std::shared_ptr<State> s) : state(std::move(s)) {}
  std::shared_ptr<State> state;
};
template <class State>
c10::IValue stateCapsule(std::shared_ptr<State> state) {
  return c10::IValue::make_capsule(c10::make_intrusive<StateHolder<State>>(std::move(state)));
}
template <class State>
State& fromStateCapsule(const c10::IValue& capsule) {
  return *c10::static_intrusive_pointer_cast<StateHolder<State>>(capsule.toCapsule())->state;
}
// The output buffer: an addend nobody else holds is reused, else a copy of it, else fresh memory.
at::Tensor outputBuffer(at::Tensor addend, at::IntArrayRef sizes, const at::TensorOptions& options,
                        at::MemoryFormat format);

// A small most-recently-used cache of primitives; an Entry carries its own `key`.
template <class Entry>
struct PrimitiveCache {
  std::list<Entry> entries;
  template <class Build>
  const Entry& get(const decltype(Entry::key)& key, const Build& build) {
    for (auto it = entries.begin(); it != entries.end(); ++it) {
      if (it->key != key) continue;
      if (it != entries.begin()) entries.splice(entries.begin(), entries, it);
      return entries.front();
    }
    entries.push_front(build());
    if (entries.size() > kShapesPerLayer) entries.pop_back();
    return entries.front();
  }
};

}  // namespace fs::model::onednn
