#include "service/cka_service.h"

#include "analysis/cka.h"
#include "analysis/image_io.h"
#include "model/errors.h"
#include "service/slot_store.h"

namespace fs::service {

using namespace fs::analysis;

SessionCka CkaService::compute(int slotA, int slotB, const std::vector<std::string>& imagePaths,
                               const SessionProgress& progress, const std::atomic<bool>* cancel) {
  SlotStore::Slot& a = store_.slot(slotA);
  SlotStore::Slot& b = store_.slot(slotB);
  std::vector<at::Tensor> inA, inB;
  for (const std::string& path : imagePaths) {
    cv::Mat rgb;
    try {
      rgb = loadImageRgb(path);
    } catch (const fs::model::InputError&) {
      continue;  // a folder may hold unreadable files; CKA uses the readable ones
    }
    inA.push_back(preprocess(rgb, a.model.config.input).input);
    inB.push_back(preprocess(rgb, b.model.config.input).input);
  }
  if (inA.size() < 2)
    throw fs::model::InputError("CKA needs at least 2 readable images; found " + std::to_string(inA.size()));
  const CkaMatrix r = computeCka(a.model, b.model, inA, inB, progress, cancel);
  SessionCka out;
  out.slotA = slotA, out.slotB = slotB;
  out.modelA = a.info.modelId, out.modelB = b.info.modelId;
  for (const auto& t : r.tapsA) out.tapsA.push_back(t.name);
  for (const auto& t : r.tapsB) out.tapsB.push_back(t.name);
  out.cka = r.cka;
  out.images = r.images;
  out.estimator = ckaEstimatorName(r.estimator);
  out.cancelled = r.cancelled;
  return out;
}

}  // namespace fs::service
