// Model evaluations of a scorecard, the model's own throughput and the overhead beyond it.
#include "analysis/evaluation/evaluation_cost.h"

#include "analysis/batch_budget.h"
#include "analysis/evaluation/robustness.h"
#include "analysis/evaluation/statistics.h"
#include "analysis/faithfulness.h"
#include "analysis/saliency/occluded_forward.h"
#include "analysis/saliency/saliency_method.h"
#include "analysis/string_list.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>
#include <chrono>
#include <utility>

namespace fs::analysis {
namespace {

// One map of `method` on an image of the model's size; false when the method is not modelled.
bool mapCount(const std::string& method, const LoadedModel& model, const SaliencyOptions& o, EvaluationCount& c) {
  static const std::vector<std::string> oneGradient{"gradient", "gradxinput", "gradcam", "gradcampp",
                                                    "xgradcam", "hirescam", "layercam"};
  if (listHas(oneGradient, method)) return c.singleBackward += 1, true;
  if (method == "eigencam") return c.singleForward += 1, true;
  if (method == "integrated_gradients") return c.batchedBackward += o.steps, true;
  if (method == "smoothgrad") return c.batchedBackward += o.samples, true;
  if (method == "occlusion") {
    c.singleForward += 1;
    c.occludedForward +=
        double(occlusionWindows(model.config.input.height, model.config.input.width, o.window, o.stride).size());
    return true;
  }
  return false;
}

EvaluationCount scaled(const EvaluationCount& c, double k) {
  EvaluationCount out = c;
  out.singleForward *= k, out.batchedForward *= k, out.singleBackward *= k, out.batchedBackward *= k;
  out.occludedForward *= k;
  return out;
}

// Images per second of `run` on a batch of `batch`, over at least `seconds`.
template <class F>
double rate(int64_t batch, double seconds, F run) {
  run();  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  int64_t calls = 0;
  double elapsed = 0;
  do {
    run();
    ++calls;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } while (elapsed < seconds);
  return double(calls * batch) / elapsed;
}

}  // namespace

EvaluationCount& EvaluationCount::operator+=(const EvaluationCount& o) {
  singleForward += o.singleForward, batchedForward += o.batchedForward;
  singleBackward += o.singleBackward, batchedBackward += o.batchedBackward;
  occludedForward += o.occludedForward;
  for (const auto& m : o.uncounted)
    if (!listHas(uncounted, m)) uncounted.push_back(m);
  return *this;
}

EvaluationCount evaluationsPerImage(const LoadedModel& model, const std::vector<std::string>& methods,
                                    const std::vector<std::string>& metrics, const SaliencyOptions& saliency,
                                    int curveSteps) {
  EvaluationCount total;
  total.singleForward = 1;  // the top-1 prediction
  const double units = double(randomisationOrder(model).size());
  const double sensitivitySamples = SensitivityOptions{}.samples;
  bool sharedPass = false;
  for (const std::string& method : methods) {
    EvaluationCount map;
    if (!mapCount(method, model, saliency, map)) {
      total.uncounted.push_back(method);
      continue;
    }
    double maps = 1;  // the displayed map
    // Max-sensitivity's re-explanations: a method that reads one gradient pass takes them from the
    // image's one batched pass over the perturbed inputs (saliency/gradient_pass.h), counted below.
    const bool readsPass = makeSaliencyMethod(method)->passUse() != PassUse::None;
    if (listHas(metrics, "max_sensitivity")) {
      if (readsPass) sharedPass = true;
      else maps += sensitivitySamples;
    }
    if (listHas(metrics, "random_logit")) maps += 1;
    if (listHas(metrics, "sanity")) maps += units + 1;
    total += scaled(map, maps);
    for (const char* curve : {"deletion", "insertion"})
      if (listHas(metrics, curve)) total.batchedForward += curveSteps + 1;
    if (listHas(metrics, "drop")) total.batchedForward += 2;
    for (const char* road : {"road_morf", "road_lerf"})
      if (listHas(metrics, road)) total.batchedForward += 9;
  }
  if (sharedPass) total.batchedBackward += sensitivitySamples;
  // Infidelity's model differences depend on the image, not the map: once per image (MetricMemo).
  if (listHas(metrics, "infidelity") && !methods.empty()) total.singleForward += 1, total.batchedForward += 32;
  return total;
}

ModelThroughput measureThroughput(LoadedModel& model, int64_t batch, double seconds, int gradientRequest,
                                  const SaliencyOptions* occlusion) {
  const int64_t h = model.config.input.height, w = model.config.input.width;
  ModelThroughput t;
  t.batch = batch > 0 ? batch : std::max<int64_t>(1, inferenceBatchSize(model, h, w));
  at::Generator gen = at::detail::createCPUGenerator(0);
  t.gradientBatch = chooseBatchSize(gradientRequest, /*gradients=*/true, model, h, w);
  const at::Tensor batched = at::randn({std::max(t.batch, t.gradientBatch), 3, h, w}, gen, at::kFloat);
  const at::Tensor single = batched.narrow(0, 0, 1).contiguous();
  const at::Tensor forwardBatched = batched.narrow(0, 0, t.batch).contiguous();
  const at::Tensor gradientBatched = batched.narrow(0, 0, t.gradientBatch).contiguous();
  const auto forward = [&](const at::Tensor& x) {
    c10::InferenceMode guard;
    model.net->forward(x, {});
  };
  const auto backward = [&](const at::Tensor& x) {
    const at::Tensor in = x.detach().clone().requires_grad_(true);
    const at::Tensor logit = model.net->forward(in, {}).logits.select(1, 0).sum();
    torch::autograd::grad({logit}, {in});
  };
  const auto t0 = std::chrono::steady_clock::now();
  t.forwardSingle = rate(1, seconds, [&] { forward(single); });
  t.forwardBatched = rate(t.batch, seconds, [&] { forward(forwardBatched); });
  t.backwardSingle = rate(1, seconds, [&] { backward(single); });
  t.backwardBatched = rate(t.gradientBatch, seconds, [&] { backward(gradientBatched); });
  t.occludedForward = t.forwardBatched;
  if (occlusion) {
    const std::vector<OcclusionWindow> windows = occlusionWindows(h, w, occlusion->window, occlusion->stride);
    const int64_t windowBatch =
        balancedBatchFor(int64_t(windows.size()), occlusion->batchSize, /*gradients=*/false, model, h, w);
    OccludedForward occluded(*model.net, single, windows, windowBatch);
    if (occluded.incremental()) t.occludedForward = rate(windowBatch, seconds, [&] { occluded.logits(0, windowBatch); });
  }
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return t;
}

ModelThroughput medianOf(const std::vector<ModelThroughput>& samples) {
  if (samples.empty()) throw fs::model::InputError("throughput: no samples");
  const auto medianRate = [&](double ModelThroughput::*rate) {
    std::vector<double> v;
    for (const ModelThroughput& t : samples) v.push_back(t.*rate);
    return median(std::move(v));
  };
  ModelThroughput t = samples.front();
  t.forwardSingle = medianRate(&ModelThroughput::forwardSingle);
  t.forwardBatched = medianRate(&ModelThroughput::forwardBatched);
  t.backwardSingle = medianRate(&ModelThroughput::backwardSingle);
  t.backwardBatched = medianRate(&ModelThroughput::backwardBatched);
  t.occludedForward = medianRate(&ModelThroughput::occludedForward);
  t.seconds = 0;
  for (const ModelThroughput& x : samples) t.seconds += x.seconds;
  return t;
}

ScorecardSpeed scorecardSpeed(const EvaluationCount& c, int images, const ModelThroughput& t, double wallSeconds) {
  ScorecardSpeed s;
  s.modelSeconds = double(images) * (c.singleForward / t.forwardSingle + c.batchedForward / t.forwardBatched +
                                     c.singleBackward / t.backwardSingle + c.batchedBackward / t.backwardBatched +
                                     c.occludedForward / (t.occludedForward > 0 ? t.occludedForward : t.forwardBatched));
  s.forwardEquivalents = s.modelSeconds * t.forwardBatched;
  s.perSecond = wallSeconds > 0 ? s.forwardEquivalents / wallSeconds : 0.0;
  s.overhead = s.modelSeconds > 0 ? wallSeconds / s.modelSeconds - 1.0 : 0.0;
  return s;
}

}  // namespace fs::analysis
