#pragma once
// Helpers shared by the model tests: reference fixture paths, scratch files, the InputError
// expectation and the parity tolerance.
#include "model/errors.h"
#include "model/tensor_dict.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <unistd.h>

namespace fs::test {

inline std::string refDir(const std::string& fixture) {
  return std::string(FS_REFERENCE_DIR) + "/" + fixture;
}

// A scratch folder of this process for one test file ("fs_<name>_<pid>/", created), with the slash.
inline std::string scratchDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "fs_" + name + "_" + std::to_string(::getpid()) + "/";
  std::filesystem::create_directories(dir);
  return dir;
}

inline void writeBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// `action` must throw fs::model::InputError naming `path`, and containing `needle` when given.
inline void expectInputError(const std::function<void()>& action, const std::string& path,
                             const std::string& needle = "") {
  try {
    action();
    ADD_FAILURE() << "no InputError for " << path;
  } catch (const fs::model::InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(needle), std::string::npos) << message;
  }
}

// The same names, shapes, dtypes and values.
inline void expectEqualDicts(const fs::model::TensorDict& a, const fs::model::TensorDict& b) {
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [name, tensor] : a.tensors) {
    const at::Tensor* other = b.find(name);
    ASSERT_NE(other, nullptr) << name;
    EXPECT_EQ(tensor.sizes(), other->sizes()) << name;
    EXPECT_EQ(tensor.scalar_type(), other->scalar_type()) << name;
    EXPECT_TRUE(at::equal(tensor, *other)) << name;
  }
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
