// The sanity cascade over images: similarities, their means and tables (the figures: sanity_figures.cpp).
#include "analysis/sanity_cascade.h"

#include "analysis/evaluation/sanity.h"
#include "analysis/evaluation/scorecard_statistics.h"
#include "analysis/faithfulness.h"
#include "analysis/inference.h"
#include "analysis/memory_limits.h"
#include "model/errors.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <cmath>
#include <memory>

namespace fs::analysis {
namespace {

// The runs' tables under the first one's header.
std::string joinTables(const std::vector<const SanityCascade*>& runs, std::string (*table)(const SanityCascade&)) {
  std::string out;
  for (size_t r = 0; r < runs.size(); ++r) {
    const std::string t = table(*runs[r]);
    out += r == 0 ? t : t.substr(t.find('\n') + 1);
  }
  return out;
}

}  // namespace

const std::vector<std::string>& similarityKeys() {
  static const std::vector<std::string> keys{"spearman", "spearman_abs", "ssim", "hog"};
  return keys;
}

double similarityValue(const SimilarityScores& s, const std::string& key) {
  if (key == "spearman") return s.spearman;
  if (key == "spearman_abs") return s.spearmanAbs;
  if (key == "ssim") return s.ssim;
  if (key == "hog") return s.hog;
  throw fs::model::InputError("unknown similarity '" + key + "' (valid: spearman, spearman_abs, ssim, hog)");
}

std::string modeName(RandomisationMode mode) {
  return mode == RandomisationMode::Independent ? "independent" : "cascading";
}

bool parseModeName(const std::string& name, RandomisationMode& mode) {
  if (name != "cascading" && name != "cascade" && name != "independent") return false;
  mode = name == "independent" ? RandomisationMode::Independent : RandomisationMode::Cascading;
  return true;
}

namespace {

// One image's rows: per method the cascade's similarities, the random-logit and data-randomised
// ones, and (first image only) the maps the figure shows; cancelled when it stopped half-way.
struct ImageRows {
  std::vector<std::vector<SimilarityScores>> perMethod;
  std::vector<SimilarityScores> logit, data;
  std::vector<std::vector<cv::Mat>> firstMaps;
  std::vector<cv::Mat> logitFirst, dataFirst;
  int otherClass = -1;
  bool cancelled = false;
};

// The cascade of every method on image i (target in opts); progress(k) reports method k's units.
ImageRows cascadeImage(LoadedModel& model, const at::Tensor& x, size_t i, const SaliencyOptions& opts,
                       const std::vector<std::unique_ptr<SaliencyMethod>>& methods, const SanityCascadeOptions& o,
                       const std::function<std::function<void(double)>(size_t)>& progress) {
  const auto stopped = [&] { return o.cancel && o.cancel->load(); };
  const int64_t h = x.size(2), w = x.size(3);
  ImageRows rows;
  for (size_t k = 0; k < methods.size(); ++k) {
    const auto mapOf = [&](LoadedModel& mm) { return mapToSize(methods[k]->compute(mm, x, opts).map2d, h, w); };
    const RandomisationResult r = modelRandomisation(model, mapOf, o.mode, o.seed, progress(k), o.cancel);
    if (r.cancelled || stopped()) return rows.cancelled = true, rows;
    std::vector<SimilarityScores> row;
    for (const auto& s : r.steps) row.push_back(s.similarity);
    rows.perMethod.push_back(std::move(row));
    // The random-logit test: the original map for the target, a new one for the other class.
    at::Tensor otherMap;
    if (o.randomLogit) {
      const auto mapForClass = [&](int cls) {
        if (cls == opts.target) return r.original;
        SaliencyOptions other = opts;
        other.target = cls;
        return otherMap = mapToSize(methods[k]->compute(model, x, other).map2d, h, w);
      };
      const RandomLogitResult logit = randomLogitTest(mapForClass, opts.target, model.config.numClasses, o.seed + i);
      rows.logit.push_back(logit.similarity);
      if (k == 0) rows.otherClass = logit.other;
    }
    at::Tensor dataMap;
    if (o.dataRandomised) {
      if (stopped()) return rows.cancelled = true, rows;
      dataMap = mapToSize(methods[k]->compute(*o.dataRandomised, x, opts).map2d, h, w);
      rows.data.push_back(similarityScores(r.original, dataMap));
    }
    if (i == 0) {
      std::vector<cv::Mat> maps{saliencyMapToMat(r.original).clone()};
      for (const auto& s : r.steps) maps.push_back(saliencyMapToMat(s.map).clone());
      rows.firstMaps.push_back(std::move(maps));
      if (o.randomLogit) rows.logitFirst.push_back(saliencyMapToMat(otherMap).clone());
      if (o.dataRandomised) rows.dataFirst.push_back(saliencyMapToMat(dataMap).clone());
    }
  }
  return rows;
}

// Image rows into the cascade: its scores, target and name (with the first image's maps for the figure).
void appendImage(SanityCascade& c, ImageRows rows, bool first, int target, const std::string& name,
                 const SanityCascadeOptions& o) {
  if (first) {
    c.firstMaps = std::move(rows.firstMaps);
    c.randomLogit.firstMaps = std::move(rows.logitFirst);
    c.dataRandomised.firstMaps = std::move(rows.dataFirst);
  }
  c.scores.push_back(std::move(rows.perMethod));
  c.targets.push_back(target);
  if (o.randomLogit) c.randomLogit.scores.push_back(std::move(rows.logit)), c.otherClasses.push_back(rows.otherClass);
  if (o.dataRandomised) c.dataRandomised.scores.push_back(std::move(rows.data));
  c.images.push_back(name);
}

}  // namespace

SanityCascade runSanityCascade(LoadedModel& model, const std::vector<at::Tensor>& inputs,
                               const std::vector<std::string>& names, const SanityCascadeOptions& o) {
  if (inputs.empty()) throw fs::model::InputError("sanity: no images");
  if (o.methods.empty()) throw fs::model::InputError("sanity: no methods");
  SanityCascade c;
  c.mode = o.mode;
  c.methods = o.methods;
  c.units = randomisationOrder(model);
  std::vector<std::unique_ptr<SaliencyMethod>> methods;
  for (const std::string& name : o.methods) {
    methods.push_back(makeSaliencyMethod(name));
    c.titles.push_back(methods.back()->title());
    c.conventions.push_back(methods.back()->convention());
  }
  const double units = double(std::max<size_t>(c.units.size(), 1));
  const double total = double(inputs.size() * methods.size()) * units;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (o.cancel && o.cancel->load()) {
      c.cancelled = true;
      break;
    }
    SaliencyOptions opts = o.saliency;
    opts.target = predict(model, inputs[i], 1).top.front().index;
    const auto progress = [&](size_t k) -> std::function<void(double)> {
      if (!o.progress) return {};
      const double before = double(i * methods.size() + k) * units;
      return [&o, before, units, total](double f) { o.progress((before + f * units) / total); };
    };
    ImageRows rows = cascadeImage(model, inputs[i], i, opts, methods, o, progress);
    releaseFreedHeapBetweenImages();
    if (rows.cancelled) {  // the image stopped half-way is left out
      c.cancelled = true;
      break;
    }
    appendImage(c, std::move(rows), i == 0, opts.target, names[i], o);
    if (o.log) o.log("sanity [" + std::to_string(i + 1) + "/" + std::to_string(inputs.size()) + "] " + names[i] + ": done");
  }
  return c;
}

