// bench: median forward and forward+backward latency at batch 1 and the model's input size.
// forward_backward = forward with every tap kept + gradient of the top logit w.r.t. the input.
#include "analysis/model_loader.h"
#include "app/cli_commands.h"
#include "model/threads.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/autograd.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iomanip>
#include <iostream>

namespace fs::app {
namespace {

double medianMs(int repeat, const std::function<void()>& fn) {
  fn();  // warm-up (allocator, oneDNN primitive caches)
  std::vector<double> t;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t.size() % 2 ? t[t.size() / 2] : 0.5 * (t[t.size() / 2 - 1] + t[t.size() / 2]);
}

long peakRssMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

std::vector<std::string> allTaps(const fs::analysis::LoadedModel& m) {
  std::vector<std::string> names;
  for (const auto& t : m.net->taps()) names.push_back(t.name);
  return names;
}
}  // namespace

int runBench(const Args& a) {
  const int repeat = a.intValue("--repeat", 10, 1, 10000);
  const fs::model::ThreadConfig tc = fs::model::currentThreads();
  const int threads = tc.intraOp;
  std::vector<fs::analysis::LoadedModel> models;  // all loaded at once: the peak RSS figures
  for (const auto& id : a.positional) models.push_back(fs::analysis::loadModel(id, "", 0));
  // Peak RSS with every model loaded and one forward with all taps each (as the feature view does).
  for (auto& m : models) {
    c10::InferenceMode guard;
    m.net->forward(at::randn({1, 3, m.config.input.height, m.config.input.width}), allTaps(m));
  }
  const long forwardPeakMb = peakRssMb();
  nlohmann::json out = nlohmann::json::object();
  for (auto& m : models) {
    const std::string& id = m.config.id;
    const auto& in = m.config.input;
    const at::Tensor x = at::randn({1, 3, in.height, in.width});
    const double fwd = medianMs(repeat, [&] {
      c10::InferenceMode guard;
      m.net->forward(x, {});
    });
    const auto taps = allTaps(m);
    const double fwdBwd = medianMs(repeat, [&] {
      at::Tensor xi = x.detach().requires_grad_(true);
      auto r = m.net->forward(xi, taps);
      at::Tensor score = r.logits[0].max();
      torch::autograd::grad({score}, {xi});
    });
    out[id] = {{"forward_ms", fwd}, {"forward_backward_ms", fwdBwd}, {"threads", threads}};
    if (!a.has("--json"))
      std::cout << std::left << std::setw(14) << id << std::fixed << std::setprecision(1) << "forward " << fwd
                << " ms   forward+backward " << fwdBwd << " ms   (" << threads << " threads, median of "
                << repeat << ")\n";
  }
  if (a.has("--json")) std::cout << out.dump(2) << "\n";
  std::cout.flush();
  std::cerr << "bench: peak RSS " << forwardPeakMb << " MB with " << models.size()
            << " models loaded and a forward with all taps each, " << peakRssMb()
            << " MB after the timed runs (forward+backward included); LibTorch threads " << threads
            << ", BLAS threads " << tc.blas << " [" << tc.blasName << "]\n";
  return 0;
}

namespace {
const CommandRegistrar kBench{{"bench", "bench MODEL... [--repeat N] [--json]\n  Median forward and forward+backward times, batch 1.",
                               {{"--repeat"}, {"--json"}, 1, -1}, runBench}};
}  // namespace

}  // namespace fs::app
