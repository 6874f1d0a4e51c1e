// evaluate: faithfulness and sanity metrics of saliency methods over a folder of images (deletion /
// insertion AUC, average drop / increase in confidence, parameter randomisation), or with
// --dataset the classification accuracy of a model (runEvaluateDataset, cli_train.cpp).
#include "analysis/counted.h"
#include "analysis/model_loader.h"
#include "analysis/saliency/saliency_method.h"
#include "analysis/faithfulness.h"
#include "analysis/evaluation/evaluation_cost.h"
#include "analysis/evaluation/metric.h"
#include "analysis/scorecard.h"
#include "analysis/string_list.h"
#include "app/cli_commands.h"
#include "app/cli_evaluate.h"
#include "app/cli_input.h"
#include "app/cli_scorecard_figure.h"
#include "model/atomic_file.h"
#include "model/errors.h"
#include "render/figure_renderer.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>

namespace fs::app {
namespace {
namespace fa = fs::analysis;
using fs::model::UsageError;

// drop and sanity, then the registered metrics (deletion and insertion among them).
std::vector<std::string> knownMetrics() {
  std::vector<std::string> all{"drop", "sanity", "random_logit"};
  for (const std::string& m : fa::metricNames()) all.push_back(m);
  return all;
}

std::set<std::string> parseMetrics(const std::string& list) {
  const std::vector<std::string> known = knownMetrics();
  std::set<std::string> out;
  for (const auto& m : splitList(list)) {
    if (!fa::listHas(known, m))
      throw UsageError("evaluate: unknown metric '" + m + "' (valid: " + fa::joinList(known) + ")");
    out.insert(m);
  }
  if (out.empty()) throw UsageError("evaluate: --metrics is empty");
  return out;
}

// Mean [95% CI] and rank of every metric, per method.
void printStatistics(const nlohmann::json& stats) {
  for (const auto& [method, per] : stats["methods"].items()) {
    std::cout << method << "\n";
    for (const auto& key : stats["metrics"]) {
      const nlohmann::json& s = per[key.get<std::string>()];
      std::cout << "  " << std::left << std::setw(22) << key.get<std::string>() << std::fixed << std::setprecision(4)
                << s["mean"].get<double>() << "  [" << s["ci_low"].get<double>() << ", " << s["ci_high"].get<double>()
                << "]  rank " << std::setprecision(1) << s["rank"].get<double>() << "\n";
    }
  }
}

void printScores(const nlohmann::json& j) {
  std::cout << std::left << std::setw(22) << j["method"].get<std::string>() << std::fixed << std::setprecision(4);
  if (j.contains("deletion_auc")) std::cout << "  deletion AUC " << j["deletion_auc"].get<double>();
  if (j.contains("insertion_auc")) std::cout << "  insertion AUC " << j["insertion_auc"].get<double>();
  if (j.contains("average_drop"))
    std::cout << std::setprecision(1) << "  average drop " << 100 * j["average_drop"].get<double>()
              << "%  increase in confidence " << 100 * j["increase_in_confidence"].get<double>() << "%";
  std::cout << "\n";
  // Spearman, |Spearman|, SSIM, HOG of one comparison ("-" where undefined).
  const auto four = [](const nlohmann::json& s) {
    std::string out;
    for (const char* k : {"spearman", "spearman_abs", "ssim", "hog"}) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%8.3f", s[k].is_number() ? s[k].get<double>() : 0.0);
      out += s[k].is_number() ? std::string(buf) : std::string("       -");
    }
    return out;
  };
  if (j.contains("random_logit")) std::cout << "  random other class: similarity (Spearman, |Spearman|, SSIM, HOG)"
                                            << four(j["random_logit"]) << "\n";
  if (!j.contains("sanity")) return;
  std::cout << "  randomised (head first) -> similarity to the original map (Spearman, |Spearman|, SSIM, HOG):\n";
  for (const auto& s : j["sanity"]) std::cout << "    " << std::setw(28) << s["layer"].get<std::string>() << four(s) << "\n";
}

fa::ScorecardOptions scorecardOptions(const Args& a) {
  fa::ScorecardOptions o;
  const std::set<std::string> metrics = parseMetrics(a.value("--metrics", "deletion,insertion,drop"));
  o.metrics.assign(metrics.begin(), metrics.end());
  o.methods = splitList(a.value("--methods", "gradcam,gradient"));
  if (o.methods.empty()) throw UsageError("evaluate: --methods is empty");
  o.saliency = saliencyOptionsFromArgs(a, "evaluate");  // --steps, --baseline, --param, ... as in saliency
  o.curve.steps = a.intValue("--curve-steps", 50, 1, 100000);
  const std::string substrate = a.value("--substrate", "rise");
  if (substrate != "rise") o.curve.baseline = fa::parseBaseline(substrate);
  o.seed = static_cast<uint64_t>(a.intValue("--seed", 0, 0, 2147483647));
  o.imagesDir = a.value("--images");
  if (a.has("--dataset")) o.dataset = a.value("--dataset"), o.dataDir = a.value("--data-dir");
  o.limit = a.intValue("--limit", 0, 0, 1 << 30);
  o.shard = fa::parseShard(a.value("--shard", "1/1"));
  o.outPath = a.value("--out");
  o.saveInterval = a.doubleValue("--save-every", 5.0, 0.1, 86400.0);
  if (o.shard.count > 1 && o.outPath.empty()) throw UsageError("evaluate: --shard needs --out FILE.json");
  o.log = [](const std::string& line) { std::cerr << line << std::endl; };
  return o;
}


// One model's scorecard; prints it (unless json) and returns its JSON summary.
// The scorecard's speed in forward-equivalents against the model's own throughput, measured in this
// run (analysis/evaluation/evaluation_cost.h); null figures where a method's evaluations are not counted.
nlohmann::json speedJson(fa::LoadedModel& m, const fa::ScorecardOptions& o, const fa::ModelThroughput& t, int images,
                         double wall, const std::map<std::string, double>& secondsByStep) {
  const fa::EvaluationCount c = fa::evaluationsPerImage(m, o.methods, o.metrics, o.saliency, o.curve.steps);
  nlohmann::json j{{"images_scored", images}, {"seconds", wall},
                   {"evaluations_per_image", {{"forward_single", c.singleForward}, {"forward_batched", c.batchedForward},
                                              {"forward_backward_single", c.singleBackward},
                                              {"forward_backward_batched", c.batchedBackward},
                                              {"forward_occluded", c.occludedForward}}},
                   {"model_images_per_second", {{"batch", t.batch}, {"gradient_batch", t.gradientBatch},
                                                {"forward_single", t.forwardSingle},
                                                {"forward_batched", t.forwardBatched},
                                                {"forward_backward_single", t.backwardSingle},
                                                {"forward_backward_batched", t.backwardBatched},
                                                {"forward_occluded", t.occludedForward}}},
                   {"uncounted_methods", c.uncounted}, {"seconds_by_step", secondsByStep}};
  const bool valid = c.uncounted.empty() && images > 0;
  const fa::ScorecardSpeed s = fa::scorecardSpeed(c, images, t, wall);
  j["model_seconds"] = valid ? nlohmann::json(s.modelSeconds) : nlohmann::json(nullptr);
  j["forward_equivalents"] = valid ? nlohmann::json(s.forwardEquivalents) : nlohmann::json(nullptr);
  j["forward_equivalents_per_second"] = valid ? nlohmann::json(s.perSecond) : nlohmann::json(nullptr);
  j["overhead"] = valid ? nlohmann::json(s.overhead) : nlohmann::json(nullptr);
  return j;
}

nlohmann::json evaluateModel(fa::LoadedModel& m, const fa::ScorecardOptions& o, bool json, int& failed) {
  using Clock = std::chrono::steady_clock;
  const int64_t batch = fa::curveBatchSize(m, o.curve, m.config.input.height, m.config.input.width);
  // The model's throughput before the run, every 60 s during it (between images; a shared
  // machine's speed drifts by tens of percent) and after it; the median of the samples per rate.
  // The samples' own time is not the run's; it is reported as throughput_sampling_seconds (about
  // 3% of the goal's run in the README: 0.5 s per rate before and after, 0.25 s per rate during).
  constexpr double kEdgeSample = 0.5, kRunSample = 0.25;
  constexpr auto kSamplePeriod = std::chrono::seconds(60);
  const bool occludes = fa::listHas(o.methods, "occlusion");
  const fa::SaliencyOptions* occlusion = occludes ? &o.saliency : nullptr;
  std::vector<fa::ModelThroughput> samples{
      fa::measureThroughput(m, batch, kEdgeSample, o.saliency.batchSize, occlusion)};
  double sampling = 0;
  auto lastSample = Clock::now();
  fa::ScorecardOptions run = o;
  run.afterImage = [&] {
    if (Clock::now() - lastSample < kSamplePeriod) return;
    const auto s0 = Clock::now();
    samples.push_back(fa::measureThroughput(m, batch, kRunSample, o.saliency.batchSize, occlusion));
    lastSample = Clock::now();
    sampling += std::chrono::duration<double>(lastSample - s0).count();
  };
  const auto t0 = Clock::now();
  const fa::ScorecardSummary sum = fa::runScorecard(m, run);
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count() - sampling;
  if (wall > 4 * samples.front().seconds)
    samples.push_back(fa::measureThroughput(m, batch, kEdgeSample, o.saliency.batchSize, occlusion));
  const fa::ModelThroughput throughput = fa::medianOf(samples);
  nlohmann::json speed = speedJson(m, o, throughput, sum.done, wall, sum.secondsByStep);
  speed["throughput_samples"] = samples.size();
  speed["throughput_sampling_seconds"] = throughput.seconds;  // medianOf: the samples' summed time
  // Every run with a record file writes its speed beside it (a shard's too: --jobs combines them).
  if (!sum.path.empty())
    fs::model::writeFileAtomically(speedRecordPath(sum.path), speed.dump(2) + "\n");
  printSpeed(m.config.id, speed);
  failed += sum.failed;
  if (!sum.path.empty())
    std::cerr << "evaluate: " << m.config.id << ": " << fa::counted(sum.images, "image") << " in shard "
              << o.shard.index << "/" << o.shard.count << ": " << sum.done << " done, " << sum.skipped << " skipped, "
              << sum.failed << " failed; scorecard " << sum.path << "\n";
  for (const std::string& t : sum.tables) std::cerr << "evaluate: table " << t << "\n";
  return reportModel(m.config.id, nlohmann::json::parse(sum.aggregate), o, sum.path, sum.failed, speed, json);
}

}  // namespace

