#include "service/sanity_service.h"

#include "analysis/sanity_cascade.h"
#include "analysis/saliency/saliency_method.h"
#include "model/errors.h"
#include "service/saliency_service.h"
#include "service/slot_store.h"

#include <ATen/ATen.h>

namespace fs::service {

namespace fa = fs::analysis;

namespace {

fa::RandomisationMode modeOf(const std::string& mode) {
  fa::RandomisationMode m;
  if (!fa::parseModeName(mode, m))
    throw fs::model::InputError("sanity cascade: unknown mode '" + mode + "' (valid: cascading, independent)");
  return m;
}

}  // namespace

SanityCascadeMaps SanityService::cascade(const SanityCascadeRequest& r, const SessionProgress& progress,
                                         const std::atomic<bool>* cancel) {
  SlotStore::Slot& s = store_.slot(r.slot);
  fa::makeSaliencyMethod(r.method);  // InputError listing the methods
  if (!SaliencyService::applies(r.method, s.info))
    throw fs::model::InputError(r.method + " does not apply to " + s.info.modelId + " (it needs attention units)");
  const fa::Preprocessed& p = store_.input(s);  // InputError without an image
  fa::SanityCascadeOptions o;
  o.methods = {r.method};
  static_cast<fa::MethodParameters&>(o.saliency) = r.parameters;
  o.seed = r.seed;
  o.mode = modeOf(r.mode);
  o.progress = progress;
  o.cancel = cancel;
  const fa::SanityCascade c = fa::runSanityCascade(s.model, {p.input}, {store_.imageName()}, o);
  SanityCascadeMaps out;
  if (c.cancelled) {
    out.cancelled = true;
    return out;
  }
  out.slot = r.slot;
  out.modelId = s.info.modelId;
  out.method = r.method;
  out.mode = fa::modeName(c.mode);
  out.title = c.titles.at(0);
  out.image = store_.imageName();
  out.units = c.units;
  for (const cv::Mat& m : c.firstMaps.at(0)) out.maps.push_back(m.clone());
  out.display = fa::displaySettings(c.conventions.at(0));
  out.keys = fa::similarityKeys();
  for (const std::string& key : out.keys) {
    std::vector<double> row;
    for (size_t u = 0; u < c.units.size(); ++u) row.push_back(fa::meanSimilarity(c, 0, u, key).value);
    out.similarity.push_back(row);
  }
  out.figure = fa::sanityCascadeFigure(c, "Sanity check: " + out.mode + " randomisation, " + s.info.modelId);
  out.curves = fa::sanityCurvesFigure(c, "Similarity to the original map, " + s.info.modelId);
  return out;
}

}  // namespace fs::service
