#include "service/export_service.h"

#include "analysis/batch_export.h"
#include "analysis/image_io.h"
#include "analysis/map_output.h"
#include "analysis/run_record.h"
#include "analysis/saliency_overlay.h"
#include "analysis/sha256.h"
#include "analysis/versions.h"
#include "model/atomic_file.h"
#include "model/errors.h"
#include "service/slot_store.h"

#include <nlohmann/json.hpp>

namespace fs::service {

using namespace fs::analysis;
using nlohmann::json;

FigureLayout ExportService::paperFigure(const FeatureFigureOptions& options) {
  if (store_.image().empty()) throw fs::model::InputError("no image: open an image first");
  std::vector<LoadedModel*> models;
  for (SlotStore::Slot* s : store_.loaded()) models.push_back(&s->model);
  if (models.empty()) throw fs::model::InputError("no model loaded: add a model first");
  FeatureFigureOptions o = options;
  if (o.imageName.empty()) o.imageName = store_.imageName();
  return buildFeatureFigure(models, store_.image(), o);
}

void ExportService::writeManifest(const std::string& exportPath, const ExportRecord& record) {
  json models = json::array();
  for (SlotStore::Slot* s : store_.loaded()) {
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
  const cv::Mat& image = store_.image();
  std::string pixels;
  if (!image.empty() && image.isContinuous())
    pixels = sha256Hex(std::string_view(reinterpret_cast<const char*>(image.data), image.total() * image.elemSize()));
  const json m = {{"tool", "featurescope " FS_VERSION},
                  {"libraries", libraryVersions()},
                  {"created", utcNow()},
                  {"file", exportPath},
                  {"what", record.what},
                  {"image", {{"name", store_.imageName()},
                             {"width", image.cols},
                             {"height", image.rows},
                             {"rgb_sha256", pixels}}},
                  {"models", models},
                  {"settings", settings}};
  fs::model::writeFileAtomically(exportPath + ".manifest.json", m.dump(2) + "\n");
}

SessionBatchResult ExportService::batchExport(const SessionBatchExport& request, const SessionProgress& progress) {
  std::vector<LoadedModel> models;
  for (SlotStore::Slot* s : store_.loaded()) models.push_back(s->model);  // shares the modules; this thread owns them
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

void writeMapNpy(const std::string& path, const cv::Mat& map) { fs::analysis::writeMapNpy(path, map); }

SaliencyOverlay overlay(const cv::Mat& original, const cv::Mat& map, const SessionCrop& crop,
                        const DisplaySettings& settings, const ValueRange* range) {
  return overlaySaliency(original, map, toCropGeometry(crop), settings, range);
}

}  // namespace fs::service