std::string modelOutPath(const std::string& out, const std::string& id, size_t models) {
  if (out.empty() || models == 1) return out;
  const std::filesystem::path p(out);
  return (p.parent_path() / (p.stem().string() + "." + id + p.extension().string())).string();
}

std::string speedRecordPath(const std::string& record) {
  return std::filesystem::path(record).replace_extension(".speed.json").string();
}

int finishEvaluate(const Args& a, const nlohmann::json& models, int failed) {
  if (a.has("--figure")) {
    std::vector<std::string> paths;
    for (const auto& j : models) paths.push_back(j["scorecard"].get<std::string>());
    std::cerr << "evaluate: " << writeScorecardFigure(paths, a.value("--figure"), 300, "Saliency scorecard") << "\n";
  }
  if (a.has("--json")) std::cout << (models.size() == 1 ? models[0] : models).dump(2) << "\n";
  return failed > 0 ? 3 : 0;
}

void printSpeed(const std::string& id, const nlohmann::json& speed) {
  if (speed["overhead"].is_number()) {
    const nlohmann::json& rate = speed["model_images_per_second"];
    std::cerr << "evaluate: " << id << ": " << std::fixed << std::setprecision(1)
              << speed["forward_equivalents"].get<double>() << " forward-equivalents in "
              << speed["seconds"].get<double>() << " s = " << speed["forward_equivalents_per_second"].get<double>()
              << "/s; the model alone: " << speed["model_seconds"].get<double>() << " s (forward "
              << rate["forward_batched"].get<double>() << " images/s at batch " << rate["batch"].get<int64_t>()
              << (speed.contains("jobs") ? ", the sum of the jobs' medians" : ", median of " +
                  std::to_string(speed["throughput_samples"].get<int>()) + " measurements") << "); overhead "
              << 100 * speed["overhead"].get<double>() << "%" << std::defaultfloat << "\n";
  } else if (!speed["uncounted_methods"].empty()) {
    std::cerr << "evaluate: " << id << ": no speed figure (model evaluations not counted for "
              << fa::joinList(speed["uncounted_methods"].get<std::vector<std::string>>()) << ")\n";
  }
}

