// bench: median forward and forward+backward latency at batch 1 and the model's input size, the
// kernels oneDNN dispatched to, and with --methods the time of saliency methods; with --peer the
// Python torch peer (resources/bench/peer.py: the same definitions and batch sizes) in the same run.
// forward_backward = forward with every tap kept + gradient of the top logit w.r.t. the input.
#include "analysis/string_list.h"
#include "analysis/batch_budget.h"
#include "analysis/model_loader.h"
#include "analysis/resources.h"
#include "analysis/saliency/saliency_method.h"
#include "app/cli_args.h"
#include "app/cli_commands.h"
#include "model/errors.h"
#include "model/kernel_policy.h"
#include "model/threads.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/autograd.h>

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iomanip>
#include <iostream>
#include <memory>

namespace fs::app {
namespace {

using Clock = std::chrono::steady_clock;
// The models resources/bench/peer.py defines.
const std::vector<std::string> kPeerModels{"convmlp_s", "resnet18",  "resnet50",     "mixer_b16",
                                           "vit_base",  "swin_tiny", "convnext_tiny"};

double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double medianMs(int repeat, const std::function<void()>& fn) {
  fn();  // warm-up (allocator, oneDNN primitive caches)
  std::vector<double> t;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = Clock::now();
    fn();
    t.push_back(msSince(t0));
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

// The benchmark's settings per method (the issue's: IG 32 steps, occlusion 16/8, SmoothGrad 50).
fs::analysis::SaliencyOptions methodOptions() {
  fs::analysis::SaliencyOptions o;
  o.steps = 32, o.samples = 50, o.window = 16, o.stride = 8;
  return o;
}

std::string kernelSummary() {
  std::string s;
  for (const auto& u : fs::model::kernelUses())
    s += (s.empty() ? "" : ", ") + u.kind + " " + u.impl + " x" + std::to_string(u.calls);
  return s;
}

// Runs `command` and returns its standard output; throws with the exit status when it fails.
std::string runPeer(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) throw fs::model::InputError("bench --peer: cannot start " + command);
  std::string out;
  std::array<char, 4096> buf{};
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe.get())) out.append(buf.data(), n);
  const int status = pclose(pipe.release());
  if (status != 0) throw fs::model::InputError("bench --peer: the Python peer failed (" + command + ")");
  return out;
}

std::string shellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}
}  // namespace

