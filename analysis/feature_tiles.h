#pragma once
// Channel tiling for feature-map images: the first k channels of a [1,C,H,W] map as a grid of
// grayscale tiles, each min-max normalised on its own (the ConvMLP paper's figure cells).
#include <ATen/core/Tensor.h>
#include <opencv2/core/mat.hpp>

namespace fs::analysis {

// Returns CV_8UC1. cols <= 0 picks a near-square grid; each tile is upscaled by `scale`
// (nearest) and separated by a 1-pixel white gap.
cv::Mat tileChannels(const at::Tensor& map, int k, int cols = 0, int scale = 1);

}  // namespace fs::analysis
