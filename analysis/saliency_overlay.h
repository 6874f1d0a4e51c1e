#pragma once
// Saliency maps drawn over the ORIGINAL image: a map in model-input coordinates is mapped back
// through the crop geometry, coloured and alpha-blended; plus a labelled colour-bar legend.
// Pure functions, any thread; torch-free (CropGeometry is only referenced).
#include "analysis/colormap.h"

#include <opencv2/core/mat.hpp>

namespace fs::analysis {

struct CropGeometry;

struct SaliencyOverlay {
  cv::Mat rgb;       // CV_8UC3 RGB, the size of the original image
  ValueRange range;  // the display range used (values after the sign mode)
};

// `map`: CV_32F [h,w] covering the whole model input that `crop` describes, at any resolution (a
// CAM at the tap resolution, an attribution at the input resolution). It is resampled bilinearly,
// pixel centres aligned, onto the crop rectangle of `original` (CV_8UC3 RGB) and blended with
// opacity settings.alpha; pixels outside the crop are left untouched. `range` sets a shared
// display range; by default displayRange(map, settings.sign, settings.clipPercentile).
SaliencyOverlay overlaySaliency(const cv::Mat& original, const cv::Mat& map, const CropGeometry& crop,
                                const DisplaySettings& settings, const ValueRange* range = nullptr);

// `image` (CV_8UC3 RGB) above a colour bar strip labelled with the range ends.
cv::Mat withColorBar(const cv::Mat& image, Colormap map, const ValueRange& range);

}  // namespace fs::analysis
