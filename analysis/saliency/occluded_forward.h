#pragma once
// Occlusion's forwards (occlusion.cpp) by incremental inference where the model allows it:
// Nakandala et al. 2019, "Incremental and Approximate Inference for Faster Occlusion-based Deep
// CNN Explanations" (SIGMOD), in its exact form. A model whose first units are spatially local
// (ClassifierImpl::localPrefix: ConvMLP's and Pure-MLP's tokenizer and conv blocks, ResNet's stem
// and max pooling, the patch embedding of MLP-Mixer, ResMLP, ViT, DeiT and Swin, ConvNeXt's stem
// convolution) runs them on a crop around each window only; the prefix cells whose field meets
// the window are pasted into the prefix output of the unoccluded image, and the rest of the
// network runs on that. The logits are those of full forwards up to float rounding (the kernels
// sum in another order on another size). Full forwards where the model has no local prefix, the
// image's sides are not multiples of the prefix's stride, or a crop would cover more than half the
// image; and always with FEATURESCOPE_OCCLUSION=full (for comparisons; values other than full and
// incremental are refused).
#include "model/classifier.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace fs::analysis {

struct OcclusionWindow {
  int64_t r0 = 0, r1 = 0, c0 = 0, c1 = 0;  // rows [r0, r1), columns [c0, c1)
};

// Occlusion's windows on an image of height x width, row by row: `stride` steps, plus one aligned
// with the right/bottom edge so that every pixel is covered.
std::vector<OcclusionWindow> occlusionWindows(int64_t height, int64_t width, int64_t window, int64_t stride);

class OccludedForward {
 public:
  // x: [1,C,H,W] float; windows: every window logits() will be asked for; batch: the most windows
  // per call (the layout of the prefix's activations follows it, as in a forward of that batch).
  OccludedForward(fs::model::ClassifierImpl& net, const at::Tensor& x, std::vector<OcclusionWindow> windows,
                  int64_t batch);
  bool incremental() const { return cropRows_ > 0; }
  // Logits [1,K] of x, by the same path as logits().
  at::Tensor reference();
  // Logits [end - begin, K] of x with windows[begin..end) set to 0 (all channels).
  at::Tensor logits(int64_t begin, int64_t end);

 private:
  // Where a window's crop starts (pixels) and the prefix cells it reaches, rows and columns.
  struct Placement {
    int64_t row0 = 0, col0 = 0;
    int64_t firstRow = 0, lastRow = -1, firstCol = 0, lastCol = -1;
  };
  at::Tensor fullLogits(int64_t begin, int64_t end);
  fs::model::ClassifierImpl& net_;
  at::Tensor x_, prefix_;  // prefix_: the prefix output of x
  std::vector<OcclusionWindow> windows_;
  std::vector<Placement> placements_;  // one per window when incremental
  int64_t batch_ = 1, stride_ = 0, cropRows_ = 0, cropCols_ = 0;
};

}  // namespace fs::analysis
