#include "model/tensor_dict.h"

#include <limits>

namespace fs::model {

const at::Tensor* TensorDict::find(const std::string& name) const {
  for (const auto& [key, tensor] : tensors) {
    if (key == name) return &tensor;
  }
  return nullptr;
}

bool contiguousStridesFit(const std::vector<int64_t>& shape) {
  uint64_t span = 1;
  for (int64_t size : shape) {
    if (size < 0 || __builtin_mul_overflow(span, static_cast<uint64_t>(size > 0 ? size : 1), &span) ||
        span > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return false;
    }
  }
  return true;
}

}  // namespace fs::model
