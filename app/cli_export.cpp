// export: feature maps and saliency maps of a folder of images for several models, restartable
// and shardable, with a manifest (see analysis/batch_export.h).
#include "analysis/batch_export.h"
#include "analysis/counted.h"
#include "app/cli_commands.h"
#include "app/cli_input.h"
#include "model/errors.h"

#include <iostream>
#include <sstream>

namespace fs::app {
namespace {
namespace fa = fs::analysis;
using fs::model::UsageError;

std::vector<std::string> methodList(const Args& a) {
  const std::string text = a.value("--methods", "gradcam");
  std::vector<std::string> out;
  if (text == "none") return out;
  std::stringstream in(text);
  for (std::string m; std::getline(in, m, ',');)
    if (!m.empty()) out.push_back(m);
  return out;
}

fa::ExportOptions exportOptions(const Args& a) {
  if (!a.has("--images") || !a.has("--out")) throw UsageError("export: --images DIR and --out DIR are required");
  fa::ExportOptions o;
  o.imagesDir = a.value("--images");
  o.outDir = a.value("--out");
  o.methods = methodList(a);
  o.taps = a.value("--taps", "stages");
  o.shard = fa::parseShard(a.value("--shard", "1/1"));
  o.limit = a.intValue("--limit", 0, 0, 1 << 30);
  o.saveInterval = a.doubleValue("--save-every", 5.0, 0.1, 86400.0);
  o.saliency = saliencyOptionsFromArgs(a, "export");
  o.saliency.target = a.intValue("--target", -1, -1, 1 << 24);
  o.log = [](const std::string& line) { std::cerr << line << std::endl; };
  return o;
}

int runExport(const Args& a) {
  const auto specs = a.all("--model");
  if (specs.empty()) throw UsageError("export: give at least one --model ID[:WEIGHTS]");
  const fa::ExportOptions options = exportOptions(a);
  const auto seed = static_cast<uint64_t>(a.intValue("--seed", 0, 0, 2147483647));
  std::vector<fa::LoadedModel> models;
  for (const auto& s : specs) {
    const fa::ModelSpec spec = fa::parseModelSpec(s);
    models.push_back(fa::loadModel(spec.idOrConfig, spec.weights, seed));
  }
  const fa::ExportSummary sum = fa::runBatchExport(models, options);
  std::cout << "export: " << fs::analysis::counted(sum.images, "image") << " in shard " << options.shard.index << "/"
            << options.shard.count << ": " << sum.done << " done, " << sum.skipped << " skipped, " << sum.failed
            << " failed; manifest " << sum.manifestPath << "\n";
  return sum.failed > 0 ? 3 : 0;
}

Command exportCommand() {
  Command c{"export",
            "export --model ID[:WEIGHTS] ... --images DIR --out DIR [--methods gradcam,...|none] [--taps stages|all|T1,T2]\n"
            "       [--shard K/N] [--limit N] [--save-every S] [--target C] [method options, as in saliency]\n"
            "  Writes OUT/<image>/<model>/features/<tap>.npy (float32 NCHW) and saliency/<method>.npy|.png for\n"
            "  every image and model, plus OUT/manifest.json (manifest-shard-K-of-N.json with --shard; `merge OUT`\n"
            "  combines the shards into manifest.json). Resumable after a kill: images the manifest records as done\n"
            "  (it is saved every --save-every seconds, 5 by default, 0.1 at least) with all outputs present are\n"
            "  skipped, others redone. --shard K/N takes images i with i % N == K-1 (sorted, after --limit).\n"
            "  Unreadable images are listed in the manifest as failed; the exit code is then 3.\n" +
                saliencyMethodsHelp(),
            {{"--model", "--images", "--out", "--methods", "--taps", "--shard", "--limit", "--save-every", "--target"}, {}, 0, 0},
            runExport};
  for (const std::string& o : saliencyOptionNames()) c.options.values.insert(o);
  return c;
}

const CommandRegistrar kExport{exportCommand()};

}  // namespace
}  // namespace fs::app
