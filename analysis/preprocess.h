#pragma once
// The timm/torchvision evaluation transform (Resize, CenterCrop, ToTensor, Normalize) and its
// inverse for previews. Pure functions, any thread. Resampling reproduces PIL's Image.resize,
// which is what torchvision applies to the PIL images that timm's eval pipeline feeds it.
#include "model/input_spec.h"

#include <ATen/ATen.h>
#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>

namespace fs::analysis {

// Where the model input came from in the original image. Model-input pixel (u, v) (pixel centres
// at integers) samples original pixel
//   x = x0 + (u + 0.5) / scale  - 0.5,   y = y0 + (v + 0.5) / scaleY - 0.5,
// so the crop rectangle in original pixels is (x0, y0, width / scale, height / scaleY).
// scale and scaleY are resized / original sizes; they differ only by the integer rounding of
// the resized sides.
struct CropGeometry {
  double scale = 1.0;   // horizontal: model pixels per original pixel
  double x0 = 0.0;      // original-pixel x of the crop's left edge (may be < 0 when padded)
  double y0 = 0.0;      // original-pixel y of the crop's top edge
  int width = 0;        // model input width
  int height = 0;       // model input height
  double scaleY = 1.0;  // vertical: model pixels per original pixel

  cv::Point2d toOriginal(double u, double v) const;  // the formula above
  cv::Rect2d originalRect() const;                   // the crop in original pixels
};

struct Preprocessed {
  at::Tensor input;     // float32 [1, 3, H, W], RGB, (x / 255 - mean) / std
  cv::Mat resizedCrop;  // CV_8UC3 RGB, H x W: what the model sees before normalisation
  CropGeometry crop;
};

// timm's eval transform: square target -> short side to floor(size / cropPct), long side to
// int(that * long / short) (torchvision Resize(int)); non-square target -> timm ResizeKeepRatio
// to cover floor(height / cropPct) x floor(width / cropPct). Then torchvision CenterCrop (zero
// padding if the resized image is smaller), /255, (x - mean) / std, HWC -> CHW.
// `rgb` must be CV_8UC3 in RGB order (as loadImageRgb returns).
Preprocessed preprocess(const cv::Mat& rgb, const fs::model::InputSpec& spec);

// Inverse of the normalisation: [1, 3, H, W] or [3, H, W] -> CV_8UC3 RGB, rounded and clamped.
cv::Mat denormalise(const at::Tensor& input, const fs::model::InputSpec& spec);

}  // namespace fs::analysis
