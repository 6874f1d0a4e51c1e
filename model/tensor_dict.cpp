#include "model/tensor_dict.h"

namespace fs::model {

const at::Tensor* TensorDict::find(const std::string& name) const {
  for (const auto& [key, tensor] : tensors) {
    if (key == name) return &tensor;
  }
  return nullptr;
}

}  // namespace fs::model
