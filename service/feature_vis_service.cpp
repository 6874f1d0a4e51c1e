#include "service/feature_vis_service.h"

#include "analysis/batch_budget.h"
#include "analysis/batch_export.h"
#include "analysis/fashion_mnist.h"
#include "analysis/features/effective_rf.h"
#include "analysis/features/exemplars.h"
#include "analysis/features/feature_visualization.h"
#include "analysis/features/selectivity.h"
#include "analysis/inference.h"
#include "analysis/preprocess.h"
#include "analysis/sha256.h"
#include "model/atomic_file.h"
#include "model/errors.h"
#include "service/image_source.h"
#include "service/slot_store.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <filesystem>
#include <map>

namespace fs::service {

namespace fa = fs::analysis;
using fs::model::InputError;

namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The analysis passes' progress callback: reports the fraction, returns false once cancelled.
std::function<bool(int64_t, int64_t)> reporter(const SessionProgress& progress, const std::atomic<bool>* cancel) {
  return [&progress, cancel](int64_t done, int64_t total) {
    if (progress) progress(double(done) / double(std::max<int64_t>(1, total)));
    return !(cancel && cancel->load());
  };
}

// A pass stopped by `cancel` ends in an InputError ("... cancelled"): the result says cancelled.
template <class Result, class Pass>
Result cancellable(const std::atomic<bool>* cancel, Pass pass) {
  try {
    return pass();
  } catch (const InputError&) {
    if (!(cancel && cancel->load())) throw;
    Result r;
    r.cancelled = true;
    return r;
  }
}

fa::ImageSource imageSource(const FeatureDataset& d, std::vector<std::string>* files) {
  if (d.folder.empty()) return fa::fashionMnistSource(fa::defaultFashionMnistDir(), d.limit);
  fa::ImageSource s = fa::imageFolderSource(d.folder, d.limit);
  if (files) {
    *files = fa::listImageFiles(d.folder);
    files->resize(size_t(s.count));
  }
  return s;
}

std::string keyString(const fa::ExemplarIndex& i) {
  std::string key = i.model + "\n" + i.weightsSha256 + "\n" + i.datasetSha256 + "\n" + std::to_string(i.imageCount) +
                    "\n" + std::to_string(i.k) + " " + fa::exemplarScoreName(i.score) + " " +
                    std::to_string(i.inputHeight) + "x" + std::to_string(i.inputWidth) + "\n";
  for (const auto& t : i.taps) key += t + "\n";
  return key;
}

cv::Mat toRgb8(const at::Tensor& chw01) {  // [3,H,W] in [0,1] -> CV_8UC3
  const at::Tensor hwc = chw01.permute({1, 2, 0}).mul(255.0).round().clamp(0, 255).to(at::kByte).contiguous();
  return cv::Mat(int(hwc.size(0)), int(hwc.size(1)), CV_8UC3, hwc.data_ptr<uint8_t>()).clone();
}

}  // namespace

std::string exemplarCachePath(const std::string& cacheDir, const std::string& modelId, const std::string& key) {
  std::string name = modelId;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') c = '_';
  return (std::filesystem::path(cacheDir) / "exemplars" / (name + "-" + fa::sha256Hex(key).substr(0, 16) + ".json"))
      .string();
}

struct FeatureVisService::Impl {
  struct Index {
    std::string modelId, weightsPath;
    fa::ExemplarIndex index;
    fa::ImageSource source;
    std::vector<std::string> files;  // folders: the image files in index order
  };
  std::map<int, Index> indexes;                    // by slot
  std::map<std::string, std::string> fingerprints;  // weights path -> SHA-256

  std::string fingerprint(const fa::LoadedModel& m) {
    if (m.weightsPath.empty()) return "random-init-seed-" + std::to_string(m.seed);
    auto it = fingerprints.find(m.weightsPath);
    if (it == fingerprints.end()) it = fingerprints.emplace(m.weightsPath, fa::sha256File(m.weightsPath)).first;
    return it->second;
  }
};

FeatureVisService::FeatureVisService(SlotStore& store) : store_(store), impl_(std::make_unique<Impl>()) {}
FeatureVisService::~FeatureVisService() = default;

