// visualize: activation maximisation (analysis/features/feature_visualization.h) of one channel,
// neuron or class logit or a weighted sum of them, written as a PNG (and optionally as NPY).
#include "analysis/features/feature_visualization.h"
#include "app/cli_commands.h"
#include "app/cli_featvis.h"
#include "model/atomic_file.h"
#include "model/errors.h"
#include "model/npy.h"

#include <ATen/ATen.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <chrono>
#include <iomanip>
#include <iostream>
#include <utility>

namespace fs::app {
namespace {
namespace fa = fs::analysis;
using fs::model::UsageError;

// Reads --objective and its --terms, and checks that the channel and neuron objectives have a --tap.
void visualizeParseObjective(const Args& a, fa::VisOptions& o) {
  o.objective = fa::parseVisObjective(a.value("--objective", "channel"));
  const bool sum = o.objective == fa::VisObjective::Sum;
  if (sum != a.has("--terms")) throw UsageError("visualize: --terms goes with --objective sum, and sum needs --terms");
  if (sum) o.terms = fa::parseVisTerms(a.value("--terms"));
  if ((o.objective == fa::VisObjective::Channel || o.objective == fa::VisObjective::Neuron) && !a.has("--tap"))
    throw UsageError("visualize: --tap T is required for the channel and neuron objectives");
}

// Reads the channel indices of --channels, which excludes --channel, into the options.
void visualizeParseChannels(const Args& a, fa::VisOptions& o) {
  if (!a.has("--channels")) return;
  if (a.has("--channel")) throw UsageError("visualize: give --channel C or --channels C1,C2,..., not both");
  for (const auto& c : splitList(a.value("--channels"))) {
    try {
      o.channels.push_back(std::stoi(c));
    } catch (const std::exception&) {
      throw UsageError("visualize: --channels takes channel indices, got '" + c + "'");
    }
  }
}

// The visualisation settings from the arguments, all but greyscale (which needs the model).
fa::VisOptions visualizeOptions(const Args& a) {
  fa::VisOptions o;
  visualizeParseObjective(a, o);
  o.tap = a.value("--tap");
  o.channel = a.intValue("--channel", 0, 0, 1 << 20);
  visualizeParseChannels(a, o);
  o.steps = a.intValue("--steps", 256, 1, 100000);
  o.size = a.intValue("--size", 0, 0, 1024);
  o.seed = featvisSeed(a);
  o.transforms = !a.has("--no-transforms");
  o.samples = a.intValue("--diversity", 1, 1, 64);
  o.diversityWeight = a.doubleValue("--diversity-weight", o.diversityWeight, 0.0, 1e9);
  o.threads = a.intValue("--threads", 0, 1, 256);  // absent: one thread for small models
  return o;
}

// Runs the optimisation with its progress on stderr, and returns the result and its wall seconds.
std::pair<fa::VisResult, double> visualizeTimed(fa::LoadedModel& model, const fa::VisOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  fa::VisResult r = fa::visualizeFeature(model, o, [](int step, int steps) {
    if (step % 16 == 0 || step == steps) std::cerr << "visualize: step " << step << "/" << steps << "\r" << std::flush;
    return true;
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cerr << "\n";
  return {std::move(r), seconds};
}

// The result's images as 8-bit RGB pixels, height x width x 3.
at::Tensor visualizeImageBytes(const fa::VisResult& r) {
  // The samples side by side: [B,3,S,S] -> [S, B*S, 3].
  const at::Tensor row = r.images.permute({2, 0, 3, 1}).reshape({r.images.size(2), -1, 3});
  return row.mul(255.0).round().clamp(0, 255).to(at::kByte).contiguous();
}

// Writes the RGB pixels as an image file (InputError when it cannot be written).
void visualizeWriteImage(const std::string& path, const at::Tensor& hwc) {
  cv::Mat rgb(int(hwc.size(0)), int(hwc.size(1)), CV_8UC3, hwc.data_ptr<uint8_t>()), bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  if (!cv::imwrite(path, bgr)) throw fs::model::InputError(path + ": cannot write the image");
}

// Prints the time spent per section of the optimisation.
void visualizePrintTimings(const fa::VisTimings& t) {
  std::cout << std::setprecision(3) << "timings (s): image " << t.image << ", transforms " << t.transforms
            << ", forward " << t.forward << ", backward " << t.backward << ", update " << t.update << ", total "
            << t.total << " (CPU " << t.cpu << ")\n";
}

// Prints what was written and the objective reached, with the timings when --timings is given.
void visualizePrintSummary(const Args& a, const fa::VisOptions& o, const fa::VisResult& r, const at::Tensor& hwc,
                           double seconds) {
  std::cout << std::fixed << std::setprecision(4) << "wrote " << a.value("--out") << " (" << hwc.size(1) << "x"
            << hwc.size(0) << (o.greyscale ? ", greyscale" : "") << "): objective " << r.activation << " (initial "
            << r.initial << ")";
  for (size_t i = 1; i < r.activations.size(); ++i) std::cout << ", sample " << i + 1 << " " << r.activations[i];
  std::cout << " after " << o.steps << " steps in " << std::setprecision(2) << seconds << " s\n";
  if (a.has("--timings")) visualizePrintTimings(r.timings);
}

int runVisualize(const Args& a) {
  if (!a.has("--out")) throw UsageError("visualize: --out F.png is required");
  for (const char* name : {"--out", "--npy"})
    if (a.has(name)) fs::model::createFoldersFor(a.value(name));
  fa::VisOptions o = visualizeOptions(a);
  fa::LoadedModel model = fa::loadModel(a.positional[0], a.value("--weights"), o.seed);
  // Greyscale for models trained on greyscale data (the Fashion-MNIST demos) unless --colour.
  o.greyscale = a.has("--grey") || (model.config.labels == "fashion-mnist" && !a.has("--colour"));
  const auto [r, seconds] = visualizeTimed(model, o);
  const at::Tensor hwc = visualizeImageBytes(r);
  visualizeWriteImage(a.value("--out"), hwc);
  if (a.has("--npy")) fs::model::writeNpy(a.value("--npy"), r.images.size(0) > 1 ? r.images : r.image);
  visualizePrintSummary(a, o, r, hwc, seconds);
  return 0;
}

const CommandRegistrar kVisualize{
    {"visualize",
     "visualize MODEL [--weights F] [--objective channel|neuron|logit] --tap T --channel C [--steps 256]\n"
     "    [--size S] [--seed N] [--grey|--colour] [--no-transforms] [--diversity K [--diversity-weight 1]]\n"
     "    [--npy F.npy] [--timings] --out F.png\n"
     "  or: visualize MODEL --objective sum --terms TERM,TERM,... [--tap T for --diversity] ...\n"
     "  Activation maximisation (Olah et al. 2017, Lucid's defaults): a Fourier-parametrised image with\n"
     "  1/f scaling and colour decorrelation, transformation robustness (pad, jitter, scale, rotate)\n"
     "  and Adam at 0.05, seeded. The objective is the channel's mean over positions, the channel at\n"
     "  the centre position (neuron), the logit of class C (--objective logit, no --tap), or a\n"
     "  weighted sum of such terms (--objective sum): TAP:C[*W] (channel), neuron:TAP:C[*W],\n"
     "  logit:C[*W], weight W default 1, e.g. --terms \"stages.2:12*1.0,stages.2:40*-0.5\".\n"
     "  Greyscale by default for models trained on Fashion-MNIST. --diversity K optimises K samples with\n"
     "  Lucid's Gram-matrix diversity term at the tap (side by side in F.png; with sum, --tap or the\n"
     "  first term's tap). --channels C1,C2,... optimises one image per channel together (each as\n"
     "  its own run with the seed, side by side in F.png, faster per channel).\n"
     "  --timings prints the time spent per section. Small models (under 0.5 GMACs\n"
     "  a step) run on one thread unless --threads is given.",
     {{"--weights", "--objective", "--tap", "--channel", "--channels", "--steps", "--size", "--npy", "--out", "--diversity",
       "--diversity-weight", "--terms"},
      {"--grey", "--colour", "--no-transforms", "--timings"},
      1,
      1},
     runVisualize}};

}  // namespace
}  // namespace fs::app
