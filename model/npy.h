#pragma once
// NPY v1.0/2.0 reader and writer (float32/float64/int64, little-endian, C order).
#include <ATen/core/Tensor.h>

#include <string>

namespace fs::model {

at::Tensor readNpy(const std::string& path);                 // float64 -> float32
void writeNpy(const std::string& path, const at::Tensor& t);  // float32, atomic write

}  // namespace fs::model
