#pragma once
// Everything the GUI's worker thread owns: the shared slot state and one focused service per
// kind of job (model slots, the image, features, saliency, CKA, exports, the test set). Created,
// used and destroyed on one thread (ui/worker.h). Torch-free header.
#include "service/attention_service.h"
#include "service/cka_service.h"
#include "service/evaluation_service.h"
#include "service/export_service.h"
#include "service/feature_service.h"
#include "service/feature_vis_service.h"
#include "service/image_source.h"
#include "service/model_slots.h"
#include "service/saliency_service.h"
#include "service/sanity_service.h"
#include "service/test_set.h"

#include <memory>

namespace fs::service {

class Session {
 public:
  Session();
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  ModelSlots& slots() { return slots_; }
  ImageSource& images() { return images_; }
  FeatureService& features() { return features_; }
  SaliencyService& saliency() { return saliency_; }
  CkaService& cka() { return cka_; }
  ExportService& exports() { return exports_; }
  TestSetService& testSet() { return testSet_; }
  AttentionService& attention() { return attention_; }
  EvaluationService& evaluation() { return evaluation_; }
  SanityService& sanity() { return sanity_; }
  FeatureVisService& featureVis() { return featureVis_; }

 private:
  std::unique_ptr<SlotStore> store_;
  ModelSlots slots_;
  ImageSource images_;
  FeatureService features_;
  SaliencyService saliency_;
  CkaService cka_;
  ExportService exports_;
  TestSetService testSet_;
  AttentionService attention_;
  EvaluationService evaluation_;
  SanityService sanity_;
  FeatureVisService featureVis_;
};

}  // namespace fs::service
