// bench: median forward and forward+backward latency at batch 1 and the model's input size, the
// kernels oneDNN dispatched to, and with --methods the time of saliency methods; with --peer the
// Python torch peer (resources/bench/peer.py: the same definitions and batch sizes) in the same run,
// each measurement alternating with the peer's (--rounds times; medians), so that both sides see the
// same load of a shared machine.
// forward_backward = forward with every tap kept + gradient of the top logit w.r.t. the input.
#include "analysis/string_list.h"
#include "analysis/batch_budget.h"
#include "analysis/evaluation/statistics.h"
#include "analysis/model_loader.h"
#include "analysis/resources.h"
#include "analysis/saliency/saliency_method.h"
#include "app/cli_args.h"
#include "app/cli_bench_peer.h"
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
#include <chrono>
#include <cstdio>
#include <functional>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

namespace fs::app {
namespace {

using Clock = std::chrono::steady_clock;
// The models resources/bench/peer.py defines.
const std::vector<std::string> kPeerModels{"convmlp_s", "resnet18",  "resnet50",     "mixer_b16",
                                           "vit_base",  "swin_tiny", "convnext_tiny"};
// The saliency methods it defines (its METHODS).
const std::vector<std::string> kPeerMethods{"gradcam", "scorecam", "integrated_gradients", "occlusion", "smoothgrad"};

// UsageError unless the peer defines `name` (one of `defined`, listed as `what` in the message).
void requirePeerDefines(const std::vector<std::string>& defined, const std::string& what, const std::string& name) {
  if (std::find(defined.begin(), defined.end(), name) == defined.end())
    throw fs::model::UsageError("bench --peer: the Python peer defines " + what + fs::analysis::joinList(defined) +
                                ", not " + name);
}

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
  return fs::analysis::median(t);
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

// `rounds` runs of one measurement of a model, each of ours followed by the peer's when there is
// one; every run goes into out's (and peerOut's) "runs", and the medians over the rounds are returned.
struct Rounds {
  const std::string& id;
  int rounds;
  PeerProcess* peer;
  nlohmann::json& out;
  nlohmann::json& peerOut;

