// visualize-bench: issue 15's activation-maximisation goals, measured per model. For the last stage
// (or --tap) of each model: every channel's top data-set exemplar by the channel's mean over
// positions (the exemplar index's score "mean": the value the channel objective maximises) over the
// first --limit Fashion-MNIST test images, then activation maximisation of every channel (or a
// seeded sample of --channels N), and the fraction of optimised images whose objective reaches the
// top exemplar's, with the wall and CPU time per channel.
#include "analysis/fashion_mnist.h"
#include "analysis/features/feature_visualization.h"
#include "analysis/inference.h"
#include "app/cli_commands.h"
#include "app/cli_featvis.h"
#include "model/atomic_file.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <random>

namespace fs::app {
namespace {
namespace fa = fs::analysis;
using fs::model::UsageError;

// All channels, or `count` of them drawn with `seed` (ascending).
std::vector<int> benchChannels(int channels, int count, uint64_t seed) {
  std::vector<int> all(size_t(channels), 0);
  std::iota(all.begin(), all.end(), 0);
  if (count <= 0 || count >= channels) return all;
  std::mt19937 rng(uint32_t(seed) + 1);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(size_t(count));
  std::sort(all.begin(), all.end());
  return all;
}

// The top exemplar's score per channel of `tap`: the channel's mean over positions maximised over
// the images (the exemplar index's score "mean" with k = 1, without the receptive-field crops,
// which not every family describes), and the image it comes from (the lower index on ties).
std::pair<at::Tensor, at::Tensor> topExemplars(fa::LoadedModel& model, const std::string& tap,
                                               const fa::ImageSource& source) {
  fa::findTap(model, tap);  // InputError listing the taps
  c10::InferenceMode guard;
  at::Tensor best, image;
  for (int64_t begin = 0; begin < source.count; begin += 50) {
    const int64_t end = std::min(source.count, begin + 50);
    const at::Tensor x = source.batch(begin, end, model.config.input);
    const at::Tensor means = model.net->forward(x, {tap}).taps.at(tap).mean(at::IntArrayRef{2, 3});  // [n, C]
    const auto [value, index] = means.max(0);
    if (!best.defined()) {
      best = value, image = index + begin;
      continue;
    }
    const at::Tensor better = value > best;
    best = at::where(better, value, best), image = at::where(better, index + begin, image);
  }
  return {best.to(at::kDouble).contiguous(), image.contiguous()};
}

// The rows of a model's benchmark, the count of channels that reached their top exemplar and the
// summed wall and CPU seconds of the optimisations.
struct VisualizeBenchTally {
  nlohmann::json rows = nlohmann::json::array();
  int reached = 0;
  double wall = 0.0, cpu = 0.0;
};

// The visualisation settings of the benchmark: visualize's defaults, greyscale for Fashion-MNIST models.
fa::VisOptions visualizeBenchOptions(const Args& a, const fa::LoadedModel& model, const std::string& tap,
                                     uint64_t seed) {
  fa::VisOptions o;
  o.tap = tap, o.steps = a.intValue("--steps", 256, 1, 100000), o.seed = seed;
  o.greyscale = model.config.labels == "fashion-mnist";
  o.threads = a.intValue("--threads", 0, 1, 256);
  return o;
}

// Scores one chunk of channels optimised together in `r` against their top exemplars, adding a row each.
void visualizeBenchScoreChunk(VisualizeBenchTally& t, const std::string& id, const std::string& tap,
                              const std::vector<int>& chunk, const fa::VisResult& r, const at::Tensor& top,
                              const at::Tensor& topImage) {
  for (size_t i = 0; i < chunk.size(); ++i) {
    const int c = chunk[i];
    if (c < 0 || c >= top.size(0))
      throw fs::model::InputError(id + ": channel " + std::to_string(c) + " out of range at " + tap);
    const double best = top[c].item<double>(), got = r.activations.at(i);
    t.reached += got >= best;
    t.rows.push_back({{"channel", c}, {"activation", got}, {"top_exemplar", best},
                      {"top_exemplar_image", topImage[c].item<int64_t>()}, {"reached", got >= best}});
  }
}

// Optimises the channels `batch` at a time and scores them, with the progress on stderr.
VisualizeBenchTally visualizeBenchRun(fa::LoadedModel& model, fa::VisOptions& o, const std::string& id,
                                      const std::vector<int>& channels, size_t batch, const at::Tensor& top,
                                      const at::Tensor& topImage) {
  VisualizeBenchTally t;
  for (size_t begin = 0; begin < channels.size(); begin += batch) {
    const std::vector<int> chunk(channels.begin() + long(begin),
                                 channels.begin() + long(std::min(channels.size(), begin + batch)));
    if (batch == 1)
      o.channel = chunk[0], o.channels.clear();
    else
      o.channels = chunk;
    const fa::VisResult r = fa::visualizeFeature(model, o);
    t.wall += r.timings.total, t.cpu += r.timings.cpu;
    visualizeBenchScoreChunk(t, id, o.tap, chunk, r, top, topImage);
    std::cerr << id << ": " << begin + chunk.size() << "/" << channels.size() << " channels\r" << std::flush;
  }
  std::cerr << "\n";
  return t;
}

// Prints the model's summary line, then each channel whose objective fell short of its top exemplar.
void visualizeBenchPrint(const std::string& id, const fa::VisOptions& o, const fa::ImageSource& source,
                         const std::vector<int>& channels, size_t batch, const VisualizeBenchTally& t,
                         double exemplarSeconds) {
  const double n = double(channels.size());
  std::cout << std::fixed << std::setprecision(2) << id << " " << o.tap << ": " << t.reached << "/"
            << channels.size() << " (" << 100.0 * t.reached / n << "%) reach the top exemplar of " << source.count
            << " test images; per channel " << t.wall / n << " s wall, " << t.cpu / n << " s CPU (" << o.steps
            << " steps, " << (batch == 1 ? std::string("one at a time") : std::to_string(batch) + " together")
            << "); exemplars " << exemplarSeconds << " s\n";
  for (const auto& row : t.rows)
    if (!row["reached"].get<bool>())
      std::cout << "  channel " << row["channel"] << ": " << std::setprecision(4) << row["activation"].get<double>()
                << " < " << row["top_exemplar"].get<double>() << "\n";
}

// The model's entry in the --json report.
nlohmann::json visualizeBenchRecord(const std::string& id, const fa::LoadedModel& model, const fa::VisOptions& o,
                                    const fa::ImageSource& source, uint64_t seed, size_t batch,
                                    const std::vector<int>& channels, const VisualizeBenchTally& t,
                                    double exemplarSeconds) {
  const double n = double(channels.size());
  return {{"model", id},
          {"tap", o.tap},
          {"weights", weightsFingerprint(model)},
          {"images", source.count},
          {"steps", o.steps},
          {"seed", seed},
          {"batch", batch},
          {"greyscale", o.greyscale},
          {"reached", t.reached},
          {"channels_tried", channels.size()},
          {"fraction", t.reached / n},
          {"wall_s_per_channel", t.wall / n},
          {"cpu_s_per_channel", t.cpu / n},
          {"exemplar_s", exemplarSeconds},
          {"rows", t.rows}};
}

nlohmann::json benchModel(const std::string& id, const Args& a, const std::vector<int>& requested) {
  const uint64_t seed = featvisSeed(a);
  fa::LoadedModel model = fa::loadModel(id, "", seed);
  const std::string tap = a.value("--tap", model.net->stages().back());
  const fa::ImageSource source = fa::fashionMnistSource(a.value("--dataset-dir", fa::defaultFashionMnistDir()),
                                                        a.intValue("--limit", 1000, 1, 10000));
  auto t0 = std::chrono::steady_clock::now();
  const auto [top, topImage] = topExemplars(model, tap, source);
  const double exemplarSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<int> channels = requested;
  if (channels.empty()) channels = benchChannels(int(top.size(0)), a.intValue("--channels", 0, 0, 100000), seed);
  fa::VisOptions o = visualizeBenchOptions(a, model, tap, seed);
  const size_t batch = size_t(a.intValue("--batch", 1, 1, 256));
  const VisualizeBenchTally t = visualizeBenchRun(model, o, id, channels, batch, top, topImage);
  visualizeBenchPrint(id, o, source, channels, batch, t, exemplarSeconds);
  return visualizeBenchRecord(id, model, o, source, seed, batch, channels, t, exemplarSeconds);
}

int runVisualizeBench(const Args& a) {
  std::vector<int> requested;
  if (a.has("--channel-list"))
    for (const auto& c : splitList(a.value("--channel-list"))) {
      try {
        requested.push_back(std::stoi(c));
      } catch (const std::exception&) {
        throw UsageError("visualize-bench: --channel-list takes channel indices, got '" + c + "'");
      }
    }
  nlohmann::json report = nlohmann::json::array();
  for (const auto& id : a.positional) report.push_back(benchModel(id, a, requested));
  if (a.has("--json")) {
    fs::model::writeFileAtomically(a.value("--json"), report.dump(1) + "\n");
    std::cout << "wrote " << a.value("--json") << "\n";
  }
  return 0;
}

const CommandRegistrar kVisualizeBench{
    {"visualize-bench",
     "visualize-bench MODEL... [--tap T] [--limit 1000] [--channels N | --channel-list C1,C2,...] [--steps 256]\n"
     "    [--batch 1] [--seed N] [--dataset-dir D] [--json F.json]\n"
     "  Issue 15's goal for activation maximisation: per model, the top Fashion-MNIST test exemplar of\n"
     "  every channel of the last stage (or --tap) by the channel's mean over positions, over the first\n"
     "  --limit images, then the visualisation (visualize's defaults, greyscale for Fashion-MNIST models)\n"
     "  of every channel, or of N channels drawn with the seed, and the fraction whose objective reaches\n"
     "  the top exemplar's, with wall and CPU seconds per channel. --batch K optimises K channels together\n"
     "  (visualize --channels).",
     {{"--tap", "--limit", "--channels", "--channel-list", "--steps", "--batch", "--dataset-dir", "--json"}, {}, 1, -1},
     runVisualizeBench}};

}  // namespace
}  // namespace fs::app
