#pragma once
// Private to the analysis layer: SessionService's state (model slots, the current image, per-image
// caches), shared by session_service.cpp and session_export.cpp. Not for the GUI.
#include "analysis/feature_stats.h"
#include "analysis/inference.h"
#include "analysis/model_loader.h"
#include "analysis/preprocess.h"
#include "analysis/session_service.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <array>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace fs::analysis {

inline SessionCrop toSessionCrop(const CropGeometry& g) {
  SessionCrop c;
  c.scale = g.scale, c.scaleY = g.scaleY, c.x0 = g.x0, c.y0 = g.y0, c.width = g.width, c.height = g.height;
  return c;
}

inline CropGeometry toCropGeometry(const SessionCrop& c) {
  CropGeometry g;
  g.scale = c.scale, g.scaleY = c.scaleY, g.x0 = c.x0, g.y0 = c.y0, g.width = c.width, g.height = c.height;
  return g;
}

struct SessionService::Impl {
  struct Slot {
    LoadedModel model;
    SlotInfo info;
    // Per-image caches (cleared when the image changes or the slot is reloaded).
    std::optional<Preprocessed> pre;
    std::map<std::string, at::Tensor> activations;
    std::map<std::pair<std::string, int>, TapGradient> gradients;
    std::optional<Prediction> prediction;
  };
  std::array<std::optional<Slot>, kMaxSlots> slots;
  cv::Mat image;
  std::string imageName;

  Slot& slot(int i) {
    if (i < 0 || i >= kMaxSlots || !slots[static_cast<size_t>(i)])
      throw fs::model::InputError("model slot " + std::to_string(i + 1) + " is empty");
    return *slots[static_cast<size_t>(i)];
  }
  const Preprocessed& input(Slot& s) {
    if (image.empty()) throw fs::model::InputError("no image: open an image first");
    if (!s.pre) s.pre = preprocess(image, s.model.config.input);
    return *s.pre;
  }
  // All taps in one forward, cached.
  const at::Tensor& activation(Slot& s, const std::string& tap) {
    auto it = s.activations.find(tap);
    if (it != s.activations.end()) return it->second;
    const Preprocessed& p = input(s);
    std::vector<std::string> names;
    for (const auto& t : s.info.taps) names.push_back(t.name);
    {
      c10::InferenceMode guard;
      auto result = s.model.net->forward(p.input, names);
      for (auto& [name, t] : result.taps) s.activations[name] = t.to(at::kFloat).contiguous();
    }
    it = s.activations.find(tap);
    if (it == s.activations.end()) throw fs::model::InputError("unknown tap '" + tap + "' for " + s.info.modelId);
    return it->second;
  }
  const TapGradient& gradient(Slot& s, const std::string& tap, int target) {
    auto key = std::make_pair(tap, target);
    auto it = s.gradients.find(key);
    if (it == s.gradients.end()) it = s.gradients.emplace(key, tapGradient(s.model, input(s).input, tap, target)).first;
    return it->second;
  }
  int topClass(Slot& s) {
    if (!s.prediction) s.prediction = fs::analysis::predict(s.model, input(s).input, 5);
    return s.prediction->top.empty() ? 0 : s.prediction->top.front().index;
  }
  void clearCaches(Slot& s) {
    s.pre.reset();
    s.activations.clear();
    s.gradients.clear();
    s.prediction.reset();
  }
};

}  // namespace fs::analysis