ExemplarsReady FeatureVisService::exemplars(const ExemplarsRequest& request, const SessionProgress& progress,
                                            const std::atomic<bool>* cancel) {
  if (request.cacheDir.empty()) throw InputError("exemplars: no cache folder given");
  SlotStore::Slot& s = store_.slot(request.slot);
  const auto t0 = Clock::now();
  Impl::Index entry;
  entry.modelId = s.info.modelId, entry.weightsPath = s.info.weightsPath;
  entry.source = imageSource(request.data, &entry.files);
  fa::ExemplarIndex& want = entry.index;
  want.model = s.model.config.id, want.weightsSha256 = impl_->fingerprint(s.model);
  want.datasetSha256 = entry.source.contentHash, want.imageCount = entry.source.count;
  want.taps = fa::tapNames(s.model), want.k = request.k, want.score = fa::ExemplarScore::Max;
  want.inputHeight = s.model.config.input.height, want.inputWidth = s.model.config.input.width;
  const std::string path = exemplarCachePath(request.cacheDir, s.info.modelId, keyString(want));

  ExemplarsReady out;
  out.slot = request.slot, out.modelId = s.info.modelId, out.dataset = entry.source.description;
  out.images = int(entry.source.count), out.k = request.k, out.score = "max", out.indexPath = path;
  bool reused = false;
  if (std::filesystem::exists(path)) {
    try {
      fa::ExemplarIndex old = fa::readExemplarIndex(path);
      if (old.sameKey(want) && old.shard.count == 1) want = std::move(old), reused = true;
    } catch (const InputError&) {  // unreadable: computed again and replaced
    }
  }
  if (!reused) {
    fa::ExemplarOptions o;
    o.taps = want.taps, o.k = want.k, o.score = want.score;
    try {
      want = fa::computeExemplars(s.model, want.weightsSha256, entry.source, o, reporter(progress, cancel));
    } catch (const InputError&) {
      if (!(cancel && cancel->load())) throw;
      out.cancelled = true;
      return out;
    }
    fs::model::createFoldersFor(path);
    fs::model::writeFileAtomically(path, fa::exemplarIndexText(want));
  }
  out.reused = reused;
  out.seconds = secondsSince(t0);
  impl_->indexes[request.slot] = std::move(entry);
  return out;
}

bool FeatureVisService::hasExemplars(int slot) const { return impl_->indexes.count(slot) > 0; }

ChannelExemplars FeatureVisService::channelExemplars(int slot, const std::string& tap, int channel) {
  SlotStore::Slot& s = store_.slot(slot);
  auto it = impl_->indexes.find(slot);
  if (it == impl_->indexes.end() || it->second.modelId != s.info.modelId || it->second.weightsPath != s.info.weightsPath)
    throw InputError("slot " + std::to_string(slot + 1) + " (" + s.info.modelId + "): no exemplars yet, compute them first");
  const Impl::Index& entry = it->second;
  const auto found = entry.index.channels.find(tap);
  if (found == entry.index.channels.end())
    throw InputError("the exemplar index of " + s.info.modelId + " has no tap '" + tap + "'");
  if (channel < 0 || channel >= int(found->second.size()))
    throw InputError(tap + ": channel " + std::to_string(channel) + " out of range (" +
                     std::to_string(found->second.size()) + " channels)");
  const auto& spec = s.model.config.input;
  ChannelExemplars out;
  out.slot = slot, out.tap = tap, out.channel = channel;
  out.score = fa::exemplarScoreName(entry.index.score), out.dataset = entry.index.dataset;
  int rank = 0;
  for (const fa::Exemplar& e : found->second[size_t(channel)]) {
    ChannelExemplar c;
    c.rank = ++rank, c.image = e.image, c.score = e.score, c.cellY = e.cellY, c.cellX = e.cellX;
    std::copy(e.box, e.box + 4, c.box);
    c.name = entry.source.names[size_t(e.image)];
    const cv::Mat seen = entry.source.seen(e.image, spec);
    c.crop = seen(cv::Rect(e.box[0], e.box[1], e.box[2] - e.box[0], e.box[3] - e.box[1])).clone();
    cv::Mat original;
    if (entry.files.empty()) {
      c.testIndex = int(e.image);
      original = testSetImage(c.testIndex);
    } else {
      c.path = std::filesystem::absolute(entry.files[size_t(e.image)]).string();
      original = loadImageFile(c.path);
    }
    // Model-input pixel edge u lies at original x0 + u / scale (preprocess.h's CropGeometry).
    const fa::CropGeometry g = fa::preprocess(original, spec).crop;
    c.originalBox[0] = g.x0 + e.box[0] / g.scale, c.originalBox[2] = g.x0 + e.box[2] / g.scale;
    c.originalBox[1] = g.y0 + e.box[1] / g.scaleY, c.originalBox[3] = g.y0 + e.box[3] / g.scaleY;
    out.exemplars.push_back(std::move(c));
  }
  return out;
}

