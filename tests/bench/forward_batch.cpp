// Forward throughput of models at several batch sizes (inference mode, no taps): per model and
// batch, the median over ROUNDS of images per second, each round timing forwards for ~SECONDS.
// The batch sizes evaluate picks come from memory (analysis/batch_budget.h); this shows what
// each size costs per image on this machine.
// BACKWARD=1 in the environment: forward+backward (the input's gradient of one logit) as well, after a /.
// usage: forward_batch [THREADS] [ROUNDS] [SECONDS] MODEL... [-- BATCH...]   (THREADS 0: the default)
#include "analysis/batch_budget.h"
#include "analysis/evaluation/statistics.h"
#include "analysis/model_loader.h"
#include "app/process_setup.h"
#include "model/threads.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using fs::analysis::median;  // numpy.median's convention

}  // namespace

int main(int argc, char** argv) {
  fs::app::ensureOpenMpWaitPolicy(argv);
  fs::app::keepFreedMemoryForReuse();
  const fs::model::ThreadConfig threads = fs::model::configureThreads(argc > 1 ? std::atoi(argv[1]) : 0);
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
  const double seconds = argc > 3 ? std::max(0.05, std::atof(argv[3])) : 0.5;
  std::vector<std::string> ids;
  std::vector<int64_t> batches;
  bool afterDashes = false;
  const bool withBackward = std::getenv("BACKWARD") != nullptr;
  for (int i = 4; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") afterDashes = true;
    else if (afterDashes) batches.push_back(std::atoll(a.c_str()));
    else ids.push_back(a);
  }
  if (ids.empty()) ids = {"convmlp_fmnist", "puremlp_fmnist", "resnet_fmnist", "mixer_fmnist", "resmlp_fmnist"};
  if (batches.empty()) batches = {1, 8, 16, 32, 51, 96, 167};
  std::printf("%d intra-op threads; images / s, median of %d rounds\n", threads.intraOp, rounds);
  for (const std::string& id : ids) {
    fs::analysis::LoadedModel m = fs::analysis::loadModel(id, "", 0);
    const int64_t h = m.config.input.height, w = m.config.input.width;
    at::Generator gen = at::detail::createCPUGenerator(0);
    std::printf("%-16s (evaluate's batch %lld)", id.c_str(), static_cast<long long>(fs::analysis::inferenceBatchSize(m, h, w)));
    for (int64_t b : batches) {
      const at::Tensor x = at::randn({b, 3, h, w}, gen, at::kFloat);
      const auto rateOf = [&](const auto& pass) {
        std::vector<double> rates;
        for (int r = 0; r < rounds; ++r) {
          pass();
          int64_t n = 0;
          const auto t0 = std::chrono::steady_clock::now();
          double elapsed = 0;
          do {
            pass();
            n += b;
            elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          } while (elapsed < seconds);
          rates.push_back(double(n) / elapsed);
        }
        return median(rates);
      };
      const double forward = rateOf([&] {
        c10::InferenceMode guard;
        m.net->forward(x, {});
      });
      const double backward = !withBackward ? 0.0 : rateOf([&] {
        const at::Tensor in = x.detach().clone().requires_grad_(true);
        const at::Tensor logit = m.net->forward(in, {}).logits.select(1, 0).sum();
        torch::autograd::grad({logit}, {in});
      });
      if (withBackward) std::printf("  b%lld %.0f/%.0f", static_cast<long long>(b), forward, backward);
      else std::printf("  b%lld %.0f", static_cast<long long>(b), forward);
      std::fflush(stdout);
    }
    std::printf("\n");
  }
  return 0;
}
