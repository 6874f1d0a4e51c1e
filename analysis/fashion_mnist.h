#pragma once
// Fashion-MNIST (Xiao et al. 2017) from Debian's dataset-fashion-mnist: gzip'd IDX files read with
// zlib, validated (magic, dimensions, counts) before allocation; errors are InputErrors.
#include "model/input_spec.h"

#include <ATen/core/Tensor.h>

#include <string>

namespace fs::analysis {

struct ImageDataset {
  at::Tensor images;  // uint8 [N,28,28]
  at::Tensor labels;  // int64 [N]
};

std::string defaultFashionMnistDir();  // /usr/share/datasets/fashion-mnist
ImageDataset loadFashionMnist(const std::string& dir, bool train);

// uint8 [B,28,28] -> float32 [B,3,H,W] exactly as the image preprocessing does for a 28x28
// grayscale picture (bilinear upsampling with half-pixel centres, replicated to RGB, normalised).
at::Tensor fashionMnistBatch(const at::Tensor& images, const fs::model::InputSpec& spec);

}  // namespace fs::analysis
