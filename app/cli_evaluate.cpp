// evaluate: faithfulness and sanity metrics of saliency methods over a folder of images (deletion /
// insertion AUC, average drop / increase in confidence, parameter randomisation), or with
// --dataset the classification accuracy of a model (runEvaluateDataset, cli_train.cpp).
#include "analysis/faithfulness.h"
#include "analysis/image_io.h"
#include "analysis/inference.h"
#include "analysis/model_loader.h"
#include "analysis/preprocess.h"
#include "analysis/saliency/saliency_method.h"
#include "app/cli_commands.h"
#include "app/cli_input.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <set>

namespace fs::app {
namespace {
namespace fa = fs::analysis;
using fs::model::InputError;
using fs::model::UsageError;

const std::vector<std::string> kMetrics{"deletion", "insertion", "drop", "sanity"};

std::set<std::string> parseMetrics(const std::string& list) {
  std::set<std::string> out;
  for (const auto& m : splitList(list)) {
    if (std::find(kMetrics.begin(), kMetrics.end(), m) == kMetrics.end())
      throw UsageError("evaluate: unknown metric '" + m + "' (valid: deletion, insertion, drop, sanity)");
    out.insert(m);
  }
  if (out.empty()) throw UsageError("evaluate: --metrics is empty");
  return out;
}

// Running sums of one method's metrics over the images.
struct MethodScores {
  std::unique_ptr<fa::SaliencyMethod> method;
  double deletion = 0, insertion = 0, drop = 0, increase = 0;
  std::vector<std::string> sanityLayers;
  std::vector<double> sanitySum;
};

struct EvalSettings {
  std::set<std::string> metrics;
  fa::CurveOptions curve;
  uint64_t seed = 0;
};

void scoreImage(fa::LoadedModel& m, const at::Tensor& x, MethodScores& s, const EvalSettings& e) {
  fa::SaliencyOptions opts;
  opts.target = fa::predict(m, x, 1).top.front().index;
  const at::Tensor map = s.method->compute(m, x, opts).map;
  if (e.metrics.count("deletion")) s.deletion += fa::deletionCurve(m, x, map, opts.target, e.curve).auc;
  if (e.metrics.count("insertion")) s.insertion += fa::insertionCurve(m, x, map, opts.target, e.curve).auc;
  if (e.metrics.count("drop")) {
    const fa::ConfidenceChange c = fa::confidenceChange(m, x, map, opts.target);
    s.drop += c.drop, s.increase += c.increase ? 1.0 : 0.0;
  }
  if (!e.metrics.count("sanity")) return;
  const auto mapOf = [&](fa::LoadedModel& mm) { return s.method->compute(mm, x, opts).map; };
  const fa::SanityResult r = fa::parameterRandomisation(m, mapOf, e.seed);
  if (s.sanitySum.empty()) s.sanitySum.assign(r.steps.size(), 0.0);
  s.sanityLayers.clear();
  for (size_t i = 0; i < r.steps.size(); ++i) {
    s.sanityLayers.push_back(r.steps[i].layer);
    s.sanitySum[i] += r.steps[i].spearman;
  }
}

nlohmann::json scoresJson(const MethodScores& s, const EvalSettings& e, int n) {
  nlohmann::json j{{"method", s.method->name()}};
  if (e.metrics.count("deletion")) j["deletion_auc"] = s.deletion / n;
  if (e.metrics.count("insertion")) j["insertion_auc"] = s.insertion / n;
  if (e.metrics.count("drop")) {
    j["average_drop"] = s.drop / n;
    j["increase_in_confidence"] = s.increase / n;
  }
  if (e.metrics.count("sanity")) {
    nlohmann::json steps = nlohmann::json::array();
    for (size_t i = 0; i < s.sanityLayers.size(); ++i)
      steps.push_back({{"layer", s.sanityLayers[i]}, {"spearman", s.sanitySum[i] / n}});
    j["sanity"] = steps;
  }
  return j;
}

void printScores(const nlohmann::json& j) {
  std::cout << std::left << std::setw(22) << j["method"].get<std::string>() << std::fixed << std::setprecision(4);
  if (j.contains("deletion_auc")) std::cout << "  deletion AUC " << j["deletion_auc"].get<double>();
  if (j.contains("insertion_auc")) std::cout << "  insertion AUC " << j["insertion_auc"].get<double>();
  if (j.contains("average_drop"))
    std::cout << std::setprecision(1) << "  average drop " << 100 * j["average_drop"].get<double>()
              << "%  increase in confidence " << 100 * j["increase_in_confidence"].get<double>() << "%";
  std::cout << "\n";
  if (!j.contains("sanity")) return;
  std::cout << "  randomised (head first) -> Spearman with the original map:\n" << std::setprecision(3);
  for (const auto& s : j["sanity"])
    std::cout << "    " << std::setw(28) << s["layer"].get<std::string>() << s["spearman"].get<double>() << "\n";
}

EvalSettings settingsFrom(const Args& a) {
  EvalSettings e;
  e.metrics = parseMetrics(a.value("--metrics", "deletion,insertion,drop"));
  e.curve.steps = a.intValue("--steps", 50, 1, 100000);
  e.curve.baseline = fa::parseBaseline(a.value("--baseline", "blur"));
  e.seed = static_cast<uint64_t>(a.intValue("--seed", 0, 0, 2147483647));
  return e;
}

int runEvaluate(const Args& a) {
  if (a.has("--dataset")) return runEvaluateDataset(a);
  if (!a.has("--images")) throw UsageError("evaluate: give --images DIR (saliency metrics) or --dataset fashion-mnist");
  const EvalSettings e = settingsFrom(a);
  std::vector<MethodScores> scores;
  for (const auto& name : splitList(a.value("--methods", "gradcam,gradient"))) {
    scores.emplace_back();
    scores.back().method = fa::makeSaliencyMethod(name);
  }
  if (scores.empty()) throw UsageError("evaluate: --methods is empty");
  fa::LoadedModel m = fa::loadModel(a.positional[0], a.value("--weights"), e.seed);
  const std::vector<cv::Mat> images = loadImageFolder(a.value("--images"), a.intValue("--limit", 0, 1, 1000000));
  const int n = static_cast<int>(images.size());
  for (int i = 0; i < n; ++i) {
    const at::Tensor x = fa::preprocess(images[i], m.config.input).input;
    for (auto& s : scores) scoreImage(m, x, s, e);
    std::cerr << "\revaluate: " << (i + 1) << "/" << n << " images" << (i + 1 == n ? "\n" : "") << std::flush;
  }
  nlohmann::json methods = nlohmann::json::array();
  for (const auto& s : scores) methods.push_back(scoresJson(s, e, n));
  if (a.has("--json")) {
    std::cout << nlohmann::json{{"model", m.config.id}, {"images", n}, {"steps", e.curve.steps},
                                {"baseline", fa::baselineName(e.curve.baseline)},
                                {"metrics", std::vector<std::string>(e.metrics.begin(), e.metrics.end())},
                                {"methods", methods}}.dump(2) << "\n";
    return 0;
  }
  std::cout << m.config.id << " on " << n << " images (" << e.curve.steps << " steps, "
            << fa::baselineName(e.curve.baseline) << " baseline, target = top-1 prediction)\n";
  for (const auto& j : methods) printScores(j);
  return 0;
}

const CommandRegistrar kEvaluate{
    {"evaluate",
     "evaluate MODEL [--weights F] (--images DIR [--methods a,b] [--metrics deletion,insertion,drop,sanity]"
     " [--steps N] [--baseline blur|zero] | --dataset fashion-mnist [--data-dir D]) [--limit N] [--json]\n"
     "  Mean faithfulness of saliency methods over the images of DIR, target = top-1 prediction:\n"
     "  deletion / insertion AUC (RISE; --steps chunks, default 50; --baseline, default blur), average drop\n"
     "  and increase in confidence (Grad-CAM++; JSON as fractions), and with 'sanity' the Spearman correlation\n"
     "  with the original map after randomising the model from the head down (Adebayo et al. 2018).\n"
     "  Defaults: --methods gradcam,gradient --metrics deletion,insertion,drop.\n"
     "  With --dataset: accuracy, confusion matrix and misclassified test indices on that test set.",
     {{"--weights", "--images", "--methods", "--metrics", "--limit", "--steps", "--baseline", "--dataset",
       "--data-dir"},
      {"--json"},
      1,
      1},
     runEvaluate}};
}  // namespace

}  // namespace fs::app
