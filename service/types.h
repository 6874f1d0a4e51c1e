#pragma once
// The requests and results of the session services (service/*.h): plain structs of std types and
// cv::Mat, no LibTorch, so Qt code can include them. fs_service is the GUI's only way into the
// analysis layer; it links fs_analysis PRIVATE, so torch headers are not on ui/'s include path.
#include "analysis/colormap.h"
#include "analysis/saliency/method_parameters.h"

#include <opencv2/core/mat.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace fs::service {

using fs::analysis::DisplaySettings;

constexpr int kMaxSlots = 4;

// Where the model input came from in the original image (a copy of preprocess.h's CropGeometry):
// model-input pixel (u, v) samples original pixel (x0 + (u + 0.5) / scale - 0.5, ...).
struct SessionCrop {
  double scale = 1.0, scaleY = 1.0, x0 = 0.0, y0 = 0.0;
  int width = 0, height = 0;  // model input size
  cv::Point2d toOriginal(double u, double v) const;
  cv::Point2d fromOriginal(double x, double y) const;
};

struct SessionTap {
  std::string name;
  int channels = 0, height = 0, width = 0, stride = 1;
};

struct SessionClass {
  int index = 0;
  std::string label;
  float prob = 0.f;
};

// What a slot holds after a successful load.
struct SlotInfo {
  int slot = 0;
  std::string modelId;       // registered id or the JSON config's id
  std::string family;
  std::string source;        // the id or JSON path the user chose
  std::string weightsPath;   // empty: random init
  std::string report;        // human-readable: what was loaded, or "random init (seed 0)"
  bool randomInit = true;
  int64_t parameters = 0;
  int inputWidth = 0, inputHeight = 0;
  std::vector<SessionTap> taps;      // forward order
  std::vector<std::string> stages;   // up to four tap names ("Stage 1-4")
  std::vector<std::string> labels;   // class names
  std::vector<std::string> attentionUnits;  // ViT/DeiT: blocks.<i>.attn (ClassifierImpl::attentionUnits)
  std::vector<std::string> prefixTokens;    // ViT: cls; DeiT distilled: cls, dist
};

struct SlotPrediction {
  int slot = 0;
  std::vector<SessionClass> top;  // descending probability
  cv::Mat modelInput;             // CV_8UC3 RGB, what the model sees (de-normalised)
  SessionCrop crop;
  double elapsedMs = 0.0;
};

struct ChannelStatsLite {
  int channel = 0;
  float mean = 0, max = 0, min = 0, std = 0;
  float hoyer = 0, nearZero = 0;  // sparsity measures, see ChannelStats (analysis/feature_stats.h)
  bool dead = false;
};

// Some channels of one tap: maps are CV_32F [h,w] in tap resolution (raw values).
struct TapMaps {
  int slot = 0;
  std::string tap;
  int totalChannels = 0;
  std::vector<int> channels;            // which channels `maps` holds, in display order
  std::vector<cv::Mat> maps;
  std::vector<ChannelStatsLite> stats;  // all channels of the tap, by channel index
  SessionCrop crop;
};

struct StageMaps {
  int slot = 0;
  std::vector<TapMaps> stages;  // one per stage tap
};

// A saliency request: the method, its parameters (defaults and ranges decided once in
// analysis/saliency/method_parameters.h, the same as the CLI's) and the class.
struct SaliencyParams : fs::analysis::MethodParameters {
  std::string method = "gradcam";
  int target = -1;          // -1: top-1
  std::string tap;          // CAM methods; empty = the model's CAM tap (camTap: its last block)
  bool curves = false;      // also compute deletion/insertion curves
  int curveSteps = 20;
};

struct CurveData {
  std::vector<double> fractions, probs;
  double auc = 0.0;
};

struct SaliencyMapResult {
  int slot = 0;
  std::string method, tap;
  int target = 0;
  std::string targetLabel;
  std::string caveat;        // SaliencyResult::caveat: shown next to the map
  DisplaySettings display;   // the method's MapConvention (sign, clip, colormap); front ends add alpha
  bool cancelled = false;
  cv::Mat map;               // CV_32F [h,w] covering the model input, raw signed values
  SessionCrop crop;
  double elapsedMs = 0.0;
  bool hasCurves = false;
  CurveData deletion, insertion;
  // With curves: Grad-CAM++ confidence change when the map masks the input (zero baseline).
  double confidenceOriginal = 0.0, confidenceMasked = 0.0, confidenceDrop = 0.0;
};

struct TapStatistics {
  std::string tap;
  double meanActivation = 0.0;
  double hoyer = 0.0;     // Hoyer sparseness of all the tap's values (analysis/feature_stats.h)
  double nearZero = 0.0;  // fraction with |a| <= 1% of the tap's max |a|
  std::vector<double> edges, counts;            // histogram
};

struct SlotStatistics {
  int slot = 0;
  std::vector<TapStatistics> taps;  // forward order
};

// Linear CKA between every tap of two slots over a set of images (analysis/cka.h).
struct SessionCka {
  int slotA = 0, slotB = 0;
  std::string modelA, modelB;
  std::vector<std::string> tapsA, tapsB;       // forward order
  std::vector<std::vector<double>> cka;        // [tapsA][tapsB]; see CkaMatrix for the range
  int images = 0;
  std::string estimator;                       // "biased" or "debiased" (analysis/cka.h, Auto resolved)
  bool cancelled = false;
};

// What a GUI export records next to its file (FILE.manifest.json): the view, the image, the
// models with their weights' SHA-256, and the display settings as plain key/value pairs.
struct ExportRecord {
  std::string what;                                          // e.g. "figure", "view:compare", "npy"
  std::vector<std::pair<std::string, std::string>> settings;
};

// A folder export through the batch engine (the CLI's `export`) with the loaded slots.
struct SessionBatchExport {
  std::string imagesDir, outDir;
  std::vector<std::string> methods;  // empty: feature maps only
  std::string taps = "stages";       // stages | all
};

struct SessionBatchResult {
  int images = 0, done = 0, skipped = 0, failed = 0;
  std::string manifestPath;
};

// Misclassified images of the Fashion-MNIST test set (Debian's dataset-fashion-mnist).
struct TestSetReport {
  int slot = 0;
  std::string modelId;
  int images = 0;                            // the first `images` test images were evaluated
  double accuracy = 0.0;
  std::vector<int> indices, truth, predicted;  // one entry per misclassified image
  std::vector<std::string> classes;
};

// One attention unit's probabilities on the current image (softmax over keys, prefix tokens
// first, then the patch tokens row-major over the gridH x gridW patch grid).
struct AttentionMaps {
  int slot = 0;
  std::string unit;
  int heads = 0, tokens = 0, prefix = 0, gridH = 0, gridW = 0;
  std::vector<std::string> prefixNames;  // the prefix tokens, in token order
  std::vector<float> probs;              // [heads][tokens][tokens], row = query, column = key
  SessionCrop crop;                      // the patch grid covers the model input
};

using SessionProgress = std::function<void(double fraction)>;

}  // namespace fs::service
