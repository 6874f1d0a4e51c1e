// The sanity cascade over images: similarities, their means, the cascade and curve figures, tables.
#include "analysis/sanity_cascade.h"

#include "analysis/evaluation/sanity.h"
#include "analysis/evaluation/scorecard_statistics.h"
#include "analysis/faithfulness.h"
#include "analysis/inference.h"
#include "model/errors.h"

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstdio>
#include <memory>

namespace fs::analysis {
namespace {

// Empty for NaN (a similarity undefined for that map).
std::string number(double v) { return std::isfinite(v) ? csvNumber(v) : std::string(); }

// The map as the paper shows it: the method's sign convention, its own range, its colormap.
cv::Mat colouredMap(const cv::Mat& map, const MapConvention& conv, ValueRange& range) {
  const cv::Mat signedMap = applySign(map, conv.sign);
  range = displayRange(signedMap, conv.sign, conv.clipPercentile);
  if (range.hi - range.lo < 1e-12) range.hi = range.lo + 1e-12;
  return colorize(signedMap, range, conv.colormap);
}

// Tableau-10 colours (RGB), one per method.
cv::Scalar methodColour(size_t i) {
  static const int rgb[10][3] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},  {148, 103, 189},
                                 {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  const int* c = rgb[i % 10];
  return cv::Scalar(c[0], c[1], c[2]);
}

// One panel: the mean similarity per method (a line with dots) against depth 0 (original, 1 by
// definition) .. U, on y in [-1, 1] with grid lines at -1, -0.5, 0, 0.5, 1.
cv::Mat curvePanel(const SanityCascade& c, const std::string& key) {
  const int w = 720, h = 300, left = 40, right = 16, top = 12, bottom = 16;
  cv::Mat rgb(h, w, CV_8UC3, cv::Scalar(255, 255, 255));
  const size_t units = c.units.size();
  const auto px = [&](size_t depth) { return left + int(std::lround(double(depth) * (w - left - right) / double(std::max<size_t>(units, 1)))); };
  const auto py = [&](double v) { return top + int(std::lround((1.0 - v) / 2.0 * (h - top - bottom))); };
  for (double g : {-1.0, -0.5, 0.0, 0.5, 1.0}) {
    cv::line(rgb, {left, py(g)}, {w - right, py(g)}, g == 0.0 ? cv::Scalar(150, 150, 150) : cv::Scalar(225, 225, 225), 1);
    char label[24];
    std::snprintf(label, sizeof label, "%g", g);
    cv::putText(rgb, label, {2, py(g) + 5}, cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(90, 90, 90), 1, cv::LINE_AA);
  }
  for (size_t d = 0; d <= units; ++d) cv::line(rgb, {px(d), h - bottom}, {px(d), h - bottom + 5}, cv::Scalar(90, 90, 90), 1);
  for (size_t m = 0; m < c.methods.size(); ++m) {
    std::vector<cv::Point> points{{px(0), py(1.0)}};
    for (size_t u = 0; u < units; ++u) {
      const SimilarityMean mean = meanSimilarity(c, m, u, key);
      if (std::isfinite(mean.value)) points.push_back({px(u + 1), py(std::clamp(mean.value, -1.0, 1.0))});
    }
    cv::polylines(rgb, points, false, methodColour(m), 2, cv::LINE_AA);
    for (const auto& p : points) cv::circle(rgb, p, 4, methodColour(m), cv::FILLED, cv::LINE_AA);
  }
  return rgb;
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
  for (size_t i = 0; i < inputs.size(); ++i) {
    const at::Tensor& x = inputs[i];
    SaliencyOptions opts = o.saliency;
    opts.target = predict(model, x, 1).top.front().index;
    const int64_t h = x.size(2), w = x.size(3);
    std::vector<std::vector<SimilarityScores>> perMethod;
    std::vector<SimilarityScores> logitRow, dataRow;
    for (size_t k = 0; k < methods.size(); ++k) {
      const auto mapOf = [&](LoadedModel& mm) { return mapToSize(methods[k]->compute(mm, x, opts).map2d, h, w); };
      const RandomisationResult r = modelRandomisation(model, mapOf, o.mode, o.seed);
      std::vector<SimilarityScores> row;
      for (const auto& s : r.steps) row.push_back(s.similarity);
      perMethod.push_back(std::move(row));
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
        logitRow.push_back(logit.similarity);
        if (k == 0) c.otherClasses.push_back(logit.other);
      }
      at::Tensor dataMap;
      if (o.dataRandomised) {
        dataMap = mapToSize(methods[k]->compute(*o.dataRandomised, x, opts).map2d, h, w);
        dataRow.push_back(similarityScores(r.original, dataMap));
      }
      if (i == 0) {
        std::vector<cv::Mat> maps{saliencyMapToMat(r.original).clone()};
        for (const auto& s : r.steps) maps.push_back(saliencyMapToMat(s.map).clone());
        c.firstMaps.push_back(std::move(maps));
        if (o.randomLogit) c.randomLogit.firstMaps.push_back(saliencyMapToMat(otherMap).clone());
        if (o.dataRandomised) c.dataRandomised.firstMaps.push_back(saliencyMapToMat(dataMap).clone());
      }
    }
    c.scores.push_back(std::move(perMethod));
    c.targets.push_back(opts.target);
    if (o.randomLogit) c.randomLogit.scores.push_back(std::move(logitRow));
    if (o.dataRandomised) c.dataRandomised.scores.push_back(std::move(dataRow));
    c.images.push_back(names[i]);
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

FigureLayout sanityCascadeFigure(const SanityCascade& c, const std::string& title) {
  const bool independent = c.mode == RandomisationMode::Independent;
  const bool data = !c.dataRandomised.firstMaps.empty(), logit = !c.randomLogit.firstMaps.empty();
  FigureLayout f;
  f.title = title;
  f.columnLabels.push_back("original\n" + (c.images.empty() ? std::string() : c.images.front()));
  for (size_t u = 0; u < c.units.size(); ++u)
    f.columnLabels.push_back(c.units[u] + "\n" + (independent ? "randomised alone" : u == 0 ? "randomised" : "+ the units left of it"));
  if (logit) f.columnLabels.push_back("random class\n" + std::to_string(c.otherClasses.front()) + " (target " +
                                      std::to_string(c.targets.front()) + ")");
  if (data) f.columnLabels.push_back("data-randomised\n(permuted labels)");
  const auto cellOf = [&](const cv::Mat& map, size_t m, const SimilarityScores* s) {
    FigureCell cell;
    cell.kind = CellKind::Overlay;
    cell.overlay.rgb = colouredMap(map, c.conventions[m], cell.overlay.range);
    cell.overlay.colormap = c.conventions[m].colormap;
    cell.overlay.map = map;
    if (s) {
      char note[64];
      std::snprintf(note, sizeof note, "rank corr. %.2f", s->spearman);
      cell.note = note;
    }
    return cell;
  };
  for (size_t m = 0; m < c.methods.size(); ++m) {
    f.rowLabels.push_back(c.titles[m] + "\n" + c.methods[m]);
    std::vector<FigureCell> row;
    for (size_t k = 0; k < c.firstMaps[m].size(); ++k)
      row.push_back(cellOf(c.firstMaps[m][k], m, k > 0 ? &c.scores.front()[m][k - 1] : nullptr));
    if (logit) row.push_back(cellOf(c.randomLogit.firstMaps[m], m, &c.randomLogit.scores.front()[m]));
    if (data) row.push_back(cellOf(c.dataRandomised.firstMaps[m], m, &c.dataRandomised.scores.front()[m]));
    f.cells.push_back(std::move(row));
  }
  f.caption = independent
                  ? "Independent randomisation (Adebayo et al. 2018, sec. 3.1): from the left, the map of the trained "
                    "model, then with only that unit re-initialised (the family's own initialisation), all others trained."
                  : "Cascading randomisation (Adebayo et al. 2018, Fig. 2): from the left, the map of the trained model, "
                    "then after re-initialising the units from the logits down, one more unit per column (the family's "
                    "own initialisation).";
  if (logit) f.caption += " Random class: the trained model's map for a random other class (Sixt et al. 2020).";
  if (data) f.caption += " Data-randomised: the same architecture trained on permuted labels, same target (Adebayo et al. 2018, sec. 3.2).";
  f.caption += " Each map on its own scale; under it its Spearman rank correlation with the original.";
  validateFigureLayout(f);
  return f;
}

FigureLayout sanityCurvesFigure(const SanityCascade& c, const std::string& title) {
  FigureLayout f;
  f.title = title;
  std::string depths = "x: 0 = original (" + modeName(c.mode) + ")";
  for (size_t u = 0; u < c.units.size(); ++u) depths += ", " + std::to_string(u + 1) + " = " + c.units[u];
  f.columnLabels.push_back("mean similarity to the original map over " + std::to_string(c.images.size()) +
                           (c.mode == RandomisationMode::Independent
                                ? " images\nvs the unit randomised alone (head first)"
                                : " images\nvs the number of units randomised (head first)"));
  const std::vector<std::string> labels{"Spearman rank correlation", "|Spearman| (absolute values)", "SSIM",
                                        "HOG similarity"};
  std::string legend;
  for (size_t m = 0; m < c.methods.size(); ++m) {
    const cv::Scalar col = methodColour(m);
    char rgb[16];
    std::snprintf(rgb, sizeof rgb, "#%02x%02x%02x", int(col[0]), int(col[1]), int(col[2]));
    legend += (m ? ", " : "") + c.methods[m] + " " + rgb;
  }
  for (size_t k = 0; k < similarityKeys().size(); ++k) {
    f.rowLabels.push_back(labels[k]);
    FigureCell cell;
    cell.kind = CellKind::Overlay;
    cell.overlay.rgb = curvePanel(c, similarityKeys()[k]);
    cell.overlay.range = {-1.0, 1.0};
    cell.note = depths;
    f.cells.push_back({cell});
  }
  f.metrics.tileSize = 40.0;
  f.caption = "Lines (colour as RGB hex): " + legend + ". y from -1 to 1 (grid at 0.5 steps). Maps that stay "
              "similar as the model is randomised do not depend on what the model learned.";
  validateFigureLayout(f);
  return f;
}

std::string sanityMeansCsv(const SanityCascade& c) {
  std::string csv = "method,depth,unit,metric,mean,n,mode\n";
  for (size_t m = 0; m < c.methods.size(); ++m)
    for (size_t u = 0; u < c.units.size(); ++u)
      for (const std::string& key : similarityKeys()) {
        const SimilarityMean mean = meanSimilarity(c, m, u, key);
        csv += csvField(c.methods[m]) + "," + std::to_string(u + 1) + "," + csvField(c.units[u]) + "," + key + "," +
               number(mean.value) + "," + std::to_string(mean.n) + "," + modeName(c.mode) + "\n";
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
               csvField(c.units[u]) + "," + number(s.spearman) + "," + number(s.spearmanAbs) + "," + number(s.ssim) +
               "," + number(s.hog) + "," + modeName(c.mode) + "\n";
      }
  return csv;
}

}  // namespace fs::analysis
