#pragma once
// A checkpoint as read from disk: named CPU tensors in file order plus string metadata.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace fs::model {

struct TensorDict {
  std::vector<std::pair<std::string, at::Tensor>> tensors;  // file order, names unique
  std::map<std::string, std::string> metadata;              // safetensors __metadata__
  std::string format;                                       // "safetensors" | "pytorch-zip"

  const at::Tensor* find(const std::string& name) const;
};

// True if LibTorch can lay out a contiguous tensor of this shape: every stride (the product of
// the trailing sizes, zero sizes counting as 1) fits in int64. A shape with a zero in it holds no
// data, so the readers' byte counts cannot catch [0, 2^40, 2^40]; its strides would wrap around
// and a later copy or conversion would fail inside LibTorch. Readers refuse such shapes.
bool contiguousStridesFit(const std::vector<int64_t>& shape);

}  // namespace fs::model
