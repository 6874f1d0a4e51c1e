#pragma once
// The session's exports: the paper figure of the loaded slots on the current image, the manifest
// written next to an exported file, and a folder through the batch engine (the CLI's `export`).
// Pixels and NPY files are written by the same functions the CLI uses (map_output below).
#include "analysis/figure_layout.h"
#include "analysis/saliency_overlay.h"
#include "service/types.h"

#include <opencv2/core/mat.hpp>

#include <string>

namespace fs::service {

class SlotStore;

class ExportService {
 public:
  explicit ExportService(SlotStore& store) : store_(store) {}
  // Every loaded slot in slot order (InputError without an image or a model).
  fs::analysis::FigureLayout paperFigure(const fs::analysis::FeatureFigureOptions& options);
  // exportPath + ".manifest.json", atomically: the view, the image's SHA-256, the models with
  // their weights' SHA-256, and the settings.
  void writeManifest(const std::string& exportPath, const ExportRecord& record);
  SessionBatchResult batchExport(const SessionBatchExport& request, const SessionProgress& progress = {});

 private:
  SlotStore& store_;
};

// A CV_32F map as float32 NPY, written atomically (InputError for anything else).
void writeMapNpy(const std::string& path, const cv::Mat& map);
// A map covering the model input, coloured and blended over the original image, and the range
// its colours encode (analysis/saliency_overlay.h: the same function and the same default range
// as the CLI's PNG, the export and the figure). `range`: a shared range instead.
fs::analysis::SaliencyOverlay overlay(const cv::Mat& original, const cv::Mat& map, const SessionCrop& crop,
                                      const fs::analysis::DisplaySettings& settings,
                                      const fs::analysis::ValueRange* range = nullptr);

}  // namespace fs::service
