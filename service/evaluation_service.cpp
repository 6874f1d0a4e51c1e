#include "service/evaluation_service.h"

#include "analysis/evaluation/metric.h"
#include "analysis/evaluation/scorecard_statistics.h"
#include "analysis/model_loader.h"
#include "analysis/scorecard.h"
#include "analysis/string_list.h"
#include "model/atomic_file.h"
#include "model/errors.h"
#include "service/evaluation_workers.h"
#include "service/saliency_service.h"
#include "service/slot_store.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <optional>
#include <sstream>

namespace fs::service {

namespace fa = fs::analysis;
namespace fsys = std::filesystem;
using fs::model::InputError;
using nlohmann::json;
using evaluation::Cancelled;
using evaluation::ModelRun;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double number(const json& v) {
  if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
  return v.is_number() ? v.get<double>() : kNaN;
}

// A fresh folder for one run's scorecard files when the caller keeps none; removed afterwards.
class TempFolder {
 public:
  TempFolder() {
    std::string tmpl = (fsys::temp_directory_path() / "featurescope-evaluate-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw InputError(tmpl + ": cannot create a temporary folder");
    path_ = tmpl;
  }
  ~TempFolder() {
    std::error_code ec;
    fsys::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The statistics and per-image values of one model's scorecard file (its records and aggregate).
void readScorecard(const std::string& path, const std::string& aggregateText, ModelScorecard& out) {
  const json stats = json::parse(aggregateText).at("statistics");
  for (const auto& k : stats.at("metrics")) out.keys.push_back(k.get<std::string>());
  for (const std::string& k : out.keys) out.higherIsBetter.push_back(fa::recordKeyHigherIsBetter(k));
  for (const std::string& method : out.methods) {
    std::vector<MetricStatistic> row;
    for (const std::string& k : out.keys) {
      const json& s = stats.at("methods").at(method).at(k);
      row.push_back({s.value("n", 0), number(s["mean"]), number(s["ci_low"]), number(s["ci_high"]), number(s["rank"])});
    }
    out.stats.push_back(row);
  }
  for (const auto& r : stats.at("agreement")) {
    std::vector<double> row;
    for (const auto& v : r) row.push_back(number(v));
    out.agreement.push_back(row);
  }
  std::ifstream in(path);
  const json file = json::parse(in, nullptr, false);
  if (file.is_discarded() || !file.contains("images")) throw InputError(path + ": not a scorecard");
  for (const auto& [name, entry] : file["images"].items()) {
    if (entry.value("status", "") != "done") continue;
    EvaluationImage img;
    img.name = name;
    img.index = entry.value("index", 0);
    img.target = entry.value("target", 0);
    if (name.rfind("test-", 0) == 0) img.testIndex = std::atoi(name.c_str() + 5);
    for (const std::string& method : out.methods) {
      std::vector<double> values;
      const json& per = entry["methods"][method];
      for (const std::string& k : out.keys) values.push_back(per.contains(k) ? number(per[k]) : kNaN);
      img.values.push_back(values);
    }
    out.images.push_back(std::move(img));
  }
  std::sort(out.images.begin(), out.images.end(),
            [](const EvaluationImage& a, const EvaluationImage& b) { return a.index < b.index; });
}

}  // namespace

std::vector<std::string> EvaluationService::metricNames() {
  std::vector<std::string> out{"drop"};
  for (const std::string& m : fa::metricNames()) out.push_back(m);
  return out;
}

std::string EvaluationService::metricTitle(const std::string& metric) {
  if (metric == "drop") return "Average drop / increase in confidence";
  return fa::makeMetric(metric)->title();
}

namespace {

// The request's scorecard options, after refusing an empty choice, an unknown metric or method and
// bad curve steps (before any work).
fa::ScorecardOptions scorecardOptions(const EvaluationRequest& r) {
  if (r.slots.empty()) throw InputError("evaluate: no model chosen");
  if (r.methods.empty()) throw InputError("evaluate: no saliency method chosen");
  if (r.metrics.empty()) throw InputError("evaluate: no metric chosen");
  const std::vector<std::string> known = EvaluationService::metricNames();
  for (const std::string& m : r.metrics)
    if (std::find(known.begin(), known.end(), m) == known.end())
      throw InputError("evaluate: unknown metric '" + m + "' (valid: " + fa::joinList(known) + ")");
  const std::vector<std::string> methods = SaliencyService::methodNames();
  for (const std::string& m : r.methods)
    if (std::find(methods.begin(), methods.end(), m) == methods.end())
      throw InputError("evaluate: unknown saliency method '" + m + "' (valid: " + fa::joinList(methods) + ")");
  fa::ScorecardOptions o;
  if (r.imagesDir.empty()) o.dataset = "fashion-mnist", o.dataDir = r.dataDir;
  else o.imagesDir = r.imagesDir;
  o.metrics = r.metrics;
  std::sort(o.metrics.begin(), o.metrics.end());  // as the CLI's set: the record header lists them sorted
  o.limit = std::max(0, r.limit);
  if (r.curveSteps < 1) throw InputError("evaluate: curve steps must be at least 1 (got " + std::to_string(r.curveSteps) + ")");
  o.curve.steps = r.curveSteps;
  if (r.substrate != "rise") o.curve.baseline = fa::parseBaseline(r.substrate);  // as evaluate --substrate
  o.seed = r.seed;
  static_cast<fa::MethodParameters&>(o.saliency) = r.parameters;
  return o;
}

// The record file of a slot's scorecard in `dir` (a JSON config's id may be a path: made a name).
std::string scorecardPath(const std::string& dir, int slot, std::string id) {
  for (char& ch : id)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '-') ch = '_';
  return (fsys::path(dir) / ("scorecard.slot" + std::to_string(slot + 1) + "." + id + ".json")).string();
}

// "Fashion-MNIST test set (first N)", or the folder.
std::string sourceText(const EvaluationRequest& r, const fa::ScorecardOptions& o) {
  if (!r.imagesDir.empty()) return r.imagesDir;
  return "Fashion-MNIST test set" + (o.limit > 0 ? " (first " + std::to_string(o.limit) + ")" : std::string());
}

// A slot's card before scoring: the methods that apply to its model, and those skipped.
ModelScorecard emptyCard(int slot, const SlotInfo& info, const std::vector<std::string>& methods) {
  ModelScorecard card;
  card.slot = slot;
  card.modelId = info.modelId;
  for (const std::string& m : methods) (SaliencyService::applies(m, info) ? card.methods : card.skipped).push_back(m);
  return card;
}

}  // namespace

EvaluationResult EvaluationService::run(const EvaluationRequest& r, const SessionProgress& progress,
                                        const std::atomic<bool>* cancel) {
  const fa::ScorecardOptions o = scorecardOptions(r);
  for (int s : r.slots) store_.slot(s);  // InputError for an empty slot, before any work
  EvaluationResult result;
  result.source = sourceText(r, o);
  std::optional<TempFolder> temp;
  if (r.outDir.empty()) temp.emplace();
  const std::string dir = r.outDir.empty() ? temp->path() : r.outDir;
  const size_t models = r.slots.size();
  for (size_t mi = 0; mi < models; ++mi) {
    SlotStore::Slot& slot = store_.slot(r.slots[mi]);
    ModelScorecard card = emptyCard(r.slots[mi], slot.info, r.methods);
    if (card.methods.empty()) {
      result.models.push_back(std::move(card));
      continue;
    }
    fa::ScorecardOptions om = o;
    om.methods = card.methods;
    om.outPath = scorecardPath(dir, card.slot, card.modelId);
    std::mutex progressMutex;  // the workers report from their own threads
    const auto fraction = [&](double f) {
      std::lock_guard<std::mutex> lock(progressMutex);
      if (progress) progress((double(mi) + f) / double(models));
    };
    try {
      const ModelRun run = evaluation::scoreModel(slot.model, om, evaluation::workerCount(r, om), fraction, cancel);
      card.done = run.done, card.failed = run.failed;
      readScorecard(run.path, run.aggregate, card);
      if (!r.outDir.empty()) card.scorecardPath = run.path;
    } catch (const Cancelled&) {
      result.cancelled = true;
      return result;
    }
    result.models.push_back(std::move(card));
  }
  if (progress) progress(1.0);
  return result;
}

std::vector<size_t> worstImages(const ModelScorecard& m, size_t method, size_t key, size_t count) {
  if (method >= m.methods.size() || key >= m.keys.size()) return {};
  std::vector<size_t> order;
  for (size_t i = 0; i < m.images.size(); ++i)
    if (std::isfinite(m.images[i].values[method][key])) order.push_back(i);
  const bool higher = m.higherIsBetter[key];
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const double va = m.images[a].values[method][key], vb = m.images[b].values[method][key];
    return higher ? va < vb : va > vb;
  });
  if (order.size() > count) order.resize(count);
  return order;
}

std::vector<std::string> copyScorecardFiles(const std::string& scorecardPath, const std::string& destStem) {
  const std::string stem = scorecardPath.substr(0, scorecardPath.size() - fsys::path(scorecardPath).extension().string().size());
  std::vector<std::string> written;
  try {
    std::vector<std::string> suffixes{".json"};
    suffixes.insert(suffixes.end(), fa::kScorecardTableSuffixes.begin(), fa::kScorecardTableSuffixes.end());
    for (const std::string& suffix : suffixes) {
      const std::string from = stem + suffix;
      std::ifstream in(from, std::ios::binary);
      std::stringstream bytes;
      if (!(in && bytes << in.rdbuf())) throw InputError(from + ": cannot be read");
      fs::model::writeFileAtomically(destStem + suffix, bytes.str());
      written.push_back(destStem + suffix);
    }
  } catch (...) {
    std::error_code ec;
    for (const std::string& f : written) fsys::remove(f, ec);
    throw;
  }
  return written;
}

}  // namespace fs::service
