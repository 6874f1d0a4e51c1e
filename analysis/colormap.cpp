// Colormaps as 256-entry RGB tables. viridis, inferno, magma, turbo and jet are OpenCV's tables
// (generated from matplotlib's and Google's published data); the diverging map is Moreland's
// "coolwarm" (matplotlib's), linearly interpolated between 33 control points.
#include "analysis/colormap.h"

#include "analysis/string_list.h"
#include "model/errors.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

namespace fs::analysis {
namespace {

constexpr std::array<Colormap, 7> kAll{Colormap::Viridis, Colormap::Inferno, Colormap::Magma, Colormap::Turbo,
                                       Colormap::Jet,     Colormap::Gray,    Colormap::Diverging};

// matplotlib's coolwarm sampled at i/32 (RGB).
constexpr unsigned char kCoolwarm[33][3] = {
    {59, 76, 192},   {68, 90, 204},   {78, 104, 216},  {88, 117, 225},  {98, 130, 234},  {108, 143, 241},
    {119, 154, 247}, {130, 166, 251}, {141, 176, 254}, {152, 185, 255}, {163, 194, 254}, {174, 201, 252},
    {185, 208, 249}, {195, 213, 244}, {204, 217, 237}, {213, 219, 229}, {221, 220, 220}, {229, 216, 209},
    {236, 211, 197}, {241, 204, 184}, {245, 196, 172}, {247, 186, 159}, {247, 176, 147}, {246, 165, 134},
    {244, 152, 122}, {240, 139, 110}, {235, 125, 98},  {228, 110, 86},  {221, 95, 75},   {212, 78, 65},
    {202, 59, 55},   {190, 36, 46},   {180, 4, 38}};

cv::Mat coolwarmTable() {
  cv::Mat lut(1, 256, CV_8UC3);
  for (int i = 0; i < 256; ++i) {
    const double pos = i * 32.0 / 255.0;
    const int k = std::min(31, static_cast<int>(pos));
    const double t = pos - k;
    for (int c = 0; c < 3; ++c)
      lut.at<cv::Vec3b>(0, i)[c] = cv::saturate_cast<uchar>((1 - t) * kCoolwarm[k][c] + t * kCoolwarm[k + 1][c]);
  }
  return lut;
}

cv::Mat buildTable(Colormap c) {
  cv::Mat ramp(1, 256, CV_8UC1);
  for (int i = 0; i < 256; ++i) ramp.at<uchar>(0, i) = static_cast<uchar>(i);
  cv::Mat rgb;
  switch (c) {
    case Colormap::Gray: cv::cvtColor(ramp, rgb, cv::COLOR_GRAY2RGB); return rgb;
    case Colormap::Diverging: return coolwarmTable();
    case Colormap::Viridis: cv::applyColorMap(ramp, rgb, cv::COLORMAP_VIRIDIS); break;
    case Colormap::Inferno: cv::applyColorMap(ramp, rgb, cv::COLORMAP_INFERNO); break;
    case Colormap::Magma: cv::applyColorMap(ramp, rgb, cv::COLORMAP_MAGMA); break;
    case Colormap::Turbo: cv::applyColorMap(ramp, rgb, cv::COLORMAP_TURBO); break;
    case Colormap::Jet: cv::applyColorMap(ramp, rgb, cv::COLORMAP_JET); break;
  }
  cv::cvtColor(rgb, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

const cv::Mat& table(Colormap c) {
  static const std::array<cv::Mat, kAll.size()> kTables = [] {
    std::array<cv::Mat, kAll.size()> t;
    for (size_t i = 0; i < kAll.size(); ++i) t[i] = buildTable(kAll[i]);
    return t;
  }();
  return kTables[static_cast<size_t>(c)];
}

// Finite values of all maps after the sign mode, as one vector.
std::vector<float> finiteValues(const std::vector<cv::Mat>& maps, SignMode mode) {
  std::vector<float> out;
  for (const cv::Mat& m : maps) {
    const cv::Mat v = applySign(m, mode);
    for (int r = 0; r < v.rows; ++r)
      for (const float* p = v.ptr<float>(r), *e = p + v.cols; p != e; ++p)
        if (std::isfinite(*p)) out.push_back(mode == SignMode::Signed ? std::fabs(*p) : *p);
  }
  return out;
}

// numpy.percentile's default (linear interpolation between order statistics); reorders `v`.
double percentile(std::vector<float>& v, double p) {
  const double rank = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  std::nth_element(v.begin(), v.begin() + lo, v.end());
  const double a = v[lo];
  if (lo + 1 >= v.size()) return a;
  const double b = *std::min_element(v.begin() + lo + 1, v.end());
  return a + (rank - lo) * (b - a);
}

}  // namespace

const char* colormapName(Colormap c) {
  switch (c) {
    case Colormap::Viridis: return "viridis";
    case Colormap::Inferno: return "inferno";
    case Colormap::Magma: return "magma";
    case Colormap::Turbo: return "turbo";
    case Colormap::Jet: return "jet";
    case Colormap::Gray: return "gray";
    case Colormap::Diverging: return "diverging";
  }
  return "?";
}

std::vector<std::string> colormapNames() {
  std::vector<std::string> names;
  for (Colormap c : kAll) names.push_back(colormapName(c));
  return names;
}

Colormap parseColormap(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (lower == "grey") return Colormap::Gray;
  if (lower == "coolwarm") return Colormap::Diverging;
  for (Colormap c : kAll)
    if (lower == colormapName(c)) return c;
  throw fs::model::InputError("unknown colormap '" + name + "' (valid: " + joinList(colormapNames()) + ")");
}

cv::Mat applySign(const cv::Mat& raw, SignMode mode) {
  CV_Assert(raw.type() == CV_32FC1);
  if (mode == SignMode::Absolute) return cv::abs(raw);
  if (mode == SignMode::Relu) return cv::max(raw, 0.0f);
  return raw.clone();
}

const char* signModeName(SignMode s) {
  return s == SignMode::Signed ? "signed" : s == SignMode::Absolute ? "abs" : "relu";
}

ValueRange displayRange(const cv::Mat& values, SignMode mode, double clipPercentile) {
  return sharedRange({values}, mode, clipPercentile);
}

ValueRange sharedRange(const std::vector<cv::Mat>& values, SignMode mode, double clipPercentile) {
  std::vector<float> v = finiteValues(values, mode);
  if (v.empty()) return {0.0, 0.0};
  if (mode == SignMode::Signed) {
    const double p = percentile(v, clipPercentile);
    return {-p, p};
  }
  const double lo = *std::min_element(v.begin(), v.end());
  return {lo, percentile(v, clipPercentile)};
}

cv::Mat colorize(const cv::Mat& values, const ValueRange& range, Colormap map) {
  CV_Assert(values.type() == CV_32FC1);
  const double span = range.hi - range.lo;
  cv::Mat index;
  if (span > 0) {
    values.convertTo(index, CV_8U, 255.0 / span, -range.lo * 255.0 / span);
  } else {
    index = cv::Mat(values.size(), CV_8U, cv::Scalar(map == Colormap::Diverging ? 128 : 0));
  }
  cv::Mat index3, rgb;
  cv::merge(std::vector<cv::Mat>{index, index, index}, index3);
  cv::LUT(index3, table(map), rgb);
  return rgb;
}

cv::Mat colorBar(Colormap map, int length, int thickness, bool vertical) {
  CV_Assert(length > 0 && thickness > 0);
  cv::Mat ramp(1, length, CV_32F);
  for (int i = 0; i < length; ++i) ramp.at<float>(0, i) = length > 1 ? static_cast<float>(i) / (length - 1) : 1.f;
  cv::Mat bar = cv::repeat(colorize(ramp, {0.0, 1.0}, map), thickness, 1);
  if (vertical) cv::flip(bar.t(), bar, 0);
  return bar;
}

}  // namespace fs::analysis
