#pragma once
// Batch export (featurescope-cli export): for every image of a folder and every model, the
// feature maps of the chosen taps (float32 NCHW NPY) and saliency maps (raw NPY + PNG overlay)
// under OUT/<image>/<model>/, plus a manifest. Restartable, shardable (--shard K/N), every file
// written atomically. Runs on the calling thread, which owns the models.
#include "analysis/model_loader.h"
#include "analysis/model_spec.h"
#include "analysis/run_record.h"
#include "analysis/saliency/saliency_method.h"

#include <functional>
#include <string>
#include <vector>

namespace fs::analysis {

struct ExportOptions {
  std::string imagesDir;
  std::string outDir;
  std::vector<std::string> methods;       // saliency method names; empty: features only
  std::string taps = "stages";            // stages | all | comma-separated tap names
  ShardSpec shard;
  int limit = 0;                          // first N images of the sorted folder (before sharding); 0 = all
  double saveInterval = 5.0;              // seconds between manifest saves (forEachInShard)
  SaliencyOptions saliency;
  std::function<void(const std::string&)> log;  // one progress line per image
};

struct ExportSummary {
  int images = 0;   // images in this shard
  int done = 0;
  int skipped = 0;  // all outputs already present
  int failed = 0;
  std::string manifestPath;
};

// Image files (png, jpg, jpeg, bmp, tif, tiff, webp; any case) directly inside `dir`, sorted by
// file name. InputError if `dir` is not a folder.
std::vector<std::string> listImageFiles(const std::string& dir);

// OUT/manifest.json, or OUT/manifest-shard-K-of-N.json when N > 1.
std::string manifestName(const ShardSpec& shard);

// Validates taps and methods for every model first (InputError), then processes the shard. Bad
// images are reported through `log`, listed in the manifest with the reason, and skipped.
// Resumable after a kill: an image whose manifest entry is done and whose outputs all exist is
// skipped; any other image (outputs partly written, or written after the manifest's last save,
// which happens every saveInterval seconds, 5 by default) is exported again, so the manifest is
// the same as an uninterrupted run's up to "summary" and "updated".
ExportSummary runBatchExport(std::vector<LoadedModel>& models, const ExportOptions& options);

}  // namespace fs::analysis
