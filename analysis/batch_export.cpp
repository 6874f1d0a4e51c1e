#include "analysis/batch_export.h"

#include "analysis/map_output.h"

#include "analysis/figure_layout.h"
#include "analysis/image_io.h"
#include "analysis/json_text.h"
#include "analysis/inference.h"
#include "analysis/preprocess.h"
#include "analysis/run_record.h"
#include "analysis/saliency_overlay.h"
#include "analysis/sha256.h"
#include "analysis/string_list.h"
#include "model/atomic_file.h"
#include "model/errors.h"
#include "model/npy.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace fs::analysis {
namespace fsys = std::filesystem;
using fs::model::InputError;
using nlohmann::json;

namespace {

// What this run exports for one model: its key (folder name), taps and methods.
struct ModelPlan {
  LoadedModel* model = nullptr;
  std::string key;
  std::vector<std::string> taps;
};

std::vector<std::string> tapsFor(const LoadedModel& m, const std::string& spec) {
  if (spec == "stages") return m.net->stages();
  if (spec == "all") return tapNames(m);
  const auto taps = splitList(spec);
  if (taps.empty()) throw InputError("export: --taps needs stages, all or tap names");
  for (const auto& t : taps) findTap(m, t);  // InputError listing the valid taps
  return taps;
}

std::vector<ModelPlan> planModels(std::vector<LoadedModel>& models, const ExportOptions& o) {
  std::vector<ModelPlan> plans;
  std::set<std::string> used;
  for (auto& m : models) {
    std::string key = modelShortId(m.config.id);
    for (int n = 2; used.count(key); ++n) key = modelShortId(m.config.id) + "-" + std::to_string(n);
    used.insert(key);
    plans.push_back({&m, key, tapsFor(m, o.taps)});
  }
  for (const auto& name : o.methods) makeSaliencyMethod(name);  // InputError listing the methods
  return plans;
}

// Output folder names per image: the stem, or the whole file name when two stems collide.
std::vector<std::string> imageKeys(const std::vector<std::string>& files) {
  std::map<std::string, int> stems;
  for (const auto& f : files) ++stems[fsys::path(f).stem().string()];
  std::vector<std::string> keys;
  for (const auto& f : files) {
    const fsys::path p(f);
    std::string key = stems[p.stem().string()] > 1 ? p.filename().string() : p.stem().string();
    std::replace(key.begin(), key.end(), '/', '_');
    keys.push_back(key);
  }
  return keys;
}

// Relative output paths of one image and model.
json expectedOutputs(const std::string& image, const ModelPlan& plan, const std::vector<std::string>& methods) {
  const std::string base = image + "/" + plan.key + "/";
  json features = json::object(), saliency = json::object();
  for (const auto& t : plan.taps) features[t] = base + "features/" + t + ".npy";
  for (const auto& m : methods)
    saliency[m] = {{"npy", base + "saliency/" + m + ".npy"}, {"png", base + "saliency/" + m + ".png"}};
  return {{"features", features}, {"saliency", saliency}};
}

std::vector<std::string> outputFiles(const json& outputs) {
  std::vector<std::string> files;
  for (const auto& [tap, path] : outputs["features"].items()) files.push_back(path.get<std::string>());
  for (const auto& [m, pair] : outputs["saliency"].items())
    for (const auto& [kind, path] : pair.items()) files.push_back(path.get<std::string>());
  return files;
}

// Leftovers of an interrupted writeFileAtomically ("name.tmp-XXXXXX").
void removeStaleTemporaries(const fsys::path& dir) {
  static const std::regex kTemp(R"(.*\.tmp-[A-Za-z0-9]{6})");
  std::error_code ec;
  if (!fsys::exists(dir, ec)) return;
  for (const auto& e : fsys::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file() && std::regex_match(e.path().filename().string(), kTemp)) fsys::remove(e.path(), ec);
}

// One forward with every tap; returns the top-1 class of the same forward.
json writeFeatures(LoadedModel& m, const at::Tensor& input, const ModelPlan& plan, const json& out,
                   const fsys::path& root) {
  c10::InferenceMode guard;
  const fs::model::ForwardResult r = m.net->forward(input, plan.taps);
  for (const auto& t : plan.taps)
    fs::model::writeNpy((root / out["features"][t].get<std::string>()).string(), r.taps.at(t).contiguous());
  const at::Tensor probs = at::softmax(r.logits, 1)[0];
  const int index = static_cast<int>(probs.argmax().item<int64_t>());
  const std::string label = index < int(m.labels.size()) ? m.labels[index] : std::to_string(index);
  return {{"index", index}, {"label", label}, {"prob", probs[index].item<double>()}};
}

json writeSaliency(LoadedModel& m, const Preprocessed& p, const cv::Mat& original, const std::string& method,
                   const ExportOptions& o, const json& paths, const fsys::path& root) {
  auto sal = makeSaliencyMethod(method);
  const SaliencyResult r = sal->compute(m, p.input, o.saliency);
  const cv::Mat map = saliencyMapToMat(r.map2d);  // the displayed map, as every front end writes it
  writeMapNpy((root / paths["npy"].get<std::string>()).string(), map);
  const DisplaySettings d = displaySettings(sal->convention());  // as the GUI, saliency and figure
  const SaliencyOverlay ov = overlaySaliency(original, map, p.crop, d);
  writePng((root / paths["png"].get<std::string>()).string(), withColorBar(ov.rgb, d.colormap, ov.range));
  const std::vector<int64_t> shape{map.rows, map.cols};
  return {{"npy", paths["npy"]}, {"png", paths["png"]}, {"tap", r.tap}, {"target", r.target}, {"shape", shape},
          {"display_range", {ov.range.lo, ov.range.hi}}};
}

json exportModel(ModelPlan& plan, const cv::Mat& original, const std::string& image, const ExportOptions& o) {
  LoadedModel& m = *plan.model;
  const fsys::path root(o.outDir);
  json out = expectedOutputs(image, plan, o.methods);
  fs::model::createFolders((root / image / plan.key / "features").string());
  if (!o.methods.empty()) fs::model::createFolders((root / image / plan.key / "saliency").string());
  const Preprocessed p = preprocess(original, m.config.input);
  validateInput(m, p.input, image);
  out["top1"] = writeFeatures(m, p.input, plan, out, root);
  for (const auto& method : o.methods)
    out["saliency"][method] = writeSaliency(m, p, original, method, o, out["saliency"][method], root);
  return out;
}

// float32 constants as the short decimals they were written as (0.485, not 0.48500001430511475).
json rounded(const std::array<float, 3>& v) {
  json out = json::array();
  for (float x : v) out.push_back(std::round(double(x) * 1e6) / 1e6);
  return out;
}

json preprocessingJson(const fs::model::InputSpec& in) {
  return {{"size", {in.height, in.width}}, {"crop_pct", in.cropPct},
          {"interpolation", fs::model::interpolationName(in.interpolation)}, {"mean", rounded(in.mean)},
          {"std", rounded(in.std)},
          {"transform", "resize short side to size/crop_pct, centre crop, /255, (x-mean)/std"}};
}

json methodJson(const std::string& name, const SaliencyOptions& s) {
  const auto method = makeSaliencyMethod(name);
  json p = {{"target", s.target < 0 ? json("top1") : json(s.target)}};
  if (method->usesTap()) p["tap"] = s.tap.empty() ? "last block" : s.tap;
  auto value = [&](const std::string& key) -> json {
    const ParameterSpec& spec = parameterSpec(key);
    if (!spec.choices.empty()) return s.baseline;
    const double v = parameterValue(s, key);
    return spec.integer ? json(int64_t(v)) : json(v);
  };
  for (const auto& key : method->parameters()) p[key] = value(key);
  for (const auto& spec : method->ownParameters()) p[spec.name] = value(spec.name);
  p["batch_size"] = s.batchSize;
  const MapConvention c = method->convention();
  const json display = {{"reduction", channelReductionName(c.reduction)}, {"sign", signModeName(c.sign)},
                        {"clip_percentile", c.clipPercentile}, {"colormap", colormapName(c.colormap)}};
  return {{"name", name}, {"parameters", p}, {"display", display}};
}

json manifestHeader(const std::vector<ModelPlan>& plans, const ExportOptions& o, size_t total) {
  json models = json::array(), methods = json::array();
  for (const auto& plan : plans) {
    const LoadedModel& m = *plan.model;
    models.push_back({{"key", plan.key}, {"id", m.config.id}, {"family", m.config.family},
                      {"weights", m.weightsPath.empty() ? json(nullptr) : json(m.weightsPath)},
                      {"weights_sha256", m.weightsPath.empty() ? json(nullptr) : json(sha256File(m.weightsPath))},
                      {"seed", m.seed}, {"weights_report", m.weightsReport},
                      {"config", json::parse(fs::model::modelConfigToJson(m.config))},
                      {"preprocessing", preprocessingJson(m.config.input)}, {"taps", plan.taps}});
  }
  for (const auto& name : o.methods) methods.push_back(methodJson(name, o.saliency));
  return {{"tool", "featurescope-cli export"}, {"version", FS_VERSION}, {"images_dir", o.imagesDir},
          {"shard", {{"index", o.shard.index}, {"count", o.shard.count}, {"rule", "i % count == index - 1"}}},
          {"limit", o.limit}, {"images_total", total}, {"taps", o.taps}, {"models", models}, {"methods", methods},
          {"feature_format", "float32 NPY, NCHW [1,C,H,W]"},
          {"saliency_format", "raw signed float32 NPY ([H,W] CAM/occlusion, [1,3,H,W] input attribution); "
                              "PNG overlay on the original image with colour bar"}};
}

json readManifest(const std::string& path) {
  std::ifstream in(path);
  if (!in) return json::object();
  const json j = json::parse(in, nullptr, false);
  return j.is_object() ? j : json::object();
}


// A finished entry is reusable if it covers every model of this run.
bool entryCovers(const json& entry, const std::vector<ModelPlan>& plans) {
  if (!entry.is_object() || entry.value("status", "") != "done" || !entry.contains("models")) return false;
  return std::all_of(plans.begin(), plans.end(), [&](const ModelPlan& p) { return entry["models"].contains(p.key); });
}

// One export run over the shard; owns the manifest being built. Single-threaded.
class BatchExporter {
 public:
  BatchExporter(std::vector<LoadedModel>& models, const ExportOptions& o) : o_(o), plans_(planModels(models, o)) {
    files_ = listImageFiles(o.imagesDir);
    if (o.limit > 0 && int(files_.size()) > o.limit) files_.resize(o.limit);
    keys_ = imageKeys(files_);
    fs::model::createFolders(o.outDir);
    sum_.manifestPath = (fsys::path(o.outDir) / manifestName(o.shard)).string();
    const json previous = readManifest(sum_.manifestPath);
    if (previous.contains("images") && previous["images"].is_object()) {
      for (const auto& [name, entry] : previous["images"].items()) images_[compactJson(name)] = compactJson(entry);
    }
    manifest_ = manifestHeader(plans_, o, files_.size());
  }

