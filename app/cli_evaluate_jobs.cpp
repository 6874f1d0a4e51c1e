// evaluate --jobs J: J child processes of this program, one shard of the images each with its share
// of the threads, merged into the scorecard one process writes. On two cores two one-thread jobs
// scored the goal's configuration 16-52% faster than one process with two threads (README,
// "Scorecard speed"): the models' small kernels scale poorly across OpenMP threads and each job's
// work beside the model (imputations, perturbations, statistics) runs while the other job's model
// keeps the second core busy.
#include "analysis/counted.h"
#include "analysis/run_record.h"
#include "analysis/shard_merge.h"
#include "analysis/string_list.h"
#include "app/cli_evaluate.h"
#include "model/atomic_file.h"
#include "model/errors.h"
#include "model/registry.h"
#include "model/threads.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <set>
#include <sstream>

namespace fs::app {
namespace {
namespace fa = fs::analysis;
using fs::model::InputError;
using fs::model::UsageError;

// The child's command line: this run's arguments without the ones the parent handles (--jobs,
// --figure, --json, --threads), plus its shard and threads. Its stdout (tables) is not wanted.
std::vector<std::string> jobArguments(const Args& a, int job, int jobs, int threads) {
  std::vector<std::string> argv{"featurescope-cli", "evaluate"};
  argv.insert(argv.end(), a.positional.begin(), a.positional.end());
  for (const auto& [name, values] : a.values_) {
    if (name == "--jobs" || name == "--figure" || name == "--threads") continue;
    for (const std::string& v : values) argv.insert(argv.end(), {name, v});
  }
  for (const std::string& flag : a.flags_)
    if (flag != "--json") argv.push_back(flag);
  argv.insert(argv.end(), {"--shard", std::to_string(job) + "/" + std::to_string(jobs), "--threads",
                           std::to_string(threads)});
  return argv;
}

// fork + exec rather than posix_spawn, so that the child can ask for SIGTERM when this process
// dies (a killed parent leaves no job running on, writing its shard); between fork and exec only
// async-signal-safe calls.
pid_t spawnJob(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& s : args) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw InputError(std::string("evaluate --jobs: cannot start a job: ") + std::strerror(errno));
  if (pid == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) _exit(1);
    const int devNull = open("/dev/null", O_WRONLY);
    if (devNull < 0 || dup2(devNull, STDOUT_FILENO) < 0) _exit(1);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  return pid;
}

// The exit code of a child (128 + the signal that ended it).
int waitJob(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return 1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

nlohmann::json readJson(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot read the " + what);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path + ": not a " + what + ": " + e.what());
  }
}

double number(const nlohmann::json& j, const char* key) { return j.at(key).get<double>(); }

}  // namespace

nlohmann::json combineJobSpeeds(const std::vector<nlohmann::json>& jobs) {
  if (jobs.empty()) throw InputError("evaluate --jobs: no job speed records");
  nlohmann::json c = jobs.front();
  int64_t images = 0, samples = 0;
  double wall = 0;
  nlohmann::json rates = c["model_images_per_second"], steps = nlohmann::json::object();
  for (auto& [k, v] : rates.items())
    if (k != "batch" && k != "gradient_batch") v = 0.0;
  bool valid = true;
  double fe = 0, model = 0;
  for (const nlohmann::json& j : jobs) {
    images += j.at("images_scored").get<int64_t>();
    wall = std::max(wall, number(j, "seconds"));
    samples += j.at("throughput_samples").get<int64_t>();
    for (auto& [k, v] : rates.items())
      if (k != "batch" && k != "gradient_batch") v = v.get<double>() + number(j["model_images_per_second"], k.c_str());
    for (const auto& [k, v] : j["seconds_by_step"].items()) steps[k] = steps.value(k, 0.0) + v.get<double>();
    valid = valid && j["overhead"].is_number();
    if (valid) fe += number(j, "forward_equivalents"), model += number(j, "model_seconds");
  }
  c["images_scored"] = images;
  c["seconds"] = wall;
  c["throughput_samples"] = samples;
  c["model_images_per_second"] = rates;
  c["seconds_by_step"] = steps;
  c["jobs"] = jobs;
  model /= double(jobs.size());
  const bool ok = valid && model > 0 && wall > 0;
  c["model_seconds"] = ok ? nlohmann::json(model) : nlohmann::json(nullptr);
  c["forward_equivalents"] = ok ? nlohmann::json(fe) : nlohmann::json(nullptr);
  c["forward_equivalents_per_second"] = ok ? nlohmann::json(fe / wall) : nlohmann::json(nullptr);
  c["overhead"] = ok ? nlohmann::json(wall / model - 1) : nlohmann::json(nullptr);
  return c;
}