nlohmann::json reportModel(const std::string& id, const nlohmann::json& aggregate, const fa::ScorecardOptions& o,
                           const std::string& scorecard, int failed, const nlohmann::json& speed, bool json) {
  const int n = aggregate["images"].get<int>();
  if (!json) {
    std::cout << id << " on " << fa::counted(n, "image") << " (" << o.curve.steps << " curve steps, "
              << fa::substrateName(o.curve) << " substrate, target = top-1 prediction)\n";
    for (const auto& j : aggregate["methods"]) printScores(j);
    std::cout << "mean [bootstrap 95% CI] and rank (1 = best) per metric:\n";
    printStatistics(aggregate["statistics"]);
  }
  return {{"model", id}, {"images", n}, {"failed", failed}, {"steps", o.curve.steps},
          {"baseline", fa::substrateName(o.curve)}, {"metrics", o.metrics}, {"methods", aggregate["methods"]},
          {"statistics", aggregate["statistics"]}, {"scorecard", scorecard}, {"speed", speed}};
}

namespace {

int runEvaluate(const Args& a) {
  const bool scorecard = a.has("--images") || a.has("--methods") || a.has("--metrics");
  if (a.has("--dataset") && !scorecard) {
    if (a.positional.size() != 1) throw UsageError("evaluate --dataset (accuracy) takes one MODEL");
    return runEvaluateDataset(a);
  }
  if (a.has("--dataset") && a.has("--images")) throw UsageError("evaluate: give --images or --dataset, not both");
  if (!scorecard) throw UsageError("evaluate: give --images DIR (saliency metrics) or --dataset fashion-mnist");
  const fa::ScorecardOptions o = scorecardOptions(a);
  if (a.has("--figure") && (o.outPath.empty() || o.shard.count > 1))
    throw UsageError("evaluate: --figure needs --out FILE.json and no --shard (draw merged shards with scorecard-figure)");
  if (a.has("--figure")) {  // InputError, before any work
    fs::render::figureFormatForPath(a.value("--figure"));
    fs::model::createFoldersFor(a.value("--figure"));
  }
  for (const auto& name : o.methods) fa::makeSaliencyMethod(name);  // InputError listing the methods
  int jobs = a.intValue("--jobs", 1, 1, 64);
  const std::vector<std::string> weights = a.all("--weights");
  if (!weights.empty() && weights.size() != a.positional.size())
    throw UsageError("evaluate: give --weights once per MODEL (" + std::to_string(a.positional.size()) +
                     " models, " + std::to_string(weights.size()) + " --weights) or not at all");
  if (jobs > 1) jobs = evaluateJobCount(a, o, jobs);
  if (jobs > 1) return runEvaluateJobs(a, o, jobs);
  std::set<std::string> ids;
  nlohmann::json all = nlohmann::json::array();
  int failed = 0;
  for (size_t i = 0; i < a.positional.size(); ++i) {
    fa::LoadedModel m = fa::loadModel(a.positional[i], weights.empty() ? "" : weights[i], o.seed);
    if (!ids.insert(m.config.id).second) throw UsageError("evaluate: model '" + m.config.id + "' is given twice");
    fa::ScorecardOptions om = o;
    om.outPath = modelOutPath(o.outPath, m.config.id, a.positional.size());
    all.push_back(evaluateModel(m, om, a.has("--json"), failed));
  }
  return finishEvaluate(a, all, failed);
}

// evaluate's usage, before the methods' list (saliencyMethodsHelp).
const char* const kEvaluateUsage =
    "evaluate MODEL... [--weights F]... (--images DIR | --dataset fashion-mnist [--data-dir D]) [--methods a,b]\n"
    "  [method options, as in saliency] [--metrics m,...] [--curve-steps N] [--substrate rise|black|zero|blur]\n"
    "  [--seed S] [--limit N] [--out FILE.json [--shard K/N | [--jobs J] [--figure FIG]] [--save-every S]] [--json]\n"
    "  |   evaluate MODEL --dataset fashion-mnist [--limit N] [--json]\n"
    "  Scorecard of saliency methods per model x method over the images of DIR or the Fashion-MNIST test set,\n"
    "  target = the top-1 prediction; every metric ranks the displayed map. The methods' parameters are the\n"
    "  saliency command's options (e.g. --steps 32 for integrated gradients, --param NAME=VALUE); --weights\n"
    "  once per MODEL or not at all. Metrics (lower/higher = better):\n"
    "    deletion / insertion  AUC of the target probability (RISE, Petsiuk et al. 2018; lower / higher);\n"
    "      --curve-steps chunks (default 50); --substrate: default rise = deletion to black (pixel 0),\n"
    "      insertion from a blur; black, zero (the dataset mean colour; alias mean) or blur: that one for both\n"
    "    drop                  average drop and increase in confidence (Grad-CAM++; lower / higher)\n"
    "    sanity                Spearman (raw and abs), SSIM and HOG similarity to the original map as the model\n"
    "                          is randomised from the head down, unit by unit, with the family's own init\n"
    "                          (Adebayo et al. 2018; seeded by --seed); lower = the map depends on the model\n"
    "    random_logit          the same similarities to the map of a random other class (Sixt et al. 2020)\n"
    "    road_morf / road_lerf ROAD, noisy linear imputation at 10..90% (Rong et al. 2022; lower / higher)\n"
    "    pointing_game (15 px), energy_pointing_game, relevance_mass, relevance_rank, topk_iou (top 20%)\n"
    "                          localisation against masks (higher): NAME.mask.png beside NAME.png (grey >= 128 =\n"
    "                          object, same size as the image), or the Fashion-MNIST silhouette (pixels > 0)\n"
    "    gini (higher) / entropy (lower)  complexity (Chalasani et al. 2020; Bhatt et al. 2020)\n"
    "    infidelity / max_sensitivity     Yeh et al. 2019 (lower); noise seeded by --seed + image index\n"
    "                          (infidelity's perturbed forwards are the image's: made once, for every method;\n"
    "                          max-sensitivity's 10 perturbed inputs, the same for every method, are\n"
    "                          explained by the CAM family, gradient and gradxinput from one batched\n"
    "                          forward+backward of the ten, shared by them: the maps equal each input's own\n"
    "                          to float rounding)\n"
    "  Defaults: --methods gradcam,gradient --metrics deletion,insertion,drop. --limit N scores the first N\n"
    "  images (DIR's in sorted order, or the test set's first N; 0, the default: all of them).\n"
    "  The scorecard: per model x method the mean, bootstrap 95% CI (1000 resamples, seeded by --seed) and\n"
    "  rank of every metric, and Kendall's tau between the metrics' method rankings; identical seeds give\n"
    "  identical files.\n"
    "  --out writes FILE.json (per-image records, aggregate and statistics; atomically, every --save-every\n"
    "  seconds (5 by default, 0.1 at least), or after 19 times as long as the last save took if that is\n"
    "  longer, and at the end) and FILE.rows.csv,\n"
    "  FILE.summary.csv, FILE.agreement.csv; with several models FILE.<id>.json etc.\n"
    "  per model (--json prints an array, one object per model); --figure FIG.png|.pdf|.svg draws them\n"
    "  (see scorecard-figure) with FIG_STEM.manifest.json. Resumable: rerun the same command and\n"
    "  images already recorded are skipped. --shard K/N takes images i with i % N == K-1 (sorted, after\n"
    "  --limit) and writes FILE-shard-K-of-N.json; `merge` combines the shards into FILE.json.\n"
    "  --jobs J runs J processes of this program on one machine, shard j/J each with --threads T/J\n"
    "  (T = --threads or the default, at least 1), then merges them into FILE.json and their speed into\n"
    "  FILE.speed.json (\"jobs\": each job's record); the shards stay beside it, so a rerun resumes them;\n"
    "  killing the command ends its jobs. No more jobs than images (one image: one process); a --shard\n"
    "  that holds no image records none and merges as such.\n"
    "  Identical records to one process with --threads T/J; on 2 cores --jobs 2 scored 16-52% more\n"
    "  images per second than one process with 2 threads. Memory: J times one process's. Unreadable\n"
    "  images and bad masks are recorded as failed with the file and reason (exit code 3).\n"
    "  Speed: the model evaluations the methods and metrics must make are counted and the model's own\n"
    "  forward (and forward+backward) throughput measured in the same run (before it, every 60 s during it\n"
    "  and after it: the median per rate, \"throughput_samples\"; their own time, outside the run's, is\n"
    "  \"throughput_sampling_seconds\"); occlusion's windows are counted as\n"
    "  occluded forwards (\"forward_occluded\") at their own measured rate: incremental where the model\n"
    "  has a local prefix (every family of the zoo has one; FEATURESCOPE_OCCLUSION=full for full\n"
    "  forwards, see featurescope-cli saliency --help). evaluate reports forward-equivalents\n"
    "  per second and the overhead beyond the model's time (stderr, --json \"speed\", and with\n"
    "  --out FILE.speed.json; see analysis/evaluation/evaluation_cost.h for what is counted), with the\n"
    "  wall seconds of each step (\"seconds_by_step\": explain = the methods' maps, then each metric).\n"
    "  --dataset without --methods/--metrics: accuracy, confusion matrix and misclassified test indices.\n";

Command evaluateCommand() {
  Command c{"evaluate",
     kEvaluateUsage + saliencyMethodsHelp(),
     {{"--weights", "--images", "--methods", "--metrics", "--limit", "--curve-steps", "--substrate", "--dataset",
       "--data-dir", "--out", "--shard", "--jobs", "--seed", "--figure", "--save-every"},
      {"--json"},
      1,
      -1},
     runEvaluate};
  for (const std::string& o : saliencyOptionNames()) c.options.values.insert(o);
  return c;
}

const CommandRegistrar kEvaluate{evaluateCommand()};
}  // namespace

}  // namespace fs::app
