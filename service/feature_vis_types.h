#pragma once
// Requests and results of the feature-visualisation service (service/feature_vis_service.h):
// plain std types and cv::Mat, no LibTorch, so Qt code can include them.
#include "service/types.h"

#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fs::service {

// The images a feature-visualisation job runs over: the first `limit` images (0: all) of the
// Fashion-MNIST test set (folder empty) or of an image folder.
struct FeatureDataset {
  std::string folder;
  int limit = 1000;
};

// Dataset exemplars of every tap of a slot's model, kept as an index file (analysis/features/
// exemplars.h) in `cacheDir`, reused when its key (weights' SHA-256, the images' content hash,
// taps, k, score) matches.
struct ExemplarsRequest {
  int slot = 0;
  FeatureDataset data;
  int k = 9;
  std::string cacheDir;
};

struct ExemplarsReady {
  int slot = 0;
  std::string modelId;
  std::string dataset;    // description of the images
  int images = 0;
  int k = 0;
  std::string score;      // max | mean
  std::string indexPath;
  bool reused = false;    // read from the cache rather than computed
  double seconds = 0.0;
  bool cancelled = false;
};

// One exemplar of a channel: the image (a test-set index or a file), its score, the argmax cell
// and its receptive-field box in model-input pixels, the crop of that box as the model saw the
// image, and the box in the original image's pixels (where the opened image shows it).
struct ChannelExemplar {
  int rank = 0;
  int64_t image = 0;      // index in the data set
  int testIndex = -1;     // Fashion-MNIST test image, else -1
  std::string path;       // the image file (folders), else empty
  std::string name;
  float score = 0.f;
  int cellY = 0, cellX = 0;
  int box[4] = {0, 0, 0, 0};       // x0, y0, x1, y1 (half-open), model-input pixels
  double originalBox[4] = {0, 0, 0, 0};  // x0, y0, x1, y1 in original-image pixels (pixel edges)
  cv::Mat crop;           // CV_8UC3 RGB
};

struct ChannelExemplars {
  int slot = 0;
  std::string tap;
  int channel = 0;
  std::string score;      // max | mean: what `score` of each exemplar is
  std::string dataset;
  std::vector<ChannelExemplar> exemplars;  // best first
};

// Activation maximisation of one channel (analysis/features/feature_visualization.h, the CLI's
// `visualize` defaults: 256 steps, Lucid's transforms, greyscale for Fashion-MNIST models).
struct ChannelVisRequest {
  int slot = 0;
  std::string tap;
  int channel = 0;
  int steps = 256;
  uint64_t seed = 0;
};

struct ChannelVis {
  int slot = 0;
  std::string tap;
  int channel = 0;
  cv::Mat image;          // CV_8UC3 RGB, the model's input size
  double activation = 0.0;  // the objective: the channel's mean over positions
  double peak = 0.0;        // the channel's max over positions on the same image
  double initial = 0.0;     // the objective on the initial image
  bool greyscale = false;
  int steps = 0;
  double seconds = 0.0;
  bool cancelled = false;
};

// Effective receptive fields (analysis/features/effective_rf.h, the same function as the CLI's
// `erf`) of a slot's stages over a data set.
struct ErfRequest {
  int slot = 0;
  FeatureDataset data{std::string(), 32};
  int batch = 8;
};

struct StageErf {
  std::string tap;
  cv::Mat map;              // CV_32F [H, W] input pixels: mean over images of sum_c |d centre / d input|
  bool global = false;      // theoretical field: the whole input
  int rfSize = 1, jump = 1;
  int cellY = 0, cellX = 0;
  double centreY = 0, centreX = 0;
  int rfBox[4] = {0, 0, 0, 0};  // the centre cell's theoretical field, clipped: x0, y0, x1, y1
  double radius50 = 0, radius90 = 0;
};

struct SlotErf {
  int slot = 0;
  std::string modelId;
  std::string dataset;
  int images = 0;
  std::vector<StageErf> stages;
  double seconds = 0.0;
  bool cancelled = false;
};

// Per-channel selectivity of one tap (analysis/features/selectivity.h): the class selectivity
// index with the test set's labels, the lifetime sparseness for a folder.
struct SelectivityRequest {
  int slot = 0;
  std::string tap;
  FeatureDataset data;
};

struct ChannelSelectivity {
  int slot = 0;
  std::string tap;
  std::string measure;       // "class selectivity index" | "lifetime sparseness"
  std::string dataset;
  int images = 0;
  std::vector<double> values;  // by channel index
  bool cancelled = false;
};

}  // namespace fs::service
