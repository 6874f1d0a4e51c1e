#pragma once
// Private to fs_service (LibTorch inside, through the loaded model): how EvaluationService::run
// scores one model's images, by one worker or by several threads each with a shard of the images
// and its own copy of the model, as `featurescope-cli evaluate --jobs` does with processes. Not
// included by any public service header.
#include "analysis/model_loader.h"
#include "analysis/scorecard.h"
#include "service/evaluation_service.h"

#include <atomic>
#include <functional>
#include <string>

namespace fs::service::evaluation {

// Thrown from a scorecard's log callback when the run is cancelled.
struct Cancelled {};

struct ModelRun {
  int done = 0, failed = 0;
  std::string path, aggregate;  // the scorecard file and its aggregate JSON text
};

// The workers that score one model's images at once: the request's, else one per intra-op
// thread up to two (measured on two cores: README "Two jobs on two cores"), never more than the
// images.
int workerCount(const EvaluationRequest& r, const fs::analysis::ScorecardOptions& o);

// One model's scorecard into o.outPath by `workers` workers; `fraction` gets the images done in
// all shards (0-1), from the workers' threads; Cancelled when `cancel` is set.
ModelRun scoreModel(fs::analysis::LoadedModel& model, const fs::analysis::ScorecardOptions& o, int workers,
                    const std::function<void(double)>& fraction, const std::atomic<bool>* cancel);

}  // namespace fs::service::evaluation
