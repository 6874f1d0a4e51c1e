// One model's scorecard by one worker or several (EvaluationService::run; evaluation_workers.h).
#include "service/evaluation_workers.h"

#include "analysis/batch_budget.h"
#include "analysis/shard_merge.h"
#include "model/errors.h"
#include "model/threads.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <fstream>
#include <mutex>
#include <thread>

namespace fs::service::evaluation {

namespace fa = fs::analysis;
using fs::model::InputError;
using nlohmann::json;

namespace {

// "evaluate [k/n] NAME: ..." (analysis/run_record.h forEachInShard) -> k / n, or -1.
double lineFraction(const std::string& line) {
  int k = 0, n = 0;
  const size_t open = line.find('[');
  if (open == std::string::npos || std::sscanf(line.c_str() + open, "[%d/%d]", &k, &n) != 2 || n <= 0) return -1;
  return double(k) / double(n);
}

ModelRun singleRun(fa::LoadedModel& model, fa::ScorecardOptions om, const std::function<void(double)>& fraction,
                   const std::atomic<bool>* cancel) {
  om.log = [&](const std::string& line) {
    if (const double f = lineFraction(line); f >= 0) fraction(f);
    if (cancel && cancel->load()) throw Cancelled();
  };
  const fa::ScorecardSummary sum = fa::runScorecard(model, om);
  return {sum.done, sum.failed, sum.path, sum.aggregate};
}

// Copies of the model for workers 2..W, and every worker's batch sizes measured before any worker
// starts, so that no measurement sees another worker's allocations.
std::vector<fa::LoadedModel> workerCopies(fa::LoadedModel& model, int workers) {
  std::vector<fa::LoadedModel> copies;
  for (int k = 1; k < workers; ++k) copies.push_back(fa::copyModel(model));
  const int64_t h = model.config.input.height, w = model.config.input.width;
  for (int k = 0; k < workers; ++k) {
    fa::LoadedModel& m = k == 0 ? model : copies[size_t(k - 1)];
    fa::inferenceBatchSize(m, h, w);
    fa::gradientBatchSize(m, h, w);
  }
  return copies;
}

// Runs shard k/W of om's images on models[k-1] for every k, worker 1 on the calling thread and the
// others on threads of their own, each with `threads` intra-op threads. Progress: the images done
// in all shards. A cancel or one worker's error stops every worker after the image it is on.
// Returns each worker's exception (Cancelled for one that was stopped), null for one that finished.
std::vector<std::exception_ptr> runShards(const std::vector<fa::LoadedModel*>& models, const fa::ScorecardOptions& om,
                                          int threads, const std::function<void(double)>& fraction,
                                          const std::atomic<bool>* cancel) {
  const size_t workers = models.size(), images = fa::scorecardImageCount(om);
  std::vector<double> shardFraction(workers, 0.0);
  std::vector<std::exception_ptr> errors(workers);
  std::atomic<bool> stop{false};
  std::mutex mutex;
  const auto work = [&](size_t k) {
    try {
      fs::model::CallingThreadThreads share(threads);
      fa::ScorecardOptions os = om;
      os.shard = {int(k) + 1, int(workers)};
      os.log = [&, k](const std::string& line) {
        if (const double f = lineFraction(line); f >= 0) {
          std::lock_guard<std::mutex> lock(mutex);
          shardFraction[k] = f;
          double all = 0;  // shard j holds the images i with i % W == j
          for (size_t j = 0; j < workers; ++j) all += shardFraction[j] * double((images - j + workers - 1) / workers);
          fraction(all / double(images));
        }
        if (stop.load() || (cancel && cancel->load())) throw Cancelled();
      };
      fa::runScorecard(*models[k], os);
    } catch (...) {
      errors[k] = std::current_exception();
      stop = true;
    }
  };
  std::vector<std::thread> helpers;
  try {
    for (size_t k = 1; k < workers; ++k) helpers.emplace_back(work, k);
  } catch (...) {  // no thread to be had: the started workers stop after their image, then the error
    stop = true;
    for (std::thread& t : helpers) t.join();
    throw;
  }
  work(0);
  for (std::thread& t : helpers) t.join();
  return errors;
}

}  // namespace

int workerCount(const EvaluationRequest& r, const fa::ScorecardOptions& o) {
  const int threads = fs::model::currentThreads().intraOp;
  const int wanted = r.workers > 0 ? r.workers : std::min(2, threads);
  if (wanted <= 1) return 1;
  return int(std::min<size_t>(size_t(wanted), fa::scorecardImageCount(o)));
}

// One model's scorecard by `workers` threads as `featurescope-cli evaluate --jobs` does with
// processes: worker k scores shard k/W of the images (the same records as one run) with its own
// copy of the model (worker 1 the slot's) and 1/W of the intra-op threads; the shards are merged
// into om.outPath as `featurescope-cli merge` does, and stay beside it (a rerun resumes them).
// After a worker's error the model is scored again by one worker, which says what one run says
// (e.g. a shard of only unreadable images fails as a whole, one run records them as failed).
ModelRun scoreModel(fa::LoadedModel& model, const fa::ScorecardOptions& om, int workers,
                    const std::function<void(double)>& fraction, const std::atomic<bool>* cancel) {
  if (workers <= 1) return singleRun(model, om, fraction, cancel);
  std::vector<fa::LoadedModel> copies = workerCopies(model, workers);
  std::vector<fa::LoadedModel*> models{&model};
  for (fa::LoadedModel& c : copies) models.push_back(&c);
  const int threads = std::max(1, fs::model::currentThreads().intraOp / workers);
  for (const std::exception_ptr& e : runShards(models, om, threads, fraction, cancel)) {
    if (cancel && cancel->load()) throw Cancelled();
    if (!e) continue;
    try {
      std::rethrow_exception(e);
    } catch (const Cancelled&) {
    } catch (const std::exception&) {
      fraction(0.0);
      return singleRun(model, om, fraction, cancel);
    }
  }
  std::vector<std::string> shards;
  for (int k = 1; k <= workers; ++k) shards.push_back(fa::shardFileName(om.outPath, {k, workers}));
  const fa::MergeResult merged = fa::mergeShards(shards, om.outPath);
  std::ifstream in(merged.path);
  const json file = json::parse(in, nullptr, false);
  if (file.is_discarded() || !file.contains("aggregate")) throw InputError(merged.path + ": not a scorecard");
  return {merged.done, merged.failed, merged.path, file["aggregate"].dump()};
}

}  // namespace fs::service::evaluation
