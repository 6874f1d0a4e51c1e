#include "analysis/features/selectivity.h"

#include "analysis/inference.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>

namespace fs::analysis {
namespace {
using fs::model::InputError;

void checkResponses(const at::Tensor& r, const char* what) {
  if (r.dim() != 2) throw InputError(std::string(what) + ": responses must be [images, channels]");
}
}  // namespace

at::Tensor channelResponses(LoadedModel& model, const std::string& tap, const ImageSource& source, int batchSize,
                            const std::function<bool(int64_t, int64_t)>& progress) {
  const auto info = findTap(model, tap);  // InputError listing the valid taps
  if (source.count < 1) throw InputError(source.description + ": no images");
  const int64_t batch = std::max(1, batchSize);
  at::Tensor out = at::zeros({source.count, int64_t(info.channels)}, at::kDouble);
  const auto& spec = model.config.input;
  for (int64_t begin = 0; begin < source.count; begin += batch) {
    const int64_t end = std::min(source.count, begin + batch);
    {
      c10::InferenceMode guard;
      const at::Tensor a = model.net->forward(source.batch(begin, end, spec), {tap}).taps.at(tap);  // [B,C,h,w]
      const at::Tensor mean = a.to(at::kDouble).clamp_min(0.0).flatten(2).mean(2);                 // [B,C]
      out.narrow(0, begin, end - begin).copy_(mean);
    }
    if (progress && !progress(end, source.count)) throw InputError("channel selectivity: cancelled");
  }
  return out;
}

std::vector<double> classSelectivityIndex(const at::Tensor& responses, const at::Tensor& labels, int64_t classes) {
  checkResponses(responses, "class selectivity");
  const at::Tensor r = responses.to(at::kDouble).contiguous();
  const at::Tensor y = labels.to(at::kLong).contiguous();
  const int64_t n = r.size(0), c = r.size(1);
  if (y.dim() != 1 || y.size(0) != n)
    throw InputError("class selectivity: " + std::to_string(y.numel()) + " labels for " + std::to_string(n) + " images");
  std::vector<double> sums(size_t(classes * c), 0.0);
  std::vector<int64_t> counts(size_t(classes), 0);
  const double* v = r.data_ptr<double>();
  const int64_t* l = y.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    if (l[i] < 0 || l[i] >= classes)
      throw InputError("class selectivity: label " + std::to_string(l[i]) + " outside 0.." + std::to_string(classes - 1));
    ++counts[size_t(l[i])];
    for (int64_t j = 0; j < c; ++j) sums[size_t(l[i] * c + j)] += v[i * c + j];
  }
  std::vector<int64_t> present;
  for (int64_t k = 0; k < classes; ++k)
    if (counts[size_t(k)] > 0) present.push_back(k);
  if (present.size() < 2) throw InputError("class selectivity: the images cover fewer than two classes");
  std::vector<double> out(size_t(c), 0.0);
  for (int64_t j = 0; j < c; ++j) {
    std::vector<double> means;  // class-conditional means of the classes that occur
    for (int64_t k : present) means.push_back(sums[size_t(k * c + j)] / double(counts[size_t(k)]));
    const auto top = std::max_element(means.begin(), means.end());
    double rest = 0.0;
    for (auto it = means.begin(); it != means.end(); ++it)
      if (it != top) rest += *it;
    rest /= double(means.size() - 1);
    const double denom = *top + rest;
    out[size_t(j)] = denom > 0.0 ? (*top - rest) / denom : 0.0;
  }
  return out;
}

std::vector<double> lifetimeSparseness(const at::Tensor& responses) {
  checkResponses(responses, "lifetime sparseness");
  const at::Tensor r = responses.to(at::kDouble);
  const int64_t n = r.size(0);
  if (n < 2) throw InputError("lifetime sparseness: needs at least two images");
  const at::Tensor mean = r.mean(0), meanSq = r.pow(2).mean(0);
  const at::Tensor s = ((1.0 - mean.pow(2) / meanSq) / (1.0 - 1.0 / double(n))).contiguous();
  const at::Tensor zero = meanSq.le(0.0).contiguous();
  std::vector<double> out(size_t(r.size(1)));
  for (int64_t j = 0; j < r.size(1); ++j) out[size_t(j)] = zero[j].item<bool>() ? 0.0 : s[j].item<double>();
  return out;
}

}  // namespace fs::analysis
