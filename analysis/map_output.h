#pragma once
// The one writer of maps and pictures for every front end (CLI commands, the folder export, the
// GUI's exports): a map as float32 NPY and an 8-bit picture as PNG, both written atomically
// (no partial file on failure). Torch-free: maps are CV_32F images here.
#include <opencv2/core/mat.hpp>

#include <string>

namespace fs::analysis {

// A single-channel CV_32F 2-D map as float32 NPY [rows, cols] (InputError naming the file for
// anything else). The saliency NPY is SaliencyResult::map2d: the map that is displayed and ranked.
void writeMapNpy(const std::string& path, const cv::Mat& map);
// CV_8UC3 RGB or CV_8UC1 grey as PNG (InputError naming the file when encoding fails).
void writePng(const std::string& path, const cv::Mat& image);

}  // namespace fs::analysis
