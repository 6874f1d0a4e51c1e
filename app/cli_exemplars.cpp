// exemplars and exemplars-merge: the top-k data-set images per channel (analysis/features/exemplars.h)
// as a reusable, shardable index file, optionally drawn as a figure.
#include "analysis/counted.h"
#include "analysis/features/exemplar_figure.h"
#include "analysis/features/exemplars.h"
#include "analysis/inference.h"
#include "app/cli_commands.h"
#include "app/cli_featvis.h"
#include "model/atomic_file.h"
#include "model/errors.h"
#include "render/figure_renderer.h"

#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>

namespace fs::app {
namespace {
namespace fa = fs::analysis;
using fs::model::UsageError;

void writeFigureIfAsked(const Args& a, const fa::ExemplarIndex& index, const fa::ImageSource& source,
                        const fa::LoadedModel& model) {
  if (!a.has("--figure")) return;
  const int channels = a.intValue("--channels", 4, 1, 4096);
  std::cout << renderFigure(fa::exemplarFigure(index, source, model.config.input, channels), a.value("--figure"),
                            a.doubleValue("--dpi", fs::render::kDefaultDpi, fs::render::kMinDpi, fs::render::kMaxDpi))
            << "\n";
}

// An index already at `out` for the same weights, images, taps, k, score and shard is kept (its
// figure written if asked): true. Otherwise a line says why it is recomputed: false.
bool reuseExistingIndex(const Args& a, const std::string& out, const std::string& weights,
                        const fa::ImageSource& source, const fa::LoadedModel& model, const fa::ExemplarOptions& o) {
  if (!std::filesystem::exists(out)) return false;
  try {
    fa::ExemplarIndex old = fa::readExemplarIndex(out);
    fa::ExemplarIndex want;
    want.model = model.config.id, want.weightsSha256 = weights, want.datasetSha256 = source.contentHash;
    want.imageCount = source.count, want.taps = o.taps.empty() ? model.net->stages() : o.taps;
    want.k = o.k, want.score = o.score;
    want.inputHeight = model.config.input.height, want.inputWidth = model.config.input.width;
    if (old.sameKey(want) && old.shard.index == o.shard.index && old.shard.count == o.shard.count) {
      std::cout << "reusing " << out << " (same weights, images, taps, k and score; --force recomputes)\n";
      writeFigureIfAsked(a, old, source, model);
      return true;
    }
    std::cout << out << " was made for other weights, images, taps, k or score: recomputing\n";
  } catch (const fs::model::InputError& e) {
    std::cout << "recomputing: " << e.what() << "\n";
  }
  return false;
}

int runExemplars(const Args& a) {
  if (!a.has("--out")) throw UsageError("exemplars: --out INDEX.json is required");
  if (a.has("--figure")) fs::render::figureFormatForPath(a.value("--figure"));
  for (const char* name : {"--out", "--figure"})
    if (a.has(name)) fs::model::createFoldersFor(a.value(name));
  fa::ExemplarOptions o;
  o.k = a.intValue("--k", 9, 1, 10000);
  o.score = fa::parseExemplarScore(a.value("--score", "max"));
  o.batch = a.intValue("--batch", 0, 0, 4096);
  o.shard = fa::parseShard(a.value("--shard", "1/1"));
  const fa::ImageSource source = imageSourceFromArgs(a, "exemplars", 0);
  fa::LoadedModel model = fa::loadModel(a.positional[0], a.value("--weights"), featvisSeed(a));
  o.taps = tapList(a);
  if (o.taps.size() == 1 && o.taps[0] == "all") o.taps = fa::tapNames(model);
  const std::string out = fa::shardFileName(a.value("--out"), o.shard);
  const std::string weights = weightsFingerprint(model);
  if (!a.has("--force") && reuseExistingIndex(a, out, weights, source, model, o)) return 0;
  const auto t0 = std::chrono::steady_clock::now();
  const fa::ExemplarIndex index = fa::computeExemplars(model, weights, source, o, [](int64_t done, int64_t total) {
    std::cerr << "exemplars: " << done << "/" << total << " images\r" << std::flush;
    return true;
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cerr << "\n";
  fs::model::writeFileAtomically(out, fa::exemplarIndexText(index));
  int64_t channels = 0;
  for (const auto& [tap, list] : index.channels) channels += int64_t(list.size());
  std::cout << std::fixed << std::setprecision(2) << "wrote " << out << ": top " << index.k << " of "
            << fs::analysis::counted((source.count + o.shard.count - o.shard.index) / o.shard.count, "image")
            << " for " << channels
            << " channels of " << index.taps.size() << " taps in " << seconds << " s\n";
  writeFigureIfAsked(a, index, source, model);
  return 0;
}

int runExemplarsMerge(const Args& a) {
  if (!a.has("--out")) throw UsageError("exemplars-merge: --out INDEX.json is required");
  std::vector<fa::ExemplarIndex> shards;
  for (const auto& p : a.positional) shards.push_back(fa::readExemplarIndex(p));
  const fa::ExemplarIndex merged = fa::mergeExemplarShards(shards);
  fs::model::writeFileAtomically(a.value("--out"), fa::exemplarIndexText(merged));
  std::cout << "merged " << shards.size() << " shards into " << a.value("--out") << "\n";
  return 0;
}

const CommandRegistrar kExemplars{
    {"exemplars",
     "exemplars MODEL [--weights F] (--dataset fashion-mnist [--dataset-dir D] | --images DIR) [--limit N]\n"
     "    [--taps T1,T2,...|all] [--k 9] [--score max|mean] [--batch N] [--shard K/N] [--force]\n"
     "    [--figure FIG.png|.pdf|.svg [--channels 4] [--dpi 300]] --out INDEX.json\n"
     "  The top-k images per channel of each tap (default: the model's stages) by the channel's max or\n"
     "  mean activation, with the receptive-field crop around the argmax; one streaming pass, bounded\n"
     "  memory. The index is keyed by the weights' SHA-256, the images' content hash, the taps, k and\n"
     "  the score, and reused when they match. --shard K/N writes INDEX-shard-K-of-N.json; merge the\n"
     "  shards with exemplars-merge.",
     {{"--weights", "--dataset", "--dataset-dir", "--images", "--limit", "--taps", "--k", "--score", "--batch",
       "--shard", "--figure", "--channels", "--dpi", "--out"},
      {"--force"},
      1,
      1},
     runExemplars}};

const CommandRegistrar kExemplarsMerge{
    {"exemplars-merge",
     "exemplars-merge SHARD.json... --out INDEX.json\n"
     "  Merges the shards 1..N of one exemplars run (each exactly once) into the index a single run writes.",
     {{"--out"}, {}, 1, -1},
     runExemplarsMerge}};

}  // namespace
}  // namespace fs::app
