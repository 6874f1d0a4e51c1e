#pragma once
// Colormaps and the display pipeline for maps (saliency, feature channels). Raw maps stay signed
// and unnormalised; everything here is a display step applied afterwards.
#include <opencv2/core/mat.hpp>

#include <string>
#include <vector>

namespace fs::analysis {

enum class Colormap { Viridis, Inferno, Magma, Turbo, Jet, Gray, Diverging };
enum class SignMode { Signed, Absolute, Relu };

Colormap parseColormap(const std::string& name);            // InputError listing valid names
const char* signModeName(SignMode s);                       // "signed", "abs", "relu" (the CLI's --sign)
const char* colormapName(Colormap c);
std::vector<std::string> colormapNames();

struct ValueRange {
  double lo = 0.0;
  double hi = 1.0;
};

struct DisplaySettings {
  Colormap colormap = Colormap::Viridis;  // Signed data defaults to Diverging where the caller decides
  SignMode sign = SignMode::Relu;
  double clipPercentile = 100.0;         // 99 -> clip the top 1% (symmetric for Signed)
  double alpha = 0.5;                    // overlay opacity
};

// Applies the sign mode (CV_32F in, CV_32F out).
cv::Mat applySign(const cv::Mat& raw, SignMode mode);

// Range after percentile clipping: [min, p-th percentile] or symmetric [-p, p] for Signed.
ValueRange displayRange(const cv::Mat& values, SignMode mode, double clipPercentile);
// Shared range over several maps (compare models/methods on one scale).
ValueRange sharedRange(const std::vector<cv::Mat>& values, SignMode mode, double clipPercentile);

// values (CV_32F) -> CV_8UC3 RGB through the colormap, with `range` mapped to [0,1] and clamped.
cv::Mat colorize(const cv::Mat& values, const ValueRange& range, Colormap map);

// A horizontal or vertical colour bar image (CV_8UC3 RGB) for a legend.
cv::Mat colorBar(Colormap map, int length, int thickness, bool vertical);

}  // namespace fs::analysis