SimilarityMean meanSimilarity(const SanityCascade& c, size_t method, size_t unit, const std::string& key) {
  SimilarityMean m;
  double sum = 0;
  for (const auto& image : c.scores) {
    const double v = similarityValue(image[method][unit], key);
    if (std::isfinite(v)) sum += v, ++m.n;
  }
  m.value = m.n > 0 ? sum / m.n : std::nan("");
  return m;
}

std::string sanityMeansCsv(const SanityCascade& c) {
  std::string csv = "method,depth,unit,metric,mean,n,mode\n";
  for (size_t m = 0; m < c.methods.size(); ++m)
    for (size_t u = 0; u < c.units.size(); ++u)
      for (const std::string& key : similarityKeys()) {
        const SimilarityMean mean = meanSimilarity(c, m, u, key);
        csv += csvField(c.methods[m]) + "," + std::to_string(u + 1) + "," + csvField(c.units[u]) + "," + key + "," +
               csvNumberOrEmpty(mean.value) + "," + std::to_string(mean.n) + "," + modeName(c.mode) + "\n";
      }
  return csv;
}

std::string sanityRowsCsv(const SanityCascade& c) {
  std::string csv = "image,method,depth,unit,spearman,spearman_abs,ssim,hog,mode\n";
  for (size_t i = 0; i < c.images.size(); ++i)
    for (size_t m = 0; m < c.methods.size(); ++m)
      for (size_t u = 0; u < c.units.size(); ++u) {
        const SimilarityScores& s = c.scores[i][m][u];
        csv += csvField(c.images[i]) + "," + csvField(c.methods[m]) + "," + std::to_string(u + 1) + "," +
               csvField(c.units[u]) + "," + csvNumberOrEmpty(s.spearman) + "," + csvNumberOrEmpty(s.spearmanAbs) +
               "," + csvNumberOrEmpty(s.ssim) + "," + csvNumberOrEmpty(s.hog) + "," + modeName(c.mode) + "\n";
      }
  return csv;
}

std::string sanityMeansCsv(const std::vector<const SanityCascade*>& runs) {
  return joinTables(runs, [](const SanityCascade& c) { return sanityMeansCsv(c); });
}

std::string sanityRowsCsv(const std::vector<const SanityCascade*>& runs) {
  return joinTables(runs, [](const SanityCascade& c) { return sanityRowsCsv(c); });
}

}  // namespace fs::analysis
