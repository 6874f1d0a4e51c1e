#pragma once
// The GUI's torch-free facade over the analysis layer: up to kMaxSlots loaded models and the
// current image, with activations and gradients cached per (slot, image, tap, target). Every
// result is a plain struct of std types and cv::Mat, so Qt code can include this header.
// Thread: one thread (the GUI worker) owns a SessionService and calls every member function;
// the static helpers are pure and may be called from any thread. Errors: fs::model::InputError
// (or std::exception) thrown to the caller, which turns them into values.
#include "analysis/colormap.h"

#include <opencv2/core/mat.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace fs::analysis {

struct ValueRange;

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

struct SaliencyParams {
  std::string method = "gradcam";
  int target = -1;          // -1: top-1
  std::string tap;          // CAM methods; empty = the model's last block (camTap)
  int samples = 8;
  double sigma = 0.15;
  int steps = 32;
  std::string baseline = "zero";
  int window = 16, stride = 8;
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

struct FeatureFigureOptions;
struct FigureLayout;

using SessionProgress = std::function<void(double fraction)>;

class SessionService {
 public:
  SessionService();
  ~SessionService();
  SessionService(const SessionService&) = delete;
  SessionService& operator=(const SessionService&) = delete;

  // Loads into `slot` (0..kMaxSlots-1). On failure throws and leaves the slot's model as it was.
  SlotInfo loadSlot(int slot, const std::string& idOrConfig, const std::string& weightsPath, uint64_t seed = 0);
  void clearSlot(int slot);

  // Sets the current image (CV_8UC3 RGB); drops per-image caches.
  void setImage(const cv::Mat& rgb, const std::string& name);

  SlotPrediction predict(int slot, int topK);
  // k maps per stage tap: first-k (rank "first") or ranked by "mean" / "max".
  StageMaps stageMaps(int slot, int k, const std::string& rank);
  // Every channel of one tap (the feature-map view), ranked channels in display order.
  TapMaps tapMaps(int slot, const std::string& tap, const std::string& rank);
  SaliencyMapResult saliency(int slot, const SaliencyParams& params, const SessionProgress& progress = {},
                             const std::atomic<bool>* cancel = nullptr);
  SlotStatistics statistics(int slot, int bins);
  // CKA over the given image files (at least 2 readable ones; unreadable files are skipped).
  SessionCka cka(int slotA, int slotB, const std::vector<std::string>& imagePaths,
                 const SessionProgress& progress = {}, const std::atomic<bool>* cancel = nullptr);

  // The first `limit` Fashion-MNIST test images through a 10-class slot (InputError otherwise).
  TestSetReport evaluateTestSet(int slot, int limit);

  // Exports (session_export.cpp).
  // The paper figure of every loaded slot, in slot order, on the current image.
  FigureLayout paperFigure(const FeatureFigureOptions& options);
  // Writes exportPath + ".manifest.json" atomically.
  void writeExportManifest(const std::string& exportPath, const ExportRecord& record);
  SessionBatchResult batchExport(const SessionBatchExport& request, const SessionProgress& progress = {});

  // Pure helpers (any thread).
  static std::vector<std::string> registeredIds();
  static std::string describeVariant(const std::string& id);
  static std::vector<std::string> methodNames();
  static std::vector<std::string> integratedGradientsBaselines();  // zero, black, blur, mean
  static cv::Mat loadImageFile(const std::string& path);                          // CV_8UC3 RGB
  // Fashion-MNIST test image `index` as CV_8UC3 RGB (28x28) and its label (cached after first use).
  static cv::Mat testSetImage(int index, int* label = nullptr);
  static cv::Mat decodeImage(const std::vector<uint8_t>& bytes, const std::string& name);
  // A CV_32F map as float32 NPY, written atomically.
  static void writeMapNpy(const std::string& path, const cv::Mat& map);
  // A map covering the model input, coloured and blended over the original image.
  static cv::Mat overlay(const cv::Mat& original, const cv::Mat& map, const SessionCrop& crop,
                         const DisplaySettings& settings, const ValueRange* range = nullptr);

 private:
  TapMaps rankedTap(int slot, const std::string& tap, const std::string& rank, int k);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fs::analysis