  ExportSummary run() {
    sum_.images = forEachInShard(
        files_, o_.shard, "export", [this](size_t i, const std::string& name) { return process(i, name); }, o_.log,
        [this] { save(); }, o_.saveInterval);
    save();
    return sum_;
  }

  // Returns the progress status; records the image in the manifest.
  std::string process(size_t i, const std::string& name) {
    bool complete = true;
    for (const auto& plan : plans_)
      for (const auto& f : outputFiles(expectedOutputs(keys_[i], plan, o_.methods)))
        complete &= fsys::exists(fsys::path(o_.outDir) / f);
    const std::string key = compactJson(name);
    const auto found = images_.find(key);
    if (complete && found != images_.end() && entryCovers(json::parse(found->second), plans_)) {
      ++sum_.skipped;
      return "skipped (outputs exist)";
    }
    // Not recorded as done: redone from scratch (the writes are deterministic and atomic).
    json entry = {{"index", i}, {"folder", keys_[i]}, {"models", json::object()}};
    try {
      removeStaleTemporaries(fsys::path(o_.outDir) / keys_[i]);
      const cv::Mat rgb = loadImageRgb(files_[i]);
      for (auto& plan : plans_) entry["models"][plan.key] = exportModel(plan, rgb, keys_[i], o_);
      entry["status"] = "done";
      images_[key] = compactJson(entry);
      ++sum_.done;
      return "done";
    } catch (const std::exception& e) {
      images_[key] = compactJson({{"index", i}, {"status", "failed"}, {"error", e.what()}});
      ++sum_.failed;
      return std::string("FAILED: ") + e.what();
    }
  }

