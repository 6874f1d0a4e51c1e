// One method's maps and metrics on one image (analysis/scorecard_scoring.h).
#include "analysis/scorecard_scoring.h"

#include "analysis/evaluation/sanity.h"
#include "analysis/inference.h"
#include "analysis/saliency/displayed_map.h"
#include "analysis/saliency/gradient_pass.h"
#include "analysis/saliency/saliency_base.h"
#include "analysis/string_list.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cmath>
#include <memory>

namespace fs::analysis::scoring {
using nlohmann::json;

namespace {

// The four similarities of Adebayo et al. (null where a map is too small for SSIM or HOG).
json similarityJson(const SimilarityScores& s) {
  const auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  return {{"spearman", num(s.spearman)}, {"spearman_abs", num(s.spearmanAbs)}, {"ssim", num(s.ssim)}, {"hog", num(s.hog)}};
}

// The random-logit test and the sanity cascade of one method on one image, into r; each lapped.
// Sanity checks compare maps at the input size, as displayed (SSIM and HOG need the pixels).
template <class Lap>
void scoreSanity(LoadedModel& m, const ScoredImage& img, int target, SaliencyMethod& method, const ScorecardOptions& o,
                 const SaliencyOptions& opts, json& r, const Lap& lap) {
  const at::Tensor& x = img.input;
  const int64_t h = x.size(2), w = x.size(3);
  if (listHas(o.metrics, "random_logit")) {
    const auto mapFor = [&](int c) {
      SaliencyOptions oc = opts;
      oc.target = c;
      return mapToSize(method.compute(m, x, oc).map2d, h, w);
    };
    const RandomLogitResult rl = randomLogitTest(mapFor, target, m.config.numClasses, o.seed + img.index);
    r["random_logit"] = similarityJson(rl.similarity);
    r["random_logit"]["other"] = rl.other;
    lap("random_logit");
  }
  if (!listHas(o.metrics, "sanity")) return;
  const auto mapOf = [&](LoadedModel& mm) { return mapToSize(method.compute(mm, x, opts).map2d, h, w); };
  json steps = json::array();
  for (const auto& s : modelRandomisation(m, mapOf, RandomisationMode::Cascading, o.seed).steps) {
    steps.push_back(similarityJson(s.similarity));
    steps.back()["layer"] = s.unit;
  }
  r["sanity"] = steps;
  lap("sanity");
}

// The displayed maps [S,h,w] of `method` for inputs ys [S,3,H,W] (max-sensitivity): from the image's
// gradient pass over ys when the method reads one, else compute() on each input.
at::Tensor reExplain(LoadedModel& m, SaliencyMethod& method, const SaliencyOptions& opts, const PassPlan& plan,
                     MetricMemo& memo, const at::Tensor& ys) {
  if (method.passUse() == PassUse::None) return mapsByCompute(m, method, opts, ys);
  const std::string key = "gradient passes tap " + plan.tap + " input " + std::to_string(plan.inputGradient) +
                          " batch " + std::to_string(opts.batchSize);
  const auto cache = memo.get<std::shared_ptr<GradientPassCache>>(
      key, [&] { return std::make_shared<GradientPassCache>(plan.tap, plan.inputGradient, opts.batchSize); });
  return mapsFromPass(method, cache->get(m, ys, opts.target));
}

}  // namespace

at::Tensor mapsByCompute(LoadedModel& m, SaliencyMethod& method, const SaliencyOptions& opts, const at::Tensor& ys) {
  const SignMode sign = method.convention().sign;
  std::vector<at::Tensor> maps;
  for (int64_t s = 0; s < ys.size(0); ++s)
    maps.push_back(displayedMap(method.compute(m, ys.narrow(0, s, 1), opts).map2d, sign));
  return at::stack(maps);
}

at::Tensor mapsFromPass(const SaliencyMethod& method, const GradientPass& pass) {
  const SignMode sign = method.convention().sign;
  std::vector<at::Tensor> maps;
  for (int64_t s = 0; s < pass.inputs.size(0); ++s) maps.push_back(displayedMap(method.mapFromPass(pass, s), sign));
  return at::stack(maps);
}

PassPlan passPlan(const LoadedModel& m, const std::vector<std::unique_ptr<SaliencyMethod>>& methods,
                  const SaliencyOptions& o) {
  PassPlan plan;
  for (const auto& method : methods) {
    if (method->passUse() == PassUse::Tap && plan.tap.empty()) plan.tap = resolveTap(m, o.tap);
    plan.inputGradient = plan.inputGradient || method->passUse() == PassUse::Input;
  }
  return plan;
}

json scoreMethod(LoadedModel& m, const ScoredImage& img, int target, SaliencyMethod& method,
                 const ScorecardOptions& o, const PassPlan& plan, MetricMemo& memo,
                 std::map<std::string, double>& seconds) {
  auto clock = std::chrono::steady_clock::now();
  const auto lap = [&](const std::string& step) {
    const auto now = std::chrono::steady_clock::now();
    seconds[step] += std::chrono::duration<double>(now - clock).count();
    clock = now;
  };
  const at::Tensor& x = img.input;
  SaliencyOptions opts = o.saliency;
  opts.target = target;
  // Every metric ranks the map as it is displayed (the convention's sign step: ReLU for CAMs).
  const SignMode sign = method.convention().sign;
  const at::Tensor map = displayedMap(method.compute(m, x, opts).map2d, sign);
  lap("explain");
  json r = json::object();
  if (listHas(o.metrics, "deletion")) {
    r["deletion_auc"] = deletionCurve(m, x, map, target, o.curve).auc;
    lap("deletion");
  }
  if (listHas(o.metrics, "insertion")) {
    r["insertion_auc"] = insertionCurve(m, x, map, target, o.curve).auc;
    lap("insertion");
  }
  if (listHas(o.metrics, "drop")) {
    const ConfidenceChange c = confidenceChange(m, x, map, target);
    r["drop"] = c.drop;
    r["increase"] = c.increase;
    lap("drop");
  }
  MetricInput in;
  in.model = &m, in.input = x, in.map2d = map, in.target = target, in.mask = img.mask;
  in.explain = [&](const at::Tensor& ys) { return reExplain(m, method, opts, plan, memo, ys); };
  in.seed = o.seed + img.index, in.batchSize = o.curve.batchSize, in.memo = &memo;
  for (const std::string& name : o.metrics)
    if (!legacyMetric(name)) {
      r[name] = makeMetric(name)->compute(in);
      lap(name);
    }
  scoreSanity(m, img, target, method, o, opts, r, lap);
  return r;
}

}  // namespace fs::analysis::scoring
