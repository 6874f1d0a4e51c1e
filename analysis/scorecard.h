#pragma once
// Scorecard (featurescope-cli evaluate --images): faithfulness and sanity metrics of saliency
// methods for every image of a folder, one record per image, and their means. Shardable (--shard
// K/N takes the images i with i % N == K-1), resumable (the record file is written atomically every
// saveInterval seconds and at the end; images recorded as done are skipped, any other is scored again), and the
// means are computed from the records in image order, so merged shards give the same bits as one
// run. Runs on the calling thread, which owns the model.
#include "analysis/faithfulness.h"
#include "analysis/model_loader.h"
#include "analysis/run_record.h"
#include "analysis/saliency/saliency_method.h"

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace fs::analysis {

struct ScorecardOptions {
  std::string imagesDir;             // a folder of images (NAME.mask.png beside NAME.png: its mask), or
  std::string dataset;               // "fashion-mnist": its test set, the silhouettes as masks
  std::string dataDir;               // the dataset's folder (empty: defaultFashionMnistDir())
  std::vector<std::string> methods;  // saliency method names, in report order
  // deletion, insertion, drop, sanity and any registered metric (analysis/evaluation/metric.h);
  // every metric ranks the displayed map (SaliencyResult::map2d).
  std::vector<std::string> metrics;
  CurveOptions curve;
  // The saliency methods' parameters (app/cli_input.h saliencyOptionsFromArgs: --steps, --param,
  // --tap, ...); recorded in the header as "method_parameters". The target is set per image (top-1).
  SaliencyOptions saliency;
  uint64_t seed = 0;                 // the randomisation of the sanity metric
  ShardSpec shard;
  int limit = 0;                     // first N image files of the sorted folder (before sharding); 0 = all
  std::string outPath;               // the record file (shardFileName of it with N > 1); empty: none
  double saveInterval = 5.0;         // seconds between saves of the record file (forEachInShard)
  std::function<void(const std::string&)> log;  // one progress line per image
  // Called after each image of the shard (after its log line, outside its timing): the CLI samples
  // the model's own throughput here during a run (app/cli_evaluate.cpp).
  std::function<void()> afterImage;
};

struct ScorecardSummary {
  int images = 0;     // images in this shard
  int done = 0;
  int skipped = 0;    // recorded as done by an earlier run
  int failed = 0;
  std::string path;   // the record file written, or ""
  std::string aggregate;  // JSON text: {"images": done images, "methods": [{"method", "deletion_auc", ...}],
                          // "statistics": scorecardStatistics (mean, CI, rank, agreement)}
  std::vector<std::string> tables;  // the CSV files written (rows, summary, agreement), single runs only
  std::map<std::string, double> secondsByStep;  // wall seconds per step over this run's images: "explain"
                                                // (the methods' maps) and each metric's name
};

// Validates the methods and metrics (InputError) and scores the shard's images. Unreadable images
// and bad masks are recorded as failed with the reason (naming the file). With outPath and one
// shard, the CSV tables go beside it: NAME.rows.csv, NAME.summary.csv, NAME.agreement.csv. InputError if the folder has no images, outPath holds the record of a
// run with other options, or no image of the shard could be read (the record is written first).
ScorecardSummary runScorecard(LoadedModel& model, const ScorecardOptions& options);

// The images a run with these options scores, all shards together (after `limit`); InputError as
// runScorecard's for an unknown dataset or a folder without images.
size_t scorecardImageCount(const ScorecardOptions& options);

// The CSV tables beside a scorecard NAME.json: NAME.rows.csv, NAME.summary.csv, NAME.agreement.csv.
inline constexpr std::array<const char*, 3> kScorecardTableSuffixes{".rows.csv", ".summary.csv", ".agreement.csv"};

// NAME.rows.csv, NAME.summary.csv and NAME.agreement.csv beside the scorecard NAME.json
// (`jsonPath`) from its records (image name as quoted JSON -> record JSON text, any order; the done
// ones are written, in image order) and its aggregate JSON text (scorecardAggregate). Used by
// runScorecard and by merge, so merged shards write the same tables as one run. Returns the paths.
std::vector<std::string> writeScorecardTables(const std::string& jsonPath, const std::vector<std::string>& methods,
                                              const std::map<std::string, std::string>& records,
                                              const std::string& aggregate);

// The means over a scorecard's done records: `header` is the record file's JSON text (its "methods"
// and "metrics" are read) and `entries` the JSON texts of its records, in any order; sums run in
// image-index order. Returns the "aggregate" JSON text. Used by runScorecard and by merge.
std::string scorecardAggregate(const std::string& header, const std::vector<std::string>& entries);

}  // namespace fs::analysis
