// Scorecard runs: per-image faithfulness records and resume from the record file (the means and
// tables: analysis/scorecard_aggregate.cpp).
#include "analysis/scorecard.h"

#include "analysis/batch_export.h"
#include "analysis/evaluation/masks.h"
#include "analysis/evaluation/metric.h"
#include "analysis/fashion_mnist.h"
#include "analysis/image_io.h"
#include "analysis/json_text.h"
#include "analysis/inference.h"
#include "analysis/preprocess.h"
#include "analysis/saliency/saliency_method.h"
#include "analysis/scorecard_scoring.h"
#include "analysis/sha256.h"
#include "analysis/string_list.h"
#include "model/atomic_file.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

namespace fs::analysis {
namespace fsys = std::filesystem;
using fs::model::InputError;
using nlohmann::json;

namespace {
using scoring::legacyMetric;
using scoring::ScoredImage;

// Every method parameter by name (method_parameters.h) and the tap; "steps" and "baseline" of the
// header are the deletion/insertion curve's, these the saliency methods'.
json methodParametersJson(const SaliencyOptions& p) {
  json out = json::object();
  for (const ParameterSpec& spec : parameterSpecs()) {
    if (spec.name == "baseline") out[spec.name] = p.baseline;
    else out[spec.name] = parameterValue(p, spec.name);
  }
  out["tap"] = p.tap;
  return out;
}

json scorecardHeader(const LoadedModel& m, const ScorecardOptions& o, size_t total) {
  json metrics = json::array();
  for (const char* k : {"deletion", "insertion", "drop", "sanity", "random_logit"})
    if (listHas(o.metrics, k)) metrics.push_back(k);
  for (const std::string& k : metricNames())
    if (listHas(o.metrics, k) && !legacyMetric(k)) metrics.push_back(k);
  json header{{"tool", "featurescope-cli evaluate"}, {"version", FS_VERSION},
          {"model", {{"id", m.config.id}, {"family", m.config.family},
                     {"weights", m.weightsPath.empty() ? json(nullptr) : json(m.weightsPath)},
                     {"weights_sha256", m.weightsPath.empty() ? json(nullptr) : json(sha256File(m.weightsPath))},
                     {"seed", m.seed}, {"config", json::parse(fs::model::modelConfigToJson(m.config))}}},
          {"images_dir", o.imagesDir}, {"limit", o.limit}, {"images_total", total},
          {"shard", {{"index", o.shard.index}, {"count", o.shard.count}, {"rule", "i % count == index - 1"}}},
          {"methods", o.methods}, {"metrics", metrics}, {"steps", o.curve.steps},
          {"baseline", substrateName(o.curve)}, {"target", "top1"}, {"sanity_seed", o.seed},
          {"method_parameters", methodParametersJson(o.saliency)},
          {"fields", "per image: deletion_auc, insertion_auc (RISE), drop (fraction) and increase (Grad-CAM++), "
                     "sanity: Spearman (raw, abs), SSIM and HOG similarity to the original map after cascading "
                     "randomisation (family init) per unit, head first; random_logit: the same for the map of a random "
                     "other class (Sixt et al. 2020); aggregate: means over the done images "
                     "in image order; registered metrics (featurescope-cli evaluate --help) under their own names; "
                     "statistics: mean, bootstrap 95% CI, rank per metric, Kendall's tau between the rankings"}};
  if (!o.dataset.empty()) header["dataset"] = o.dataset;
  return header;
}

// The members that describe a run's options (everything but progress, results and timing).
json optionsOf(json header) {
  for (const char* k : {"aggregate", "summary", "updated", "images"}) header.erase(k);
  return header;
}

// The folder's images without the masks beside them, or the dataset's test images "test-00000", ...
// (the dataset loaded into `dataset`), after the limit.
std::vector<std::string> scorecardImages(const ScorecardOptions& o, ImageDataset* dataset) {
  std::vector<std::string> files;
  if (!o.dataset.empty()) {
    if (o.dataset != "fashion-mnist") throw InputError("unknown dataset '" + o.dataset + "' (valid: fashion-mnist)");
    *dataset = loadFashionMnist(o.dataDir.empty() ? defaultFashionMnistDir() : o.dataDir, false);
    const int64_t n = dataset->images.size(0);
    for (int64_t i = 0; i < (o.limit > 0 ? std::min<int64_t>(n, o.limit) : n); ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "test-%05lld", static_cast<long long>(i));
      files.push_back(name);
    }
    return files;
  }
  for (const std::string& f : listImageFiles(o.imagesDir))
    if (fsys::path(f).stem().extension() != ".mask") files.push_back(f);
  if (o.limit > 0 && int(files.size()) > o.limit) files.resize(size_t(o.limit));
  if (files.empty()) throw InputError(o.imagesDir + ": no images (png, jpg, jpeg, bmp, tif, tiff, webp)");
  return files;
}

// One scorecard run over a shard; owns the records. Single-threaded.
class ScorecardRun {
 public:
  ScorecardRun(LoadedModel& m, const ScorecardOptions& o) : m_(m), o_(o) {
    for (const auto& name : o.methods) methods_.push_back(makeSaliencyMethod(name));
    plan_ = scoring::passPlan(m, methods_, o.saliency);
    for (const auto& name : o.metrics)
      if (!legacyMetric(name)) needsMask_ = makeMetric(name)->needsMask() || needsMask_;
    files_ = scorecardImages(o, &dataset_);
    header_ = scorecardHeader(m, o, files_.size());
    if (!o.outPath.empty()) {
      sum_.path = shardFileName(o.outPath, o.shard);
      fs::model::createFoldersFor(sum_.path);
      resume();
    }
  }

