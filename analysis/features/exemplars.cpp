#include "analysis/features/exemplars.h"

#include "analysis/batch_budget.h"
#include "analysis/features/receptive_field.h"
#include "analysis/inference.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <queue>

namespace fs::analysis {
namespace {
using fs::model::InputError;

// Keeps the k best; top() is the worst kept, the first to leave.
class TopK {
 public:
  explicit TopK(int k) : k_(size_t(k)) {}
  void offer(const Exemplar& e) {
    if (heap_.size() < k_) {
      heap_.push(e);
    } else if (exemplarBefore(e, heap_.top())) {
      heap_.pop();
      heap_.push(e);
    }
  }
  std::vector<Exemplar> sorted() const {
    auto copy = heap_;
    std::vector<Exemplar> out;
    while (!copy.empty()) out.push_back(copy.top()), copy.pop();
    std::reverse(out.begin(), out.end());
    return out;
  }

 private:
  struct Worse {
    bool operator()(const Exemplar& a, const Exemplar& b) const { return exemplarBefore(a, b); }
  };
  size_t k_;
  std::priority_queue<Exemplar, std::vector<Exemplar>, Worse> heap_;
};

}  // namespace

ExemplarScore parseExemplarScore(const std::string& name) {
  if (name == "max") return ExemplarScore::Max;
  if (name == "mean") return ExemplarScore::Mean;
  throw InputError("unknown exemplar score '" + name + "' (valid: max, mean)");
}

const char* exemplarScoreName(ExemplarScore s) { return s == ExemplarScore::Max ? "max" : "mean"; }

bool exemplarBefore(const Exemplar& a, const Exemplar& b) {
  return a.score != b.score ? a.score > b.score : a.image < b.image;
}

bool ExemplarIndex::sameKey(const ExemplarIndex& o) const {
  return model == o.model && weightsSha256 == o.weightsSha256 && datasetSha256 == o.datasetSha256 &&
         imageCount == o.imageCount && taps == o.taps && k == o.k && score == o.score &&
         inputHeight == o.inputHeight && inputWidth == o.inputWidth;
}

namespace {

// A new index's key and description: model, weights, data set, taps (default: the stages), k, score, shard.
ExemplarIndex newExemplarIndex(LoadedModel& model, const std::string& weightsSha256, const ImageSource& source,
                               const ExemplarOptions& options) {
  ExemplarIndex index;
  index.model = model.config.id, index.weightsSha256 = weightsSha256;
  index.dataset = source.description, index.datasetSha256 = source.contentHash, index.imageCount = source.count;
  index.taps = options.taps.empty() ? model.net->stages() : options.taps;
  index.k = options.k, index.score = options.score, index.shard = options.shard;
  const auto& spec = model.config.input;
  index.inputHeight = spec.height, index.inputWidth = spec.width;
  return index;
}

// Per tap: its receptive field and one TopK per channel.
struct ExemplarTapHeaps {
  std::vector<ReceptiveField> fields;
  std::vector<std::vector<TopK>> heaps;
};

// The receptive fields and empty heaps of the taps, each tap checked against the model.
ExemplarTapHeaps prepareExemplarTaps(LoadedModel& model, const std::vector<std::string>& taps, int k) {
  ExemplarTapHeaps state;
  for (const auto& t : taps) {
    const auto info = findTap(model, t);  // InputError listing the valid taps
    state.fields.push_back(receptiveField(model, t));
    state.heaps.emplace_back(size_t(info.channels), TopK(k));
  }
  return state;
}

// The indices of the source's images in the shard, in order.
std::vector<int64_t> exemplarShardImages(const ImageSource& source, const ShardSpec& shard) {
  std::vector<int64_t> images;
  for (int64_t i = 0; i < source.count; ++i)
    if (inShard(size_t(i), shard)) images.push_back(i);
  return images;
}

// The model inputs of images[begin, end), one tensor per image.
std::vector<at::Tensor> exemplarBatchImages(const ImageSource& source, const std::vector<int64_t>& images,
                                            size_t begin, size_t end, const fs::model::InputSpec& spec) {
  std::vector<at::Tensor> xs;
  for (size_t i = begin; i < end; ++i) xs.push_back(source.batch(images[i], images[i] + 1, spec));
  return xs;
}

// Offers each channel's heap its exemplar from each image of a tap's activations [B,C,h,w] (score, cell, box).
void offerTapExemplars(const at::Tensor& a, const ReceptiveField& field, std::vector<TopK>& heaps,
                       const std::vector<int64_t>& images, size_t begin, const ExemplarOptions& options,
                       const fs::model::InputSpec& spec) {
  const int64_t w = a.size(3);
  const at::Tensor flat = a.reshape({a.size(0), a.size(1), -1}).to(at::kFloat);
  const auto [peak, where] = flat.max(2);
  const at::Tensor score = (options.score == ExemplarScore::Max ? peak : flat.mean(2)).contiguous();
  const at::Tensor arg = where.contiguous();
  const auto s = score.accessor<float, 2>();
  const auto g = arg.accessor<int64_t, 2>();
  for (int64_t b = 0; b < score.size(0); ++b)
    for (int64_t c = 0; c < score.size(1); ++c) {
      Exemplar e;
      e.image = images[begin + size_t(b)], e.score = s[b][c];
      e.cellY = int(g[b][c] / w), e.cellX = int(g[b][c] % w);
      const PixelBox box = receptiveBox(field, e.cellY, e.cellX, spec.height, spec.width);
      e.box[0] = box.x0, e.box[1] = box.y0, e.box[2] = box.x1, e.box[3] = box.y1;
      heaps[size_t(c)].offer(e);
    }
}

// The index's lists: per tap and channel the kept exemplars, best first, with their images' names.
void collectExemplars(ExemplarIndex& index, const std::vector<std::vector<TopK>>& heaps, const ImageSource& source) {
  for (size_t t = 0; t < index.taps.size(); ++t) {
    auto& list = index.channels[index.taps[t]];
    for (const auto& heap : heaps[t]) {
      list.push_back(heap.sorted());
      for (const auto& e : list.back()) index.imageNames[e.image] = source.names[size_t(e.image)];
    }
  }
}

}  // namespace

ExemplarIndex computeExemplars(LoadedModel& model, const std::string& weightsSha256, const ImageSource& source,
                               const ExemplarOptions& options, const std::function<bool(int64_t, int64_t)>& progress) {
  if (options.k < 1) throw InputError("exemplars: k must be at least 1");
  ExemplarIndex index = newExemplarIndex(model, weightsSha256, source, options);
  const auto& spec = model.config.input;
  ExemplarTapHeaps state = prepareExemplarTaps(model, index.taps, options.k);
  const std::vector<int64_t> images = exemplarShardImages(source, options.shard);
  const int64_t batch = chooseBatchSize(options.batch, false, model, spec.height, spec.width);
  for (size_t begin = 0; begin < images.size(); begin += size_t(batch)) {
    const size_t end = std::min(images.size(), begin + size_t(batch));
    const std::vector<at::Tensor> xs = exemplarBatchImages(source, images, begin, end, spec);
    c10::InferenceMode guard;
    const auto result = model.net->forward(at::cat(xs, 0), index.taps);
    for (size_t t = 0; t < index.taps.size(); ++t) {
      const at::Tensor a = result.taps.at(index.taps[t]);  // [B,C,h,w]
      offerTapExemplars(a, state.fields[t], state.heaps[t], images, begin, options, spec);
    }
    if (progress && !progress(int64_t(end), int64_t(images.size()))) throw InputError("exemplars: cancelled");
  }
  collectExemplars(index, state.heaps, source);
  return index;
}

ExemplarIndex mergeExemplarShards(const std::vector<ExemplarIndex>& shards) {
  if (shards.empty()) throw InputError("exemplars merge: no shards given");
  const int n = shards[0].shard.count;
  std::vector<bool> seen(size_t(n), false);
  for (const auto& s : shards) {
    if (!s.sameKey(shards[0]))
      throw InputError("exemplars merge: shard " + std::to_string(s.shard.index) + "/" + std::to_string(s.shard.count) +
                       " has another model, weights, data set, tap list, k or score than the first");
    if (s.shard.count != n) throw InputError("exemplars merge: shards of different splits (N differs)");
    if (seen[size_t(s.shard.index - 1)]) throw InputError("exemplars merge: shard " + std::to_string(s.shard.index) + " given twice");
    seen[size_t(s.shard.index - 1)] = true;
  }
  for (int i = 0; i < n; ++i)
    if (!seen[size_t(i)]) throw InputError("exemplars merge: shard " + std::to_string(i + 1) + "/" + std::to_string(n) + " is missing");
  ExemplarIndex out = shards[0];
  out.shard = ShardSpec{};
  out.channels.clear(), out.imageNames.clear();
  for (const auto& tap : out.taps) {
    const size_t channels = shards[0].channels.at(tap).size();
    auto& list = out.channels[tap];
    for (size_t c = 0; c < channels; ++c) {
      TopK heap(out.k);
      for (const auto& s : shards) {
        if (s.channels.at(tap).size() != channels) throw InputError("exemplars merge: channel counts differ at " + tap);
        for (const auto& e : s.channels.at(tap)[c]) heap.offer(e);
      }
      list.push_back(heap.sorted());
      for (const auto& e : list.back())
        for (const auto& s : shards)
          if (s.imageNames.count(e.image)) out.imageNames[e.image] = s.imageNames.at(e.image);
    }
  }
  return out;
}

}  // namespace fs::analysis