ChannelVis FeatureVisService::visualize(const ChannelVisRequest& request, const SessionProgress& progress,
                                        const std::atomic<bool>* cancel) {
  SlotStore::Slot& s = store_.slot(request.slot);
  const auto info = fa::findTap(s.model, request.tap);
  if (request.channel < 0 || request.channel >= int(info.channels))
    throw InputError(request.tap + ": channel " + std::to_string(request.channel) + " out of range (" +
                     std::to_string(info.channels) + " channels)");
  fa::VisOptions o;
  o.objective = fa::VisObjective::Channel;
  o.tap = request.tap, o.channel = request.channel, o.steps = request.steps, o.seed = request.seed;
  // Greyscale for models trained on greyscale data (the Fashion-MNIST demos), as the CLI.
  o.greyscale = s.model.config.labels == "fashion-mnist";
  const auto t0 = Clock::now();
  return cancellable<ChannelVis>(cancel, [&] {
    const fa::VisResult r = fa::visualizeFeature(s.model, o, [&](int step, int steps) {
      if (progress) progress(double(step) / double(std::max(1, steps)));
      return !(cancel && cancel->load());
    });
    ChannelVis out;
    out.slot = request.slot, out.tap = request.tap, out.channel = request.channel;
    out.image = toRgb8(r.image);
    out.activation = r.activation, out.initial = r.initial;
    out.greyscale = o.greyscale, out.steps = o.steps;
    {  // the channel's peak over positions on the same image (what a max-scored exemplar reports)
      c10::InferenceMode guard;
      const auto& spec = s.model.config.input;
      const at::Tensor mean = at::tensor(std::vector<float>(spec.mean.begin(), spec.mean.end())).view({1, 3, 1, 1});
      const at::Tensor sd = at::tensor(std::vector<float>(spec.std.begin(), spec.std.end())).view({1, 3, 1, 1});
      const at::Tensor x = (r.image.unsqueeze(0) - mean) / sd;
      out.peak = s.model.net->forward(x, {request.tap}).taps.at(request.tap)[0][request.channel].max().item<double>();
    }
    out.seconds = secondsSince(t0);
    return out;
  });
}

SlotErf FeatureVisService::erf(const ErfRequest& request, const SessionProgress& progress,
                               const std::atomic<bool>* cancel) {
  SlotStore::Slot& s = store_.slot(request.slot);
  const auto t0 = Clock::now();
  const fa::ImageSource source = imageSource(request.data, nullptr);
  return cancellable<SlotErf>(cancel, [&] {
    const auto maps = fa::effectiveReceptiveFields(s.model, s.model.net->stages(), source, std::max(1, request.batch),
                                                   reporter(progress, cancel));
    SlotErf out;
    out.slot = request.slot, out.modelId = s.info.modelId, out.dataset = source.description;
    out.images = int(source.count);
    const auto& spec = s.model.config.input;
    for (const fa::ErfMap& e : maps) {
      StageErf st;
      st.tap = e.tap, st.global = e.rf.global, st.rfSize = e.rf.size, st.jump = e.rf.jump;
      st.cellY = e.cellY, st.cellX = e.cellX, st.centreY = e.centreY, st.centreX = e.centreX;
      st.radius50 = e.radius50, st.radius90 = e.radius90;
      const fa::PixelBox b = fa::receptiveBox(e.rf, e.cellY, e.cellX, spec.height, spec.width);
      st.rfBox[0] = b.x0, st.rfBox[1] = b.y0, st.rfBox[2] = b.x1, st.rfBox[3] = b.y1;
      const at::Tensor m = e.map.to(at::kFloat).contiguous();
      st.map = cv::Mat(int(m.size(0)), int(m.size(1)), CV_32F, m.data_ptr<float>()).clone();
      out.stages.push_back(std::move(st));
    }
    out.seconds = secondsSince(t0);
    return out;
  });
}

ChannelSelectivity FeatureVisService::selectivity(const SelectivityRequest& request, const SessionProgress& progress,
                                                  const std::atomic<bool>* cancel) {
  SlotStore::Slot& s = store_.slot(request.slot);
  const fa::ImageSource source = imageSource(request.data, nullptr);
  const auto& spec = s.model.config.input;
  const int batch = int(fa::chooseBatchSize(0, false, s.model, spec.height, spec.width));
  return cancellable<ChannelSelectivity>(cancel, [&] {
    const at::Tensor responses = fa::channelResponses(s.model, request.tap, source, batch, reporter(progress, cancel));
    ChannelSelectivity out;
    out.slot = request.slot, out.tap = request.tap, out.dataset = source.description, out.images = int(source.count);
    if (request.data.folder.empty()) {
      const at::Tensor labels = fashionMnistTestSet().labels.narrow(0, 0, source.count);
      out.measure = "class selectivity index";
      out.values = fa::classSelectivityIndex(responses, labels, 10);
    } else {
      out.measure = "lifetime sparseness";
      out.values = fa::lifetimeSparseness(responses);
    }
    return out;
  });
}

}  // namespace fs::service