int runBench(const Args& a) {
  const int repeat = a.intValue("--repeat", 10, 1, 10000);
  const auto methods = splitList(a.value("--methods"));
  for (const auto& m : methods) fs::analysis::makeSaliencyMethod(m);  // unknown names: InputError
  const fs::model::ThreadConfig tc = fs::model::currentThreads();
  const int threads = tc.intraOp;
  std::vector<fs::analysis::LoadedModel> models;  // all loaded at once: the peak RSS figures
  for (const auto& id : a.positional) models.push_back(fs::analysis::loadModel(id, "", 0));
  for (const auto& m : models)
    if (a.has("--peer") &&
        std::find(kPeerModels.begin(), kPeerModels.end(), m.config.id) == kPeerModels.end())
      throw fs::model::UsageError("bench --peer: the Python peer defines " + fs::analysis::joinList(kPeerModels) +
                                  ", not " + m.config.id);
  // Peak RSS with every model loaded and one forward with all taps each (as the feature view does).
  fs::model::resetKernelUses();
  for (auto& m : models) {
    c10::InferenceMode guard;
    m.net->forward(at::randn({1, 3, m.config.input.height, m.config.input.width}), allTaps(m));
  }
  const long forwardPeakMb = peakRssMb();
  const std::string kernels = kernelSummary();
  nlohmann::json out = nlohmann::json::object();
  nlohmann::json batches = nlohmann::json::object();
  const bool text = !a.has("--json");
  if (text)
    std::cout << "oneDNN ISA " << fs::model::onednnIsa() << ", matmuls on "
              << fs::model::backendName(fs::model::matmulBackend()) << "; forward kernels: " << kernels << "\n";
  for (auto& m : models) {
    const std::string& id = m.config.id;
    const auto& in = m.config.input;
    at::manual_seed(0);
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
    if (text)
      std::cout << std::left << std::setw(14) << id << std::fixed << std::setprecision(1) << "forward " << fwd
                << " ms   forward+backward " << fwdBwd << " ms   (" << threads << " threads, median of "
                << repeat << ")\n";
    for (const auto& name : methods) {
      auto method = fs::analysis::makeSaliencyMethod(name);
      const int64_t batch = fs::analysis::chooseBatchSize(0, !method->gradientFree(), m, in.height, in.width);
      const auto t0 = Clock::now();
      method->compute(m, x, methodOptions());
      const double ms = msSince(t0);
      out[id]["methods"][name] = ms;
      batches[id][name] = batch;
      if (text)
        std::cout << "  " << std::left << std::setw(22) << name << std::fixed << std::setprecision(1) << ms
                  << " ms (batch " << batch << ")\n";
    }
  }
  out["_kernels"] = {{"isa", fs::model::onednnIsa()},
                     {"matmul", fs::model::backendName(fs::model::matmulBackend())},
                     {"forward", kernels}};
  if (a.has("--peer")) {
    std::string ids;
    for (const auto& m : models) ids += (ids.empty() ? "" : ",") + m.config.id;
    std::string list;
    for (const auto& m : methods) list += (list.empty() ? "" : ",") + m;
    const std::string script = fs::analysis::resourceDir() + "/bench/peer.py";
    const std::string command = "/usr/bin/python3 " + shellQuote(script) + " " + std::to_string(threads) + " " +
                                std::to_string(repeat) + " --models " + shellQuote(ids) + " --methods " +
                                shellQuote(list) + " --batches " + shellQuote(batches.dump());
    nlohmann::json peer;
    try {
      peer = nlohmann::json::parse(runPeer(command));
    } catch (const nlohmann::json::exception& e) {
      throw fs::model::InputError(std::string("bench --peer: unreadable output of the Python peer: ") + e.what());
    }
    out["_peer"] = peer;
    if (text) {
      std::cout << "Python peer (" << script << ", torch, " << threads << " threads), ratio = featurescope / peer:\n";
      for (const auto& m : models) {
        const auto& id = m.config.id;
        if (!peer.contains(id)) continue;
        const auto row = [&](const std::string& what, double fs, double py) {
          std::cout << "  " << std::left << std::setw(14) << id << std::setw(22) << what << std::fixed
                    << std::setprecision(1) << std::right << std::setw(10) << fs << " ms " << std::setw(10) << py
                    << " ms   ratio " << std::setprecision(2) << fs / py << "\n";
        };
        row("forward", out[id]["forward_ms"], peer[id]["forward_ms"]);
        row("forward+backward", out[id]["forward_backward_ms"], peer[id]["forward_backward_ms"]);
        for (const auto& name : methods) row(name, out[id]["methods"][name], peer[id]["methods"][name]);
      }
    }
  }
  if (!text) std::cout << out.dump(2) << "\n";
  std::cout.flush();
  std::cerr << "bench: peak RSS " << forwardPeakMb << " MB with " << models.size()
            << " models loaded and a forward with all taps each, " << peakRssMb()
            << " MB after the timed runs (forward+backward included); LibTorch threads " << threads
            << ", BLAS threads " << tc.blas << " [" << tc.blasName << "]\n";
  return 0;
}

namespace {
const CommandRegistrar kBench{
    {"bench",
     "bench MODEL... [--repeat N] [--methods a,b,...] [--peer] [--json]\n"
     "  Median forward and forward+backward times at batch 1 (after one warm-up), the oneDNN ISA and\n"
     "  the kernels the forward ran. --methods times one run of each saliency method per model\n"
     "  (integrated_gradients 32 steps, smoothgrad 50 samples, occlusion window 16 stride 8; tap\n"
     "  methods at the last block; batch sizes chosen from memory as everywhere). --peer runs the\n"
     "  Python torch peer (resources/bench/peer.py; convmlp_s, resnet18, resnet50, mixer_b16, and from\n"
     "  torchvision vit_base (vit_b_16), swin_tiny (swin_t), convnext_tiny) with the\n"
     "  same definitions, thread count and batch sizes, and prints both times and their ratio.\n"
     "  Environment: ONEDNN_MAX_CPU_ISA=AVX2 emulates an AVX2 CPU; FEATURESCOPE_MATMUL=onednn|blas\n"
     "  overrides the per-ISA choice of matmul kernels; FEATURESCOPE_CONV_LAYOUT=blocked|nhwc the\n"
     "  layout of convolution activations (default: blocked for batches of 2 or more).",
     {{"--repeat", "--methods"}, {"--json", "--peer"}, 1, -1},
     runBench}};
}  // namespace

}  // namespace fs::app
