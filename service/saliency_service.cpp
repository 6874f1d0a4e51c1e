#include "service/saliency_service.h"

#include "analysis/faithfulness.h"
#include "analysis/saliency/attention_rollout.h"
#include "analysis/saliency/displayed_map.h"
#include "analysis/saliency/saliency_method.h"
#include "model/errors.h"
#include "service/slot_store.h"

#include <chrono>

namespace fs::service {

using namespace fs::analysis;

namespace {
// The Saliency view's metrics of `ranked` for out.target: the deletion and insertion curves
// (RISE's substrates, `steps` chunks) and the drop in confidence; `halfway` after the deletion curve.
void addCurves(SaliencyMapResult& out, LoadedModel& model, const at::Tensor& input, const at::Tensor& ranked,
               int steps, const std::function<void()>& halfway) {
  CurveOptions co;
  co.steps = steps;
  const Curve del = deletionCurve(model, input, ranked, out.target, co);
  halfway();
  const Curve ins = insertionCurve(model, input, ranked, out.target, co);
  out.deletion = {del.fractions, del.probs, del.auc};
  out.insertion = {ins.fractions, ins.probs, ins.auc};
  out.hasCurves = true;
  const ConfidenceChange cc = confidenceChange(model, input, ranked, out.target, Baseline::Zero);
  out.confidenceOriginal = cc.original, out.confidenceMasked = cc.masked, out.confidenceDrop = cc.drop;
}
}  // namespace

SaliencyMapResult SaliencyService::compute(int slot, const SaliencyParams& params, const SessionProgress& progress,
                                           const std::atomic<bool>* cancel) {
  SlotStore::Slot& s = store_.slot(slot);
  const Preprocessed& p = store_.input(s);
  auto method = makeSaliencyMethod(params.method);
  SaliencyOptions o;
  static_cast<MethodParameters&>(o) = params;
  o.target = params.target >= 0 ? params.target : store_.topClass(s);
  if (o.target >= static_cast<int>(s.info.labels.size()))
    throw fs::model::InputError("class " + std::to_string(o.target) + " does not exist for " + s.info.modelId);
  o.tap = params.tap;  // empty: the model's CAM tap (resolveTap)
  const auto t0 = std::chrono::steady_clock::now();
  const double curveShare = params.curves ? 0.3 : 0.0;
  ProgressFn inner = [&](double f) {
    if (progress) progress(f * (1.0 - curveShare));
  };
  SaliencyResult r = method->compute(s.model, p.input, o, inner, cancel);
  SaliencyMapResult out;
  out.slot = slot;
  out.method = params.method;
  out.tap = r.tap;
  out.target = r.target;
  out.targetLabel = s.info.labels.at(static_cast<size_t>(r.target));
  out.caveat = r.caveat;
  out.display = displaySettings(method->convention());
  out.crop = toSessionCrop(p.crop);
  if (!r.map.defined() || (cancel && cancel->load())) {
    out.cancelled = true;
    return out;
  }
  out.map = saliencyMapToMat(r.map2d).clone();
  if (params.curves) {  // the metrics rank pixels by the map that is displayed (displayed_map.h)
    addCurves(out, s.model, p.input, displayedMap(r.map2d, method->convention().sign), params.curveSteps, [&] {
      if (progress) progress(1.0 - curveShare / 2);
    });
  }
  out.elapsedMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (progress) progress(1.0);
  return out;
}

std::vector<std::string> SaliencyService::methodNames() { return saliencyMethodNames(); }

bool SaliencyService::applies(const std::string& method, const SlotInfo& info) {
  return !needsAttentionUnits(method) || !info.attentionUnits.empty();
}

std::string SaliencyService::methodTitle(const std::string& method) { return makeSaliencyMethod(method)->title(); }

std::vector<std::string> SaliencyService::integratedGradientsBaselines() {
  return fs::analysis::integratedGradientsBaselines();
}

}  // namespace fs::service
