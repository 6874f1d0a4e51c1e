// similarity: linear CKA (Kornblith et al. 2019) between every pair of taps of two models over a
// folder of images, as text, JSON, or a labelled heatmap PNG.
#include "analysis/map_output.h"
#include "analysis/cka.h"
#include "analysis/colormap.h"
#include "analysis/image_io.h"
#include "analysis/model_loader.h"
#include "analysis/preprocess.h"
#include "app/cli_commands.h"
#include "app/cli_input.h"
#include "model/atomic_file.h"
#include "model/errors.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <set>

namespace fs::app {
namespace {
namespace fa = fs::analysis;
using fs::model::InputError;

std::vector<at::Tensor> preprocessAll(const std::vector<cv::Mat>& images, const fa::LoadedModel& m) {
  std::vector<at::Tensor> out;
  for (const auto& img : images) out.push_back(fa::preprocess(img, m.config.input).input);
  return out;
}

std::vector<std::string> tapNames(const std::vector<fs::model::TapInfo>& taps) {
  std::vector<std::string> names;
  for (const auto& t : taps) names.push_back(t.name);
  return names;
}

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kFontScale = 0.4;

int textWidth(const std::vector<std::string>& labels) {
  int w = 0, baseline = 0;
  for (const auto& l : labels) w = std::max(w, cv::getTextSize(l, kFont, kFontScale, 1, &baseline).width);
  return w;
}

// Text drawn bottom-to-top with its end at (x, bottom): the column labels.
void putVerticalText(cv::Mat& canvas, const std::string& text, int x, int bottom) {
  int baseline = 0;
  const cv::Size s = cv::getTextSize(text, kFont, kFontScale, 1, &baseline);
  cv::Mat strip(s.height + baseline + 2, s.width + 2, CV_8UC3, cv::Scalar::all(255));
  cv::putText(strip, text, {1, s.height + 1}, kFont, kFontScale, cv::Scalar::all(0), 1, cv::LINE_AA);
  cv::rotate(strip, strip, cv::ROTATE_90_COUNTERCLOCKWISE);
  const int top = std::max(0, bottom - strip.rows);
  const cv::Rect dst(x, top, strip.cols, std::min(strip.rows, bottom - top));
  strip(cv::Rect(0, strip.rows - dst.height, dst.width, dst.height)).copyTo(canvas(dst));
}

// Rows = taps of model A, columns = taps of model B, viridis over [0,1] with a colour bar. RGB.
cv::Mat renderHeatmap(const fa::CkaMatrix& r, const std::string& nameA, const std::string& nameB) {
  const auto rowLabels = tapNames(r.tapsA), colLabels = tapNames(r.tapsB);
  const int rows = int(rowLabels.size()), cols = int(colLabels.size());
  const int cell = std::clamp(640 / std::max(rows, cols), 12, 40);
  const int left = textWidth(rowLabels) + 12, top = textWidth(colLabels) + 30, barW = 16;
  const std::string title = "rows: " + nameA + "   columns: " + nameB;
  const int width = std::max(left + cols * cell + 24 + barW + 30, textWidth({title}) + 8);
  const int height = top + rows * cell + 24;
  cv::Mat canvas(height, width, CV_8UC3, cv::Scalar::all(255));
  cv::Mat values(rows, cols, CV_32F);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) values.at<float>(i, j) = float(r.cka[i][j]);
  cv::Mat cells;
  cv::resize(fa::colorize(values, {0.0, 1.0}, fa::Colormap::Viridis), cells, {cols * cell, rows * cell}, 0, 0,
             cv::INTER_NEAREST);
  cells.copyTo(canvas(cv::Rect(left, top, cells.cols, cells.rows)));
  const cv::Scalar black = cv::Scalar::all(0);
  for (int i = 0; i < rows; ++i)
    cv::putText(canvas, rowLabels[i], {4, top + i * cell + cell / 2 + 4}, kFont, kFontScale, black, 1, cv::LINE_AA);
  for (int j = 0; j < cols; ++j) putVerticalText(canvas, colLabels[j], left + j * cell + cell / 2 - 6, top - 4);
  cv::putText(canvas, title, {4, 14}, kFont, kFontScale, black, 1, cv::LINE_AA);
  const int barX = left + cols * cell + 12;
  fa::colorBar(fa::Colormap::Viridis, rows * cell, barW, true).copyTo(canvas(cv::Rect(barX, top, barW, rows * cell)));
  cv::putText(canvas, "1", {barX + barW + 3, top + 8}, kFont, kFontScale, black, 1, cv::LINE_AA);
  cv::putText(canvas, "0", {barX + barW + 3, top + rows * cell}, kFont, kFontScale, black, 1, cv::LINE_AA);
  return canvas;
}

void printMatrix(const fa::CkaMatrix& r) {
  const auto names = tapNames(r.tapsB);
  for (size_t i = 0; i < r.cka.size(); ++i) {
    std::cout << std::left << std::setw(28) << r.tapsA[i].name;
    for (double v : r.cka[i]) std::cout << " " << std::fixed << std::setprecision(3) << v;
    std::cout << "\n";
  }
  std::cout << "columns:";
  for (const auto& n : names) std::cout << " " << n;
  std::cout << "\n";
}

int runSimilarity(const Args& a) {
  if (!a.has("--images")) throw fs::model::UsageError("similarity: --images DIR is required");
  const int limit = a.intValue("--limit", 0, 1, 1000000);
  const auto seed = static_cast<uint64_t>(a.intValue("--seed", 0, 0, 2147483647));
  fa::LoadedModel ma = fa::loadModel(a.positional[0], a.value("--weights-a"), seed);
  fa::LoadedModel mb = fa::loadModel(a.positional[1], a.value("--weights-b"), seed);
  const std::vector<cv::Mat> images = loadImageFolder(a.value("--images"), limit);
  const fa::CkaEstimator estimator = fa::parseCkaEstimator(a.value("--estimator", "auto"));
  const fa::CkaMatrix r = fa::computeCka(ma, mb, preprocessAll(images, ma), preprocessAll(images, mb), {}, nullptr,
                                         fa::kCkaBlockBytes, estimator);
  if (a.has("--png")) fa::writePng(a.value("--png"), renderHeatmap(r, ma.config.id, mb.config.id));
  if (a.has("--json")) {
    const nlohmann::json out{{"model_a", ma.config.id}, {"model_b", mb.config.id}, {"taps_a", tapNames(r.tapsA)},
                             {"taps_b", tapNames(r.tapsB)}, {"cka", r.cka}, {"images", r.images},
                             {"estimator", fa::ckaEstimatorName(r.estimator)}};
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << "linear CKA (" << fa::ckaEstimatorName(r.estimator) << " estimator) over n = " << r.images << " images, rows " << ma.config.id << ", columns " << mb.config.id << "\n";
  printMatrix(r);
  return 0;
}

const CommandRegistrar kSimilarity{
    {"similarity",
     "similarity MODEL_A MODEL_B --images DIR [--weights-a F] [--weights-b F] [--limit N]\n"
     "           [--estimator auto|biased|debiased] [--json] [--png OUT]\n"
     "  Linear CKA (Kornblith et al. 2019) between every pair of taps of two models over the images of DIR\n"
     "  (png, jpg, jpeg, bmp, tif, tiff, webp; sorted by name; at least 2). Each image is preprocessed for\n"
     "  each model; each tap is flattened per image (no pooling). --png writes a heatmap (rows: MODEL_A\n"
     "  taps, columns: MODEL_B taps). --estimator: the HSIC estimator; auto (default) takes the debiased one\n"
     "  (Song et al. 2012; Nguyen et al. 2021; needs 4 images, may be slightly negative) below 1000 images,\n"
     "  where the biased one reads unrelated high-dimensional taps as similar, and the biased one from 1000.",
     {{"--images", "--weights-a", "--weights-b", "--limit", "--png", "--estimator"}, {"--json"}, 2, 2},
     runSimilarity}};
}  // namespace

}  // namespace fs::app
