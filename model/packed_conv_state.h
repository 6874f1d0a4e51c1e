#pragma once
// Internal to fs_model: what a PackedConv (fast_inference.h) holds, shared by its forward
// (fast_inference.cpp: the cached forward primitives) and its gradient pass
// (packed_conv_gradient.cpp: the cached backward-data primitives and the autograd node). Not part
// of the library's interface.
#include "model/fast_inference.h"
#include "model/onednn_support.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <tuple>
#include <vector>

namespace fs::model {

namespace onednn {
class PhaseGradient;
}

// Fixed once packed, apart from the primitive caches; used on the thread that owns the model, and
// kept alive by the autograd graphs whose backward needs it (stateCapsule).
struct PackedConv::State {
  at::Tensor weight, bias;  // plain OIHW (any strides when groups == 1, else contiguous) / [O], float
  at::Tensor weightSource, biasSource;  // the caller's tensors: whether they want a gradient now
  onednn::Dims stride, padding, dilation;  // dilation in oneDNN's convention (0 = none)
  int64_t groups = 1;
  int64_t kernelVolume = 0;
  struct Entry {
    std::tuple<int64_t, int64_t, int64_t, int64_t, int, int> key;  // N, C, H, W, post-op, layouts
    PostOp fused = PostOp::None;  // the part of the post-op the primitive does
    bool aten = false;            // oneDNN had only a reference kernel: at::conv2d runs it
    int64_t* uses = nullptr;      // kernelCounter() of what runs
    dnnl::convolution_forward primitive;
    dnnl::memory weights;  // in the primitive's own layout
    dnnl::memory::desc src, dst, bias;
    onednn::Dims dstDims;
  };
  onednn::PrimitiveCache<Entry> cache;

  onednn::Dims weightDims() const;
  // The plain weights reordered into the layout a primitive wants.
  dnnl::memory packedWeights(const dnnl::memory::desc& layout) const;
  // layouts: bit 0 a blocked source, bit 1 a blocked destination (else channels-last). A plain
  // source with a blocked destination is NCHW: oneDNN's AVX2 kernel for a first layer (3 input
  // channels) reads that, and had only a reference kernel for channels-last into blocks.
  dnnl::convolution_forward::primitive_desc describe(Entry& e, int64_t n, int64_t c, int64_t h, int64_t w,
                                                    PostOp op, int layouts = 0) const;
  // The primitive with as much of `op` fused as oneDNN has a non-reference kernel for; when it
  // has none even unfused, the entry is marked for ATen.
  Entry build(int64_t n, int64_t c, int64_t h, int64_t w, PostOp op, int layouts) const;
  // Dilation as ATen counts it (the step; oneDNN counts the gaps).
  std::vector<int64_t> atenDilation() const;
  at::Tensor runOnAten(const at::Tensor& x) const;

  // The input's gradient (backward data) as a cached primitive on prepacked weights, in the
  // layouts of the forward it undoes: the gradient passes' counterpart of `cache`, which the
  // autograd node (runDifferentiable) uses. ATen's convolution_backward reorders the weights on
  // every call and works only on plain or channels-last tensors.
  struct BackwardEntry {
    std::tuple<int64_t, int64_t, int64_t, int64_t, int> key;  // N, C, H, W of the input, layouts
    bool aten = false;  // oneDNN had only a reference kernel
    std::shared_ptr<onednn::PhaseGradient> phases;  // an image stem's: the gradient by phases (phase_gradient.h)
    dnnl::convolution_backward_data primitive;
    dnnl::memory weights;
    dnnl::memory::desc diffSrc, diffDst;
  };
  mutable onednn::PrimitiveCache<BackwardEntry> backwardCache;

  BackwardEntry buildBackward(int64_t n, int64_t c, int64_t h, int64_t w, int layouts) const;
  // gradOut in the forward's output layout; inputSizes the forward's input's (5 when blocked).
  // The result has the input's layout (NCHW for a plain input into blocks, else channels-last), or
  // NCHW when computed by phases.
  at::Tensor backwardData(const at::Tensor& gradOut, at::IntArrayRef inputSizes) const;
};

}  // namespace fs::model
