#pragma once
// The Evaluate view's scorecard (issue 14): saliency methods x metrics for the models in chosen
// slots over the Fashion-MNIST test set (first N images) or a folder, through the same
// analysis::runScorecard as `featurescope-cli evaluate` (one truth: the same settings give the same
// means, CIs, ranks and agreement). Per image progress; a cancelled run stops after the image each
// worker is on. Returns per model x method the statistics of every scalar metric and the per-image values,
// so the view can list the images where a method did worst. Two workers score the shards of a
// model's images at once (the same records as one; EvaluationRequest::workers). Torch-free header.
#include "analysis/saliency/method_parameters.h"
#include "service/types.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace fs::service {

class SlotStore;

struct EvaluationRequest {
  std::vector<int> slots;            // loaded slots, in report order
  std::vector<std::string> methods;  // saliency methods; each model uses those that apply to it
  std::vector<std::string> metrics;  // EvaluationService::metricNames()
  std::string imagesDir;             // a folder (NAME.mask.png beside NAME.png: its mask); empty: Fashion-MNIST
  std::string dataDir;               // the Fashion-MNIST folder (empty: the default one)
  int limit = 100;                   // the first N images (0: all)
  int curveSteps = 50;               // evaluate --curve-steps
  std::string substrate = "rise";    // evaluate --substrate: rise (RISE's: deletion to black, insertion
                                     // from a blur) or one for both curves: black, zero (alias mean), blur
  uint64_t seed = 0;                 // evaluate --seed: bootstrap, noise of the robustness metrics
  fs::analysis::MethodParameters parameters;  // the methods' parameters (evaluate's saliency options)
  std::string outDir;                // keep the scorecard files here (scorecard.slotN.ID.json and its CSVs); empty: none
  int workers = 0;                   // threads scoring a model's images at once, each a shard with its own
                                     // copy of the model; 0: one per intra-op thread, at most two
};

struct MetricStatistic {
  int n = 0;
  double mean = 0.0, ciLow = 0.0, ciHigh = 0.0;  // bootstrap 95% CI of the mean
  double rank = 0.0;                             // 1 = best among the model's methods (ties averaged)
};

// One image's record: the scalar of every method x key (NaN where absent).
struct EvaluationImage {
  std::string name;    // the file path, or "test-00042" for a Fashion-MNIST test image
  int index = 0;       // position in the sorted folder or the test set
  int testIndex = -1;  // the Fashion-MNIST test index, or -1 for a folder image
  int target = 0;      // the explained class (top-1 prediction)
  std::vector<std::vector<double>> values;  // [method][key]
};

struct ModelScorecard {
  int slot = 0;
  std::string modelId;
  std::vector<std::string> methods;  // those that apply, in request order
  std::vector<std::string> skipped;  // requested methods that do not apply to this model
  std::vector<std::string> keys;     // the scalar metric keys (deletion_auc, insertion_auc, drop, increase, ...)
  std::vector<bool> higherIsBetter;  // [key]
  std::vector<std::vector<MetricStatistic>> stats;  // [method][key]
  std::vector<std::vector<double>> agreement;       // [key][key] Kendall's tau-b; NaN: fewer than two methods
  std::vector<EvaluationImage> images;              // done images, in image order
  int done = 0, failed = 0;
  std::string scorecardPath;  // with outDir: the scorecard JSON written
};

struct EvaluationResult {
  std::vector<ModelScorecard> models;
  std::string source;  // "Fashion-MNIST test set (first 100)" or the folder
  bool cancelled = false;
};

class EvaluationService {
 public:
  explicit EvaluationService(SlotStore& store) : store_(store) {}
  // InputError for an empty or unknown method or metric list, an empty slot, no images.
  EvaluationResult run(const EvaluationRequest& request, const SessionProgress& progress = {},
                       const std::atomic<bool>* cancel = nullptr);

  // The metrics a scorecard table can show (one or more scalars per image): drop, then the
  // registered ones (analysis/evaluation/metric.h; deletion, insertion, ...).
  static std::vector<std::string> metricNames();
  static std::string metricTitle(const std::string& metric);  // e.g. "Pointing game"

 private:
  SlotStore& store_;
};

// The images where `method` did worst on `key` (lowest values first when higher is better, else
// highest), at most `count`; images without a finite value are left out. Indices into m.images.
std::vector<size_t> worstImages(const ModelScorecard& m, size_t method, size_t key, size_t count);

// A scorecard's files, NAME.json (ModelScorecard::scorecardPath) and NAME.rows.csv, NAME.summary.csv
// and NAME.agreement.csv beside it, copied to DEST.json, DEST.rows.csv, ... (destStem = DEST);
// each written atomically. Returns the files written, DEST.json first. InputError naming the file
// that cannot be read or written, after removing the ones this call wrote.
std::vector<std::string> copyScorecardFiles(const std::string& scorecardPath, const std::string& destStem);

}  // namespace fs::service
