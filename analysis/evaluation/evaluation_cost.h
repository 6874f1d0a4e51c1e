#pragma once
// The speed of an evaluate scorecard in forward-equivalents (issue 14, "Speed and scale"): how many
// model evaluations the chosen methods and metrics must make per image, how fast the model itself
// runs them in the same process, and how much time the scorecard spends beyond them.
//
// Counts (per image and method; "single" = one image per forward, "batched" = many):
//   the top-1 prediction: 1 single forward per image;
//   the map: gradient, gradxinput and the CAM methods that use gradients (gradcam, gradcampp,
//     xgradcam, hirescam, layercam): 1 single forward+backward; eigencam: 1 single forward;
//     integrated_gradients: `steps` batched forward+backward; smoothgrad: `samples`; occlusion:
//     1 single forward (the reference) + one occluded forward per window (the occlusion grid),
//     incremental where the model allows (saliency/occluded_forward.h);
//     other methods are not counted (`uncounted` names them and no figure is given);
//   deletion, insertion: steps + 1 batched forwards each (faithfulness.h); drop: 2 batched
//   (the image and the masked image); road_morf, road_lerf: 9 batched (one per fraction);
//   infidelity: 1 single + 32 batched once per image (the same for every method's map:
//     MetricMemo, metric.h); max_sensitivity: 10 maps; random_logit: 1 map; sanity:
//   (units + 1) maps; localisation and complexity metrics: none.
// The model's throughput is measured on the model's input size, images per second, for forward
// (inference mode) and forward+backward (the input gradient of one logit) at batch 1 and at a batch
// the metrics use (evaluate: the curves' batch, faithfulness.h's curveBatchSize), and occluded
// forwards (windows per second, as occlusion runs them: incremental where the model allows, at
// occlusion's own batch; the batched forward's rate where they are full forwards). evaluate measures
// before the scorecard and, when the scorecard took more than 4 times as long as that measurement,
// again after it, keeping the faster of each rate (the model's own speed on a shared machine). Model seconds = sum over the four kinds of count / rate; forward-equivalents =
// model seconds x the batched forward rate; overhead = wall / model seconds - 1.
#include "analysis/model_loader.h"
#include "analysis/saliency/saliency_method.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fs::analysis {

struct EvaluationCount {
  double singleForward = 0, batchedForward = 0, singleBackward = 0, batchedBackward = 0;  // backward = forward+backward
  double occludedForward = 0;  // occlusion's windows
  std::vector<std::string> uncounted;  // methods whose model evaluations are not modelled
  EvaluationCount& operator+=(const EvaluationCount& o);
};

// The model evaluations of one image (all methods and metrics). curveSteps: deletion/insertion.
EvaluationCount evaluationsPerImage(const LoadedModel& model, const std::vector<std::string>& methods,
                                    const std::vector<std::string>& metrics, const SaliencyOptions& saliency,
                                    int curveSteps);

struct ModelThroughput {
  int64_t batch = 1;                           // the evaluation batch
  double forwardSingle = 0, forwardBatched = 0;  // images per second
  double backwardSingle = 0, backwardBatched = 0;
  double seconds = 0;                          // the measurement's own time
  int64_t gradientBatch = 1;                   // the batch of backwardBatched
  double occludedForward = 0;                  // windows per second
};
// Each rate timed over at least `seconds` (after one warm-up call; at least one timed call) on an
// input of the model's size; batch <= 0: inferenceBatchSize. The batched forward+backward runs at
// the batch the gradient methods use, chooseBatchSize(gradientRequest, gradients) (their
// SaliencyOptions::batchSize), not at `batch`: a backward at the inference batch would hold that
// many samples' autograd graphs (6.4 GB on Mixer-B/16), and the inference batch, chosen for the
// cache, can be smaller than theirs. `occlusion`: the window, stride and batch of the occluded
// forwards; when null they are not measured (their rate is the batched forward's).
ModelThroughput measureThroughput(LoadedModel& model, int64_t batch, double seconds = 1.0, int gradientRequest = 0,
                                  const SaliencyOptions* occlusion = nullptr);
// Per rate, the median of the samples (the mean of the middle two for an even count); batch and
// gradientBatch of the first, seconds summed. InputError when there are none.
ModelThroughput medianOf(const std::vector<ModelThroughput>& samples);

struct ScorecardSpeed {
  double modelSeconds = 0;         // the time the model alone would need for the counted evaluations
  double forwardEquivalents = 0;   // modelSeconds x forwardBatched
  double perSecond = 0;            // forward-equivalents per wall second
  double overhead = 0;             // wall / modelSeconds - 1 (0.3 = 30% beyond the model's own time)
};
// images: images scored in this run (not the skipped ones); wallSeconds: their scoring time.
ScorecardSpeed scorecardSpeed(const EvaluationCount& perImage, int images, const ModelThroughput& t, double wallSeconds);

}  // namespace fs::analysis