  // The header pretty-printed, then "images" spliced in from the compact entries.
  void save() {
    manifest_["summary"] = {{"images", sum_.images}, {"done", sum_.done}, {"skipped", sum_.skipped},
                            {"failed", sum_.failed}};
    manifest_["updated"] = utcNow();
    fs::model::writeFileAtomically(sum_.manifestPath, recordText(manifest_.dump(2), images_));
  }

  const ExportOptions& o_;
  std::vector<ModelPlan> plans_;
  std::vector<std::string> files_, keys_;
  json manifest_;
  // Image name (quoted) -> its manifest entry as compact JSON text: a parsed tree costs ~10x the memory,
  // which made a long export grow by ~25 KB per image.
  std::map<std::string, std::string> images_;
  ExportSummary sum_;
};

}  // namespace

std::vector<std::string> listImageFiles(const std::string& dir) {
  static const std::set<std::string> kExt{".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"};
  std::error_code ec;
  if (!fsys::is_directory(dir, ec)) throw InputError(dir + ": not a folder");
  std::vector<std::string> files;
  for (const auto& e : fsys::directory_iterator(dir, ec)) {
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (e.is_regular_file(ec) && kExt.count(ext)) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
    return fsys::path(a).filename() < fsys::path(b).filename();
  });
  return files;
}

std::string manifestName(const ShardSpec& s) {
  if (s.count <= 1) return "manifest.json";
  return "manifest-shard-" + std::to_string(s.index) + "-of-" + std::to_string(s.count) + ".json";
}

ExportSummary runBatchExport(std::vector<LoadedModel>& models, const ExportOptions& options) {
  BatchExporter exporter(models, options);
  return exporter.run();
}

}  // namespace fs::analysis
