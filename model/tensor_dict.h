#pragma once
// A checkpoint as read from disk: named CPU tensors in file order plus string metadata.
#include <ATen/core/Tensor.h>

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

}  // namespace fs::model
