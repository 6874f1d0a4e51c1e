#include "service/slot_store.h"

#include "model/errors.h"

#include <c10/core/InferenceMode.h>

namespace fs::service {

using namespace fs::analysis;

SessionCrop toSessionCrop(const CropGeometry& g) {
  SessionCrop c;
  c.scale = g.scale, c.scaleY = g.scaleY, c.x0 = g.x0, c.y0 = g.y0, c.width = g.width, c.height = g.height;
  return c;
}

CropGeometry toCropGeometry(const SessionCrop& c) {
  CropGeometry g;
  g.scale = c.scale, g.scaleY = c.scaleY, g.x0 = c.x0, g.y0 = c.y0, g.width = c.width, g.height = c.height;
  return g;
}

cv::Point2d SessionCrop::toOriginal(double u, double v) const {
  return {x0 + (u + 0.5) / scale - 0.5, y0 + (v + 0.5) / scaleY - 0.5};
}

cv::Point2d SessionCrop::fromOriginal(double x, double y) const {
  return {(x + 0.5 - x0) * scale - 0.5, (y + 0.5 - y0) * scaleY - 0.5};
}

SlotStore::Slot& SlotStore::slot(int i) {
  if (!has(i)) throw fs::model::InputError("model slot " + std::to_string(i + 1) + " is empty");
  return *slots_[static_cast<size_t>(i)];
}

bool SlotStore::has(int i) const { return i >= 0 && i < kMaxSlots && slots_[static_cast<size_t>(i)].has_value(); }

void SlotStore::put(int i, Slot s) {
  if (i < 0 || i >= kMaxSlots)
    throw fs::model::InputError("model slot " + std::to_string(i + 1) + " does not exist (1-" +
                                std::to_string(kMaxSlots) + ")");
  slots_[static_cast<size_t>(i)] = std::move(s);
}

void SlotStore::clear(int i) {
  if (i >= 0 && i < kMaxSlots) slots_[static_cast<size_t>(i)].reset();
}

std::vector<SlotStore::Slot*> SlotStore::loaded() {
  std::vector<Slot*> out;
  for (auto& s : slots_)
    if (s) out.push_back(&*s);
  return out;
}

void SlotStore::setImage(const cv::Mat& rgb, const std::string& name) {
  if (rgb.empty() || rgb.type() != CV_8UC3) throw fs::model::InputError(name + ": not an 8-bit RGB image");
  image_ = rgb.clone();
  imageName_ = name;
  for (auto& s : slots_)
    if (s) clearCaches(*s);
}

const Preprocessed& SlotStore::input(Slot& s) {
  if (image_.empty()) throw fs::model::InputError("no image: open an image first");
  if (!s.pre) s.pre = preprocess(image_, s.model.config.input);
  return *s.pre;
}

const at::Tensor& SlotStore::activation(Slot& s, const std::string& tap) {
  auto it = s.activations.find(tap);
  if (it != s.activations.end()) return it->second;
  const Preprocessed& p = input(s);
  findTap(s.model, tap);  // InputError naming the model's taps
  std::vector<std::string> names;
  for (const auto& t : s.info.taps) names.push_back(t.name);
  {
    c10::InferenceMode guard;
    auto result = s.model.net->forward(p.input, names);
    for (auto& [name, t] : result.taps) s.activations[name] = t.to(at::kFloat).contiguous();
  }
  return s.activations.at(tap);
}

const TapGradient& SlotStore::gradient(Slot& s, const std::string& tap, int target) {
  auto key = std::make_pair(tap, target);
  auto it = s.gradients.find(key);
  if (it == s.gradients.end()) it = s.gradients.emplace(key, tapGradient(s.model, input(s).input, tap, target)).first;
  return it->second;
}

int SlotStore::topClass(Slot& s) {
  if (!s.prediction) s.prediction = fs::analysis::predict(s.model, input(s).input, 5);
  return s.prediction->top.empty() ? 0 : s.prediction->top.front().index;
}

void SlotStore::clearCaches(Slot& s) {
  s.pre.reset();
  s.activations.clear();
  s.gradients.clear();
  s.prediction.reset();
}

}  // namespace fs::service
