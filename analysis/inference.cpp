#include "analysis/inference.h"

#include "analysis/string_list.h"
#include "model/errors.h"
#include "model/family.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <chrono>

namespace fs::analysis {
using fs::model::InputError;

void validateInput(const LoadedModel& m, const at::Tensor& input, const std::string& what) {
  if (input.dim() != 4 || input.size(0) != 1 || input.size(1) != 3)
    throw InputError(what + ": input must have shape [1,3,H,W], got " + c10::str(input.sizes()));
  if (input.scalar_type() != at::kFloat) throw InputError(what + ": input must be float32");
  const auto& spec = m.config.input;
  if (fs::model::familyTraits(m.config.family).fixedInputSize && (input.size(2) != spec.height || input.size(3) != spec.width))
    throw InputError(what + ": " + m.config.id + " needs a " + std::to_string(spec.height) + "x" +
                     std::to_string(spec.width) + " input, got " + std::to_string(input.size(2)) + "x" +
                     std::to_string(input.size(3)));
  if (input.size(2) < 16 || input.size(3) < 16 || input.size(2) > 4096 || input.size(3) > 4096)
    throw InputError(what + ": input height and width must be within 16..4096");
  if (!at::isfinite(input).all().item<bool>()) throw InputError(what + ": input contains NaN or infinity");
}

Prediction predict(LoadedModel& m, const at::Tensor& input, int topK) {
  c10::InferenceMode guard;
  const auto t0 = std::chrono::steady_clock::now();
  at::Tensor logits = m.net->forward(input, {}).logits;
  Prediction p;
  p.elapsedMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  p.logits = logits.contiguous();
  const at::Tensor probs = at::softmax(logits, 1)[0];
  const int k = std::max(1, std::min<int>(topK, int(probs.numel())));
  auto [values, indices] = at::topk(probs, k);
  for (int i = 0; i < k; ++i) {
    ClassScore s;
    s.index = int(indices[i].item<int64_t>());
    s.label = s.index < int(m.labels.size()) ? m.labels[s.index] : std::to_string(s.index);
    s.prob = values[i].item<float>();
    s.logit = logits[0][s.index].item<float>();
    p.top.push_back(s);
  }
  return p;
}

std::vector<std::string> tapNames(const LoadedModel& m) {
  std::vector<std::string> names;
  for (const auto& t : m.net->taps()) names.push_back(t.name);
  return names;
}

fs::model::TapInfo findTap(const LoadedModel& model, const std::string& name) {
  for (const auto& t : model.net->taps())
    if (t.name == name) return t;
  throw InputError("unknown tap '" + name + "' for " + model.config.id + " (valid: " + joinList(tapNames(model)) + ")");
}

at::Tensor extractTap(LoadedModel& m, const at::Tensor& input, const std::string& tap) {
  findTap(m, tap);  // InputError listing the valid taps
  c10::InferenceMode guard;
  return m.net->forward(input, {tap}).taps.at(tap).contiguous();
}

}  // namespace fs::analysis