  ScorecardSummary run() {
    sum_.images = forEachInShard(
        files_, o_.shard, "evaluate", [this](size_t i, const std::string& name) { return process(i, name); },
        [this](const std::string& line) {
          if (o_.log) o_.log(line);
          if (o_.afterImage) o_.afterImage();
        },
        [this] {
          if (!sum_.path.empty()) save();
        },
        o_.saveInterval);
    if (!sum_.path.empty()) save();  // failed images too: a shard of only failed images still merges
    // An empty shard (more shards than images, as a cluster array may give) records nothing and
    // merges as such; a shard whose images all failed is an error naming the first reason.
    if (sum_.done + sum_.skipped == 0 && sum_.images > 0)
      throw InputError(sum_.failed == 0 ? source() + ": no decodable images in this shard"
                                        : source() + ": no image in this shard could be scored (" +
                                              std::to_string(sum_.failed) + " failed; the first: " + firstError_ + ")");
    sum_.aggregate = compactJson(sum_.path.empty() ? aggregate() : header_["aggregate"]);
    if (!sum_.path.empty() && o_.shard.count == 1)
      sum_.tables = writeScorecardTables(sum_.path, o_.methods, records_, sum_.aggregate);
    return sum_;
  }

 private:
  std::string source() const { return o_.dataset.empty() ? o_.imagesDir : o_.dataset + " test set"; }

  ScoredImage load(size_t i) const {
    ScoredImage img;
    img.index = i;
    const fs::model::InputSpec& spec = m_.config.input;
    if (!o_.dataset.empty()) {
      const at::Tensor raw = dataset_.images.narrow(0, int64_t(i), 1);
      img.input = fashionMnistBatch(raw, spec);
      if (needsMask_) img.mask = fashionMnistSilhouette(raw[0], spec);
      return img;
    }
    const cv::Mat rgb = loadImageRgb(files_[i]);
    img.input = preprocess(rgb, spec).input;
    if (needsMask_) img.mask = loadMask(maskPathFor(files_[i]), rgb.cols, rgb.rows, spec);
    return img;
  }

  void resume() {
    std::ifstream in(sum_.path);
    if (!in) return;
    const json previous = json::parse(in, nullptr, false);
    if (!previous.is_object() || !previous.contains("images") || !previous["images"].is_object())
      throw InputError(sum_.path + ": exists and is not a scorecard; remove it or choose another --out");
    const json was = optionsOf(previous), now = optionsOf(header_);
    for (const auto& [key, value] : now.items())
      if (!was.contains(key) || was[key] != value)
        throw InputError(sum_.path + ": holds the scorecard of a run with another '" + key +
                         "'; remove it or choose another --out");
    for (const auto& [name, entry] : previous["images"].items())
      if (entry.value("status", "") == "done") records_[compactJson(name)] = compactJson(entry);
  }

  std::string process(size_t i, const std::string& name) {
    const std::string key = compactJson(name);
    if (records_.count(key)) return ++sum_.skipped, "skipped (recorded)";
    try {
      const ScoredImage img = load(i);
      const int target = predict(m_, img.input, 1).top.front().index;
      json entry = {{"index", i}, {"status", "done"}, {"target", target}, {"methods", json::object()}};
      MetricMemo memo;
      for (size_t k = 0; k < methods_.size(); ++k)
        entry["methods"][o_.methods[k]] =
            scoring::scoreMethod(m_, img, target, *methods_[k], o_, plan_, memo, sum_.secondsByStep);
      records_[key] = compactJson(entry);
      ++sum_.done;
      return "done";
    } catch (const InputError& e) {
      records_[key] = compactJson({{"index", i}, {"status", "failed"}, {"error", e.what()}});
      if (sum_.failed++ == 0) firstError_ = e.what();
      return std::string("FAILED: ") + e.what();
    }
  }

  json aggregate() const {
    std::vector<std::string> entries;
    for (const auto& [name, entry] : records_) entries.push_back(entry);
    return json::parse(scorecardAggregate(header_.dump(), entries));
  }

  void save() {
    header_["aggregate"] = aggregate();
    header_["summary"] = {{"images", sum_.images}, {"done", sum_.done}, {"skipped", sum_.skipped},
                          {"failed", sum_.failed}};
    header_["updated"] = utcNow();
    fs::model::writeFileAtomically(sum_.path, recordText(header_.dump(2), records_));
  }

  LoadedModel& m_;
  const ScorecardOptions& o_;
  std::vector<std::unique_ptr<SaliencyMethod>> methods_;
  scoring::PassPlan plan_;
  std::vector<std::string> files_;
  ImageDataset dataset_;
  bool needsMask_ = false;
  json header_;
  std::map<std::string, std::string> records_;  // image name (quoted) -> its record, compact JSON
  ScorecardSummary sum_;
  std::string firstError_;  // the first failed image's reason: the error when no image could be scored
};

}  // namespace

size_t scorecardImageCount(const ScorecardOptions& options) {
  ImageDataset dataset;
  return scorecardImages(options, &dataset).size();
}

ScorecardSummary runScorecard(LoadedModel& model, const ScorecardOptions& options) {
  ScorecardRun run(model, options);
  return run.run();
}

}  // namespace fs::analysis