namespace {

// The models' ids, after the refusals that hold for every job (said once here, not once per job).
std::vector<std::string> checkJobs(const Args& a, const fa::ScorecardOptions& o) {
  if (a.has("--shard"))
    throw UsageError("evaluate: --jobs runs shards of its own; give --shard (one process per shard) or --jobs, not both");
  if (o.outPath.empty()) throw UsageError("evaluate: --jobs needs --out FILE.json (the jobs' shards are merged into it)");
  if (!o.imagesDir.empty() && !std::filesystem::is_directory(o.imagesDir))
    throw InputError(o.imagesDir + ": not a folder");
  std::vector<std::string> ids;
  for (const std::string& model : a.positional) {
    const std::string id = fs::model::resolveModelConfig(model).id;  // InputError for a bad id or config
    if (fa::listHas(ids, id))
      throw UsageError("evaluate: model '" + id + "' is given twice");
    ids.push_back(id);
  }
  return ids;
}

// Runs the J jobs and waits for them; 0 when every one finished (exit code 0 or 3 and each model's
// speed record written), else the first failure's exit code (1 for a job that exited 0 short of them).
int runJobs(const Args& a, int jobs, int threads, const std::vector<std::string>& ids,
            const std::function<std::string(const std::string&, int)>& speedFile) {
  std::cerr << "evaluate: " << jobs << " jobs of " << fa::counted(threads, "thread") << " each\n";
  std::vector<pid_t> pids;
  for (int j = 1; j <= jobs; ++j) pids.push_back(spawnJob(jobArguments(a, j, jobs, threads)));
  int worst = 0;
  for (int j = 1; j <= jobs; ++j) {
    const int code = waitJob(pids[size_t(j - 1)]);
    bool finished = code == 0 || code == 3;
    for (const std::string& id : ids) finished = finished && std::filesystem::exists(speedFile(id, j));
    if (!finished) {
      std::cerr << "evaluate: job " << j << "/" << jobs << " did not finish (exit code " << code
                << "); nothing merged\n";
      if (worst == 0) worst = code == 0 ? 1 : code;
    }
  }
  return worst;
}

}  // namespace

int evaluateJobCount(const Args& a, const fa::ScorecardOptions& o, int wanted) {
  checkJobs(a, o);
  const size_t images = fa::scorecardImageCount(o);
  const int jobs = int(std::min<size_t>(size_t(wanted), images));
  if (jobs < wanted)
    std::cerr << "evaluate: " << fa::counted(int64_t(images), "image") << ", so "
              << (jobs == 1 ? std::string("1 job (one process)") : fa::counted(jobs, "job")) << ", not " << wanted
              << "\n";
  return jobs;
}

int runEvaluateJobs(const Args& a, const fa::ScorecardOptions& o, int jobs) {
  const std::vector<std::string> ids = checkJobs(a, o);
  const int total = a.has("--threads") ? a.intValue("--threads", 1, 1, 256) : fs::model::currentThreads().intraOp;
  const int threads = std::max(1, total / jobs);
  // Each job writes its speed record per model when it finishes that model: an earlier run's are
  // removed first, so a job that ended with exit code 3 (failed images) but without them failed as a whole.
  const auto speedFile = [&](const std::string& id, int job) {
    return speedRecordPath(fa::shardFileName(modelOutPath(o.outPath, id, ids.size()), {job, jobs}));
  };
  for (const std::string& id : ids)
    for (int j = 1; j <= jobs; ++j) std::filesystem::remove(speedFile(id, j));
  // A job that did not finish has said so (runJobs), and so has the job itself; its finished images
  // stay in its shard for a rerun.
  if (const int worst = runJobs(a, jobs, threads, ids, speedFile); worst != 0) return worst;

  nlohmann::json all = nlohmann::json::array();
  int failed = 0;
  for (const std::string& id : ids) {
    const std::string out = modelOutPath(o.outPath, id, ids.size());
    std::vector<std::string> shards;
    std::vector<nlohmann::json> speeds;
    for (int j = 1; j <= jobs; ++j) {
      shards.push_back(fa::shardFileName(out, {j, jobs}));
      speeds.push_back(readJson(speedFile(id, j), "job's speed record"));
    }
    const fa::MergeResult r = fa::mergeShards(shards, out);
    nlohmann::json speed = combineJobSpeeds(speeds);
    fs::model::writeFileAtomically(speedRecordPath(out), speed.dump(2) + "\n");
    printSpeed(id, speed);
    std::cerr << "evaluate: " << id << ": " << fa::counted(r.images, "image") << " in " << jobs << " jobs merged: "
              << r.done << " done, " << r.failed << " failed; scorecard " << r.path << "\n";
    for (const std::string& t : r.tables) std::cerr << "evaluate: table " << t << "\n";
    failed += r.failed;
    const nlohmann::json merged = readJson(r.path, "merged scorecard");
    all.push_back(reportModel(id, merged["aggregate"], o, r.path, r.failed, speed, a.has("--json")));
  }
  return finishEvaluate(a, all, failed);
}

}  // namespace fs::app
