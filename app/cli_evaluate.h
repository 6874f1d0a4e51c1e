#pragma once
// evaluate's pieces shared by cli_evaluate.cpp (one process) and cli_evaluate_jobs.cpp (--jobs:
// child processes, one shard each, merged).
#include "analysis/scorecard.h"
#include "app/cli_args.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>

namespace fs::app {

// With several models, FILE.json becomes FILE.<model id>.json (one scorecard per model).
std::string modelOutPath(const std::string& out, const std::string& id, size_t models);

// FILE.speed.json beside a record file FILE.json (a shard's FILE-shard-K-of-N.speed.json).
std::string speedRecordPath(const std::string& record);

// After the models' scorecards (their --json objects, in order): --figure from their scorecard
// files, --json printed; the exit code (3 when images failed).
int finishEvaluate(const Args& a, const nlohmann::json& models, int failed);

// The speed line on stderr (forward-equivalents, the model alone, overhead), or why there is none.
void printSpeed(const std::string& id, const nlohmann::json& speed);

// Prints one model's scorecard (unless json) and returns its --json object.
nlohmann::json reportModel(const std::string& id, const nlohmann::json& aggregate,
                           const fs::analysis::ScorecardOptions& o, const std::string& scorecard, int failed,
                           const nlohmann::json& speed, bool json);

// evaluate --jobs J (J > 1): runs J child processes of this program, `evaluate ... --shard j/J
// --threads T/J` (T = --threads or the configured intra-op threads, at least 1 each), waits for them,
// merges each model's shards into FILE.json as `merge` does, combines their speed records
// (combineJobSpeeds) into FILE.speed.json, then prints, draws --figure and returns as one process
// would. Options already validated by the caller.
int runEvaluateJobs(const Args& a, const fs::analysis::ScorecardOptions& o, int jobs);
// The jobs --jobs J runs: J, or the number of images where it is smaller (an extra job would only
// score an empty shard; 1 = the caller runs one process), said on stderr. UsageError or InputError
// for what --jobs refuses (--shard, no --out, a missing folder, an unknown or repeated model).
int evaluateJobCount(const Args& a, const fs::analysis::ScorecardOptions& o, int wanted);

// The speed of J concurrent jobs from their records (each as FILE-shard-j-of-J.speed.json):
// images, forward-equivalents, counts of samples and model rates summed; seconds = the longest job;
// model_seconds = the jobs' model seconds summed / J (J lanes side by side); per second and overhead
// from those, as scorecardSpeed computes them; seconds_by_step summed over the jobs (lane-seconds);
// "jobs": the records. Overhead etc. null when any job has none.
nlohmann::json combineJobSpeeds(const std::vector<nlohmann::json>& jobs);

}  // namespace fs::app
