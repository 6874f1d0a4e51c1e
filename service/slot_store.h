#pragma once
// Private to fs_service (LibTorch inside): the state the session services share — up to kMaxSlots
// loaded models, the current image, and per-image caches of the preprocessed input, activations,
// tap gradients and the prediction. Not included by any public service header.
#include "analysis/fashion_mnist.h"
#include "analysis/feature_stats.h"
#include "analysis/inference.h"
#include "analysis/model_loader.h"
#include "analysis/preprocess.h"
#include "service/types.h"

#include <ATen/core/Tensor.h>

#include <array>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace fs::service {

SessionCrop toSessionCrop(const fs::analysis::CropGeometry& g);
fs::analysis::CropGeometry toCropGeometry(const SessionCrop& c);

// The Fashion-MNIST test set (Debian's dataset-fashion-mnist), loaded once (test_set.cpp).
const fs::analysis::ImageDataset& fashionMnistTestSet();

class SlotStore {
 public:
  struct Slot {
    fs::analysis::LoadedModel model;
    SlotInfo info;
    // Per-image caches (cleared when the image changes or the slot is reloaded).
    std::optional<fs::analysis::Preprocessed> pre;
    std::map<std::string, at::Tensor> activations;
    std::map<std::pair<std::string, int>, fs::analysis::TapGradient> gradients;
    std::optional<fs::analysis::Prediction> prediction;
  };

  // InputError when `i` is out of range or empty.
  Slot& slot(int i);
  bool has(int i) const;
  void put(int i, Slot s);
  void clear(int i);
  // The loaded slots in slot order.
  std::vector<Slot*> loaded();

  void setImage(const cv::Mat& rgb, const std::string& name);
  const cv::Mat& image() const { return image_; }
  const std::string& imageName() const { return imageName_; }

  // The slot's view of the current image (InputError without an image), cached.
  const fs::analysis::Preprocessed& input(Slot& s);
  // All taps in one forward under InferenceMode, cached per image.
  const at::Tensor& activation(Slot& s, const std::string& tap);
  const fs::analysis::TapGradient& gradient(Slot& s, const std::string& tap, int target);
  int topClass(Slot& s);

 private:
  static void clearCaches(Slot& s);
  std::array<std::optional<Slot>, kMaxSlots> slots_;
  cv::Mat image_;
  std::string imageName_;
};

}  // namespace fs::service
