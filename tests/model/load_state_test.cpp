// Strict loading: missing / unexpected / mismatched keys reported by name, nothing loaded partially.
#include "model/checkpoint.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/linear.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fs::model {
namespace {

std::shared_ptr<torch::nn::Module> tinyModel() {
  auto module = std::make_shared<torch::nn::Module>();
  module->register_module("fc", torch::nn::Linear(4, 3));
  module->register_module("bn", torch::nn::BatchNorm2d(3));
  return module;
}

TensorDict randomStateFor(const torch::nn::Module& module) {
  TensorDict dict;
  for (const auto& item : module.named_parameters()) {
    dict.tensors.emplace_back(item.key(), at::randn(item.value().sizes()));
  }
  for (const auto& item : module.named_buffers()) {
    dict.tensors.emplace_back(item.key(), item.value().is_floating_point() ? at::rand(item.value().sizes())
                                                                           : item.value().clone().fill_(5));
  }
  return dict;
}

void erase(TensorDict& dict, const std::string& name) {
  for (auto it = dict.tensors.begin(); it != dict.tensors.end(); ++it) {
    if (it->first == name) {
      dict.tensors.erase(it);
      return;
    }
  }
}

TEST(LoadState, CopiesEveryTensor) {
  auto module = tinyModel();
  const TensorDict dict = randomStateFor(*module);
  const LoadReport report = loadState(*module, dict, "tiny.pth");
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.loaded, 7);
  EXPECT_NE(report.summary().find("7"), std::string::npos);
  for (const auto& item : module->named_parameters()) {
    EXPECT_TRUE(at::equal(item.value(), *dict.find(item.key()))) << item.key();
    EXPECT_TRUE(item.value().requires_grad());
  }
  EXPECT_EQ(module->named_buffers()["bn.num_batches_tracked"].item<int64_t>(), 5);
}

TEST(LoadState, NumBatchesTrackedIsOptionalBothWays) {
  auto module = tinyModel();
  TensorDict dict = randomStateFor(*module);
  erase(dict, "bn.num_batches_tracked");
  dict.tensors.emplace_back("other.num_batches_tracked", at::tensor(int64_t{1}));
  const LoadReport report = checkState(*module, dict);
  EXPECT_TRUE(report.ok()) << report.summary();
  EXPECT_EQ(report.loaded, 6);
}

TEST(LoadState, ReportsMissingUnexpectedAndMismatchedByName) {
  auto module = tinyModel();
  TensorDict dict = randomStateFor(*module);
  erase(dict, "fc.bias");
  erase(dict, "fc.weight");
  dict.tensors.emplace_back("fc.weight", at::zeros({3, 5}));
  dict.tensors.emplace_back("head.weight", at::zeros({2}));
  const LoadReport report = checkState(*module, dict);
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.missing, std::vector<std::string>{"fc.bias"});
  EXPECT_EQ(report.unexpected, std::vector<std::string>{"head.weight"});
  EXPECT_EQ(report.mismatched, std::vector<std::string>{"fc.weight: file [3,5] vs model [3,4]"});
  const std::string summary = report.summary();
  EXPECT_NE(summary.find("1 missing (fc.bias)"), std::string::npos) << summary;
  EXPECT_NE(summary.find("1 unexpected (head.weight)"), std::string::npos) << summary;
  EXPECT_NE(summary.find("1 shape mismatches (fc.weight: file [3,5] vs model [3,4])"), std::string::npos) << summary;
}

TEST(LoadState, FailedLoadLeavesModuleUntouched) {
  auto module = tinyModel();
  std::map<std::string, at::Tensor> before;
  for (const auto& item : module->named_parameters()) before[item.key()] = item.value().clone();
  for (const auto& item : module->named_buffers()) before[item.key()] = item.value().clone();
  TensorDict dict = randomStateFor(*module);
  erase(dict, "bn.running_var");
  for (int k = 0; k < 15; ++k) dict.tensors.emplace_back("extra." + std::to_string(k), at::zeros({1}));
  try {
    loadState(*module, dict, "/models/tiny.pth");
    ADD_FAILURE() << "loadState accepted a mismatching file";
  } catch (const InputError& e) {
    const std::string message = e.what();
    const std::string expected =
        "/models/tiny.pth: does not match the model: 1 missing (bn.running_var), 15 unexpected (extra.0, ";
    EXPECT_EQ(message.rfind(expected, 0), 0u) << message;
    EXPECT_NE(message.find("extra.9, ...)"), std::string::npos) << message;
    EXPECT_EQ(message.find("extra.10"), std::string::npos) << message;
  }
  for (const auto& item : module->named_parameters()) {
    EXPECT_TRUE(at::equal(item.value(), before[item.key()])) << item.key();
  }
  for (const auto& item : module->named_buffers()) {
    EXPECT_TRUE(at::equal(item.value(), before[item.key()])) << item.key();
  }
}

}  // namespace
}  // namespace fs::model
