// evaluate: faithfulness and sanity metrics of saliency methods over a folder of images (deletion /
// insertion AUC, average drop / increase in confidence, parameter randomisation), or with
// --dataset the classification accuracy of a model (runEvaluateDataset, cli_train.cpp).
#include "analysis/model_loader.h"
#include "analysis/saliency/saliency_method.h"
#include "analysis/scorecard.h"
#include "app/cli_commands.h"
#include "model/errors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <set>

namespace fs::app {
namespace {
namespace fa = fs::analysis;
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

fa::ScorecardOptions scorecardOptions(const Args& a) {
  fa::ScorecardOptions o;
  const std::set<std::string> metrics = parseMetrics(a.value("--metrics", "deletion,insertion,drop"));
  o.metrics.assign(metrics.begin(), metrics.end());
  o.methods = splitList(a.value("--methods", "gradcam,gradient"));
  if (o.methods.empty()) throw UsageError("evaluate: --methods is empty");
  o.curve.steps = a.intValue("--steps", 50, 1, 100000);
  const std::string substrate = a.value("--baseline", "rise");
  if (substrate != "rise") o.curve.baseline = fa::parseBaseline(substrate);
  o.seed = static_cast<uint64_t>(a.intValue("--seed", 0, 0, 2147483647));
  o.imagesDir = a.value("--images");
  o.limit = a.intValue("--limit", 0, 0, 1 << 30);
  o.shard = fa::parseShard(a.value("--shard", "1/1"));
  o.outPath = a.value("--out");
  if (o.shard.count > 1 && o.outPath.empty()) throw UsageError("evaluate: --shard needs --out FILE.json");
  o.log = [](const std::string& line) { std::cerr << line << std::endl; };
  return o;
}

int runEvaluate(const Args& a) {
  if (a.has("--dataset")) return runEvaluateDataset(a);
  if (!a.has("--images")) throw UsageError("evaluate: give --images DIR (saliency metrics) or --dataset fashion-mnist");
  const fa::ScorecardOptions o = scorecardOptions(a);
  for (const auto& name : o.methods) fa::makeSaliencyMethod(name);  // InputError listing the methods
  fa::LoadedModel m = fa::loadModel(a.positional[0], a.value("--weights"), o.seed);
  const fa::ScorecardSummary sum = fa::runScorecard(m, o);
  const nlohmann::json aggregate = nlohmann::json::parse(sum.aggregate);
  const int n = aggregate["images"].get<int>();
  if (!sum.path.empty())
    std::cerr << "evaluate: " << sum.images << " images in shard " << o.shard.index << "/" << o.shard.count << ": "
              << sum.done << " done, " << sum.skipped << " skipped, " << sum.failed << " failed; scorecard "
              << sum.path << "\n";
  if (a.has("--json")) {
    std::cout << nlohmann::json{{"model", m.config.id}, {"images", n}, {"failed", sum.failed},
                                {"steps", o.curve.steps}, {"baseline", fa::substrateName(o.curve)},
                                {"metrics", o.metrics}, {"methods", aggregate["methods"]}}.dump(2) << "\n";
    return sum.failed > 0 ? 3 : 0;
  }
  std::cout << m.config.id << " on " << n << " images (" << o.curve.steps << " steps, "
            << fa::substrateName(o.curve) << " baseline, target = top-1 prediction)\n";
  for (const auto& j : aggregate["methods"]) printScores(j);
  return sum.failed > 0 ? 3 : 0;
}

const CommandRegistrar kEvaluate{
    {"evaluate",
     "evaluate MODEL [--weights F] (--images DIR [--methods a,b] [--metrics deletion,insertion,drop,sanity]"
     " [--steps N] [--baseline rise|black|mean|blur] [--out FILE.json [--shard K/N]] | --dataset fashion-mnist\n"
     "  [--data-dir D]) [--limit N] [--json]\n"
     "  Mean faithfulness of saliency methods over the images of DIR, target = top-1 prediction:\n"
     "  deletion / insertion AUC (RISE; --steps chunks, default 50; --baseline: the substrate, default rise =\n"
     "  deletion to black (pixel 0), insertion from a blur; black, mean (the dataset mean colour) or blur use\n"
     "  that one for both curves), average drop\n"
     "  and increase in confidence (Grad-CAM++; JSON as fractions), and with 'sanity' the Spearman correlation\n"
     "  with the original map after randomising the model from the head down (Adebayo et al. 2018).\n"
     "  Defaults: --methods gradcam,gradient --metrics deletion,insertion,drop.\n"
     "  --out writes the scorecard: per-image records and the means computed from them in image order\n"
     "  (atomically, every 5 s and at the end). Resumable: rerun the same command and images already\n"
     "  recorded are skipped. --shard K/N takes images i with i % N == K-1 (sorted, after --limit) and\n"
     "  writes FILE-shard-K-of-N.json; `merge` combines the shards into FILE.json. Unreadable images\n"
     "  are recorded as failed (exit code 3).\n"
     "  With --dataset: accuracy, confusion matrix and misclassified test indices on that test set.",
     {{"--weights", "--images", "--methods", "--metrics", "--limit", "--steps", "--baseline", "--dataset",
       "--data-dir", "--out", "--shard"},
      {"--json"},
      1,
      1},
     runEvaluate}};
}  // namespace

}  // namespace fs::app
