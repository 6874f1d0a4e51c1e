// SessionService's exports and multi-image analyses: the paper figure of the loaded slots, export
// manifests, NPY of one map, folder export through the batch engine, CKA between two slots, and
// the Fashion-MNIST test set (evaluation and single images).
#include "analysis/batch_export.h"
#include "analysis/cka.h"
#include "analysis/fashion_mnist.h"
#include "analysis/figure_layout.h"
#include "analysis/image_io.h"
#include "analysis/run_record.h"
#include "analysis/session_service.h"
#include "analysis/session_service_impl.h"
#include "analysis/sha256.h"
#include "analysis/trainer.h"
#include "analysis/versions.h"
#include "model/atomic_file.h"
#include "model/npy.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <mutex>
#include <opencv2/imgproc.hpp>

namespace fs::analysis {

using nlohmann::json;

namespace {

const ImageDataset& testSet() {
  static std::mutex mutex;
  static std::optional<ImageDataset> data;
  std::lock_guard<std::mutex> lock(mutex);
  if (!data) data = loadFashionMnist(defaultFashionMnistDir(), /*train=*/false);
  return *data;
}

}  // namespace

TestSetReport SessionService::evaluateTestSet(int slot, int limit) {
  Impl::Slot& s = impl_->slot(slot);
  if (s.model.config.numClasses != 10 || s.info.labels.size() != 10)
    throw fs::model::InputError(s.info.modelId + " is not a Fashion-MNIST model (it has " +
                                std::to_string(s.model.config.numClasses) + " classes, not 10)");
  const ImageDataset& data = testSet();
  const EvalResult r = evaluateDataset(*s.model.net, s.model.config, data, limit);
  TestSetReport out;
  out.slot = slot;
  out.modelId = s.info.modelId;
  out.images = static_cast<int>(r.predictions.numel());
  out.accuracy = r.accuracy;
  out.classes = s.info.labels;
  for (int64_t i : r.misclassified) {
    out.indices.push_back(static_cast<int>(i));
    out.truth.push_back(static_cast<int>(data.labels[i].item<int64_t>()));
    out.predicted.push_back(static_cast<int>(r.predictions[i].item<int64_t>()));
  }
  return out;
}

cv::Mat SessionService::testSetImage(int index, int* label) {
  const ImageDataset& data = testSet();
  if (index < 0 || index >= data.images.size(0))
    throw fs::model::InputError("Fashion-MNIST test index " + std::to_string(index) + " is out of range (0-" +
                                std::to_string(data.images.size(0) - 1) + ")");
  const at::Tensor img = data.images[index].contiguous();
  const cv::Mat gray(28, 28, CV_8U, const_cast<uint8_t*>(img.data_ptr<uint8_t>()));
  cv::Mat rgb;
  cv::cvtColor(gray, rgb, cv::COLOR_GRAY2RGB);
  if (label) *label = static_cast<int>(data.labels[index].item<int64_t>());
  return rgb;
}

FigureLayout SessionService::paperFigure(const FeatureFigureOptions& options) {
  if (impl_->image.empty()) throw fs::model::InputError("no image: open an image first");
  std::vector<LoadedModel*> models;
  for (auto& s : impl_->slots)
    if (s) models.push_back(&s->model);
  if (models.empty()) throw fs::model::InputError("no model loaded: add a model first");
  FeatureFigureOptions o = options;
  if (o.imageName.empty()) o.imageName = impl_->imageName;
  return buildFeatureFigure(models, impl_->image, o);
}

void SessionService::writeExportManifest(const std::string& exportPath, const ExportRecord& record) {
  json models = json::array();
  for (auto& s : impl_->slots) {
    if (!s) continue;
    const std::string& w = s->model.weightsPath;
    models.push_back({{"slot", s->info.slot + 1},
                      {"id", s->info.modelId},
                      {"family", s->info.family},
                      {"source", s->info.source},
                      {"weights", w.empty() ? json(nullptr) : json(w)},
                      {"weights_sha256", w.empty() ? json(nullptr) : json(sha256File(w))},
                      {"seed", s->model.seed}});
  }
  json settings = json::object();
  for (const auto& [k, v] : record.settings) settings[k] = v;
  std::string pixels;
  if (!impl_->image.empty() && impl_->image.isContinuous())
    pixels = sha256Hex(std::string_view(reinterpret_cast<const char*>(impl_->image.data),
                                        impl_->image.total() * impl_->image.elemSize()));
  const json m = {{"tool", "featurescope " FS_VERSION},
                  {"libraries", libraryVersions()},
                  {"created", utcNow()},
                  {"file", exportPath},
                  {"what", record.what},
                  {"image", {{"name", impl_->imageName},
                             {"width", impl_->image.cols},
                             {"height", impl_->image.rows},
                             {"rgb_sha256", pixels}}},
                  {"models", models},
                  {"settings", settings}};
  fs::model::writeFileAtomically(exportPath + ".manifest.json", m.dump(2) + "\n");
}

void SessionService::writeMapNpy(const std::string& path, const cv::Mat& map) {
  if (map.empty() || map.type() != CV_32F || map.dims != 2)
    throw fs::model::InputError(path + ": nothing to write (no single-channel float map selected)");
  const cv::Mat m = map.isContinuous() ? map : map.clone();
  at::Tensor t = at::from_blob(const_cast<float*>(m.ptr<float>()), {m.rows, m.cols}, at::kFloat).clone();
  fs::model::writeNpy(path, t);
}

SessionBatchResult SessionService::batchExport(const SessionBatchExport& request, const SessionProgress& progress) {
  std::vector<LoadedModel> models;
  for (auto& s : impl_->slots)
    if (s) models.push_back(s->model);  // shares the modules; this thread owns them all
  if (models.empty()) throw fs::model::InputError("no model loaded: add a model first");
  ExportOptions o;
  o.imagesDir = request.imagesDir;
  o.outDir = request.outDir;
  o.methods = request.methods;
  o.taps = request.taps;
  const size_t total = listImageFiles(request.imagesDir).size();  // InputError for a non-folder
  size_t seen = 0;
  o.log = [&](const std::string&) {
    ++seen;
    if (progress && total > 0) progress(std::min(1.0, double(seen) / double(total)));
  };
  const ExportSummary sum = runBatchExport(models, o);
  return {sum.images, sum.done, sum.skipped, sum.failed, sum.manifestPath};
}

SessionCka SessionService::cka(int slotA, int slotB, const std::vector<std::string>& imagePaths,
                               const SessionProgress& progress, const std::atomic<bool>* cancel) {
  Impl::Slot& a = impl_->slot(slotA);
  Impl::Slot& b = impl_->slot(slotB);
  std::vector<at::Tensor> inA, inB;
  for (const std::string& path : imagePaths) {
    cv::Mat rgb;
    try {
      rgb = loadImageRgb(path);
    } catch (const fs::model::InputError&) {
      continue;  // a folder may hold unreadable files; CKA uses the readable ones
    }
    inA.push_back(preprocess(rgb, a.model.config.input).input);
    inB.push_back(preprocess(rgb, b.model.config.input).input);
  }
  if (inA.size() < 2)
    throw fs::model::InputError("CKA needs at least 2 readable images; found " + std::to_string(inA.size()));
  const CkaMatrix r = computeCka(a.model, b.model, inA, inB, progress, cancel);
  SessionCka out;
  out.slotA = slotA, out.slotB = slotB;
  out.modelA = a.info.modelId, out.modelB = b.info.modelId;
  for (const auto& t : r.tapsA) out.tapsA.push_back(t.name);
  for (const auto& t : r.tapsB) out.tapsB.push_back(t.name);
  out.cka = r.cka;
  out.images = r.images;
  out.estimator = ckaEstimatorName(r.estimator);
  out.cancelled = r.cancelled;
  return out;
}

}  // namespace fs::analysis
