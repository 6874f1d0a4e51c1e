#pragma once
// Helpers shared by the model tests: reference fixture paths and the parity tolerance.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string>

namespace fs::test {

inline std::string refDir(const std::string& fixture) {
  return std::string(FS_REFERENCE_DIR) + "/" + fixture;
}

// max|ours - ref| <= 1e-4 + 1e-4*|ref| (tests/data/reference/README.md)
inline ::testing::AssertionResult closeToRef(const at::Tensor& ours, const at::Tensor& ref, double atol = 1e-4,
                                             double rtol = 1e-4) {
  if (ours.sizes() != ref.sizes())
    return ::testing::AssertionFailure() << "shape " << ours.sizes() << " vs reference " << ref.sizes();
  const at::Tensor a = ours.detach().to(at::kDouble).contiguous(), b = ref.to(at::kDouble);
  const at::Tensor excess = (a - b).abs() - (atol + rtol * b.abs());
  const double worst = excess.max().item<double>();
  if (worst <= 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "max |diff| = " << (a - b).abs().max().item<double>()
                                       << " exceeds tolerance by " << worst;
}

}  // namespace fs::test