  std::pair<double, double> operator()(const std::string& item, int64_t batch, const std::function<double()>& ours) const {
    std::vector<double> mine, theirs;
    for (int r = 0; r < rounds; ++r) {
      mine.push_back(ours());
      if (peer) theirs.push_back(peer->request(id, item, batch));
    }
    out[id]["runs"][item] = mine;
    if (peer) peerOut[id]["runs"][item] = theirs;
    return std::make_pair(fs::analysis::median(mine), peer ? fs::analysis::median(theirs) : 0.0);
  }
};

// The forward and forward+backward medians of `repeat` passes at batch 1 on x.
void benchPasses(fs::analysis::LoadedModel& m, const at::Tensor& x, int repeat, int threads, const Rounds& measure,
                 bool text) {
  const auto [fwd, peerFwd] = measure("forward", 1, [&] {
    return medianMs(repeat, [&] {
      c10::InferenceMode guard;
      m.net->forward(x, {});
    });
  });
  const auto taps = allTaps(m);
  const auto [fwdBwd, peerFwdBwd] = measure("forward_backward", 1, [&] {
    return medianMs(repeat, [&] {
      at::Tensor xi = x.detach().requires_grad_(true);
      auto r = m.net->forward(xi, taps);
      at::Tensor score = r.logits[0].max();
      torch::autograd::grad({score}, {xi});
    });
  });
  const std::string& id = measure.id;
  measure.out[id]["forward_ms"] = fwd, measure.out[id]["forward_backward_ms"] = fwdBwd, measure.out[id]["threads"] = threads;
  if (measure.peer)
    measure.peerOut[id]["forward_ms"] = peerFwd, measure.peerOut[id]["forward_backward_ms"] = peerFwdBwd,
    measure.peerOut[id]["threads"] = threads;
  if (text)
    std::cout << std::left << std::setw(14) << id << std::fixed << std::setprecision(1) << "forward " << fwd
              << " ms   forward+backward " << fwdBwd << " ms   (" << threads << " threads, median of "
              << repeat << (measure.rounds > 1 ? ", median of " + std::to_string(measure.rounds) + " rounds" : std::string())
              << ")\n";
}

// One model's rows: the forward and forward+backward medians at batch 1, then one run of each
// method, `rounds` times, each of ours followed by the peer's when there is one; into out (and
// peerOut) and, with `text`, on standard output.
void benchModel(fs::analysis::LoadedModel& m, const std::vector<std::string>& methods, int repeat, int rounds,
                int threads, PeerProcess* peer, bool text, nlohmann::json& out, nlohmann::json& peerOut) {
  const std::string& id = m.config.id;
  const auto& in = m.config.input;
  at::manual_seed(0);
  const at::Tensor x = at::randn({1, 3, in.height, in.width});
  const Rounds measure{id, rounds, peer, out, peerOut};
  benchPasses(m, x, repeat, threads, measure, text);
  for (const auto& name : methods) {
    auto method = fs::analysis::makeSaliencyMethod(name);
    const int64_t batch = fs::analysis::chooseBatchSize(0, !method->gradientFree(), m, in.height, in.width);
    const auto [ms, peerMs] = measure(name, batch, [&] {
      const auto t0 = Clock::now();
      method->compute(m, x, methodOptions());
      return msSince(t0);
    });
    out[id]["methods"][name] = ms;
    out[id]["batches"][name] = batch;
    if (peer) peerOut[id]["methods"][name] = peerMs;
    if (text)
      std::cout << "  " << std::left << std::setw(22) << name << std::fixed << std::setprecision(1) << ms
                << " ms (batch " << batch << ")\n";
  }
}

// The peer's table: per model the forward, forward+backward and each method, ours against the
// peer's, with the ratio featurescope / peer.
void printPeerTable(const std::vector<fs::analysis::LoadedModel>& models, const std::vector<std::string>& methods,
                    const nlohmann::json& out, const nlohmann::json& peerOut, const std::string& script, int threads,
                    int rounds) {
  std::cout << "Python peer (" << script << ", torch, " << threads << " threads"
            << (rounds > 1 ? ", " + std::to_string(rounds) + " rounds alternating with ours, medians" : std::string())
            << "), ratio = featurescope / peer:\n";
  for (const auto& m : models) {
    const auto& id = m.config.id;
    const auto row = [&](const std::string& what, double fs, double py) {
      std::cout << "  " << std::left << std::setw(14) << id << std::setw(22) << what << std::fixed
                << std::setprecision(1) << std::right << std::setw(10) << fs << " ms " << std::setw(10) << py
                << " ms   ratio " << std::setprecision(2) << fs / py << "\n";
    };
    row("forward", out[id]["forward_ms"], peerOut[id]["forward_ms"]);
    row("forward+backward", out[id]["forward_backward_ms"], peerOut[id]["forward_backward_ms"]);
    for (const auto& name : methods) row(name, out[id]["methods"][name], peerOut[id]["methods"][name]);
  }
}

// The models to time, all loaded at once (the peak RSS figures), after refusing an unknown method
// and, with --peer, a model or method the peer script does not define.
std::vector<fs::analysis::LoadedModel> loadBenchModels(const Args& a, const std::vector<std::string>& methods) {
  for (const auto& m : methods) {
    fs::analysis::makeSaliencyMethod(m);  // unknown names: InputError
    if (a.has("--peer")) requirePeerDefines(kPeerMethods, "the methods ", m);
  }
  std::vector<fs::analysis::LoadedModel> models;
  for (const auto& id : a.positional) models.push_back(fs::analysis::loadModel(id, "", 0));
  for (const auto& m : models)
    if (a.has("--peer")) requirePeerDefines(kPeerModels, "", m.config.id);
  return models;
}

// The peer process (python3 and the bench script, serving the models' ids), or none without --peer.
std::unique_ptr<PeerProcess> startPeer(const Args& a, const std::vector<fs::analysis::LoadedModel>& models,
                                       const std::string& script, int threads, int repeat) {
  if (!a.has("--peer")) return nullptr;
  std::string ids;
  for (const auto& m : models) ids += (ids.empty() ? "" : ",") + m.config.id;
  return std::make_unique<PeerProcess>(std::vector<std::string>{
      "/usr/bin/python3", script, std::to_string(threads), std::to_string(repeat), "--models", ids, "--serve"});
}

}  // namespace

int runBench(const Args& a) {
  const int repeat = a.intValue("--repeat", 10, 1, 10000);
  const int rounds = a.intValue("--rounds", 1, 1, 1000);
  const auto methods = splitList(a.value("--methods"));
  const fs::model::ThreadConfig tc = fs::model::currentThreads();
  const int threads = tc.intraOp;
  std::vector<fs::analysis::LoadedModel> models = loadBenchModels(a, methods);
  // Peak RSS with every model loaded and one forward with all taps each (as the feature view does).
  fs::model::resetKernelUses();
  for (auto& m : models) {
    c10::InferenceMode guard;
    m.net->forward(at::randn({1, 3, m.config.input.height, m.config.input.width}), allTaps(m));
  }
  const long forwardPeakMb = peakRssMb();
  const std::string kernels = kernelSummary();
  const std::string script = fs::analysis::resourceDir() + "/bench/peer.py";
  std::unique_ptr<PeerProcess> peer = startPeer(a, models, script, threads, repeat);
  nlohmann::json out = nlohmann::json::object();
  nlohmann::json peerOut = nlohmann::json::object();
  const bool text = !a.has("--json");
  if (text)
    std::cout << "oneDNN ISA " << fs::model::onednnIsa() << ", matmuls on "
              << fs::model::backendName(fs::model::matmulBackend()) << "; forward kernels: " << kernels << "\n";
  for (auto& m : models) benchModel(m, methods, repeat, rounds, threads, peer.get(), text, out, peerOut);
  out["_kernels"] = {{"isa", fs::model::onednnIsa()},
                     {"matmul", fs::model::backendName(fs::model::matmulBackend())},
                     {"forward", kernels}};
  out["_rounds"] = rounds;
  if (peer) {
    peer.reset();  // the peer exits
    out["_peer"] = peerOut;
    if (text) printPeerTable(models, methods, out, peerOut, script, threads, rounds);
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
     "bench MODEL... [--repeat N] [--rounds R] [--methods a,b,...] [--peer] [--json]\n"
     "  Median forward and forward+backward times at batch 1 (after one warm-up), the oneDNN ISA and\n"
     "  the kernels the forward ran. --methods times one run of each saliency method per model and round\n"
     "  (integrated_gradients 32 steps, smoothgrad 50 samples, occlusion window 16 stride 8; tap\n"
     "  methods at the last block; batch sizes chosen from memory and cache as everywhere). --peer runs the\n"
     "  Python torch peer (resources/bench/peer.py; convmlp_s, resnet18, resnet50, mixer_b16, and from\n"
     "  torchvision vit_base (vit_b_16), swin_tiny (swin_t), convnext_tiny; the methods gradcam,\n"
     "  scorecam, integrated_gradients, occlusion and smoothgrad) with the\n"
     "  same definitions, thread count and batch sizes, and prints both times and their ratio. Each\n"
     "  measurement (the forward's median of N, the forward+backward's, one run of a method) runs\n"
     "  --rounds times (default 1), each time followed by the peer's, and the medians over the\n"
     "  rounds are reported (every run in the JSON's \"runs\"): on a shared machine both sides see the\n"
     "  same load, and --rounds 3 or more keeps one slow moment from deciding a ratio.\n"
     "  Environment: ONEDNN_MAX_CPU_ISA=AVX2 emulates an AVX2 CPU; FEATURESCOPE_MATMUL=onednn|blas\n"
     "  overrides the per-ISA choice of matmul kernels; FEATURESCOPE_MATMUL_WEIGHTS=plain|blocked\n"
     "  whether linear layers read their weights as stored or from a copy in brgemm's blocked layout\n"
     "  (default: blocked for weights of at most 256 Ki values, on AVX-512);\n"
     "  FEATURESCOPE_CONV_LAYOUT=blocked|nhwc the layout of convolution activations (default: blocked\n"
     "  for batches of 2 or more); FEATURESCOPE_BATCH_RULE=memory sizes inference batches by memory\n"
     "  alone (the largest block under 32 MiB) instead of also keeping it within 3 MiB (at least 8\n"
     "  samples; =cache, the default); other values are refused.",
     {{"--repeat", "--rounds", "--methods"}, {"--json", "--peer"}, 1, -1},
     runBench}};
}  // namespace

}  // namespace fs::app
