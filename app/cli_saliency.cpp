// saliency: one saliency map for one input; the raw map as NPY, an overlay on the original image
// as PNG (with a colour bar), and a summary (text or JSON).
#include "analysis/map_output.h"
#include "analysis/colormap.h"
#include "analysis/saliency/saliency_method.h"
#include "analysis/saliency_overlay.h"
#include "analysis/string_list.h"
#include "app/cli_commands.h"
#include "app/cli_input.h"
#include "model/atomic_file.h"
#include "model/errors.h"
#include "model/npy.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <iostream>

namespace fs::app {
namespace {
namespace fa = fs::analysis;
using fs::model::InputError;
using fs::model::UsageError;

std::string lowered(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::unique_ptr<fa::SaliencyMethod> methodFromArgs(const Args& a) {
  const auto names = fa::saliencyMethodNames();
  const std::string name = a.value("--method");
  if (name.empty()) throw UsageError("saliency: --method M is required (valid: " + fa::joinList(names) + ")");
  if (std::find(names.begin(), names.end(), name) == names.end())
    throw UsageError("saliency: unknown method '" + name + "' (valid: " + fa::joinList(names) + ")");
  auto method = fa::makeSaliencyMethod(name);
  if (a.has("--tap") && !method->usesTap()) {
    std::vector<std::string> tapMethods;
    for (const auto& n : names)
      if (fa::makeSaliencyMethod(n)->usesTap()) tapMethods.push_back(n);
    throw UsageError("saliency: " + name + " does not use a tap (--tap applies to: " + fa::joinList(tapMethods) + ")");
  }
  return method;
}

size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

// Labels that contain the query, else the five closest by edit distance.
std::vector<std::string> nearLabels(const std::vector<std::string>& labels, const std::string& query) {
  std::vector<std::string> out;
  for (const auto& l : labels)
    if (out.size() < 10 && lowered(l).find(query) != std::string::npos) out.push_back(l);
  if (!out.empty()) return out;
  std::vector<std::pair<size_t, std::string>> scored;
  for (const auto& l : labels) scored.emplace_back(editDistance(lowered(l), query), l);
  std::sort(scored.begin(), scored.end());
  for (size_t i = 0; i < std::min<size_t>(5, scored.size()); ++i) out.push_back(scored[i].second);
  return out;
}

// --target: a class index or a label (exact, case-insensitive); -1 = top-1.
int targetFromArgs(const fa::LoadedModel& m, const Args& a) {
  const std::string t = a.value("--target");
  if (t.empty()) return -1;
  if (std::all_of(t.begin(), t.end(), [](unsigned char c) { return std::isdigit(c); }))
    return t.size() > 9 ? m.config.numClasses : std::stoi(t);
  const std::string query = lowered(t);
  for (size_t i = 0; i < m.labels.size(); ++i)
    if (lowered(m.labels[i]) == query) return static_cast<int>(i);
  throw InputError("unknown class '" + t + "' for " + m.config.id + " (near matches: " +
                   fa::joinList(nearLabels(m.labels, query)) + "; or give an index 0.." +
                   std::to_string(m.config.numClasses - 1) + ")");
}

// The method's convention (MapConvention), unless an option overrides a part of it.
fa::DisplaySettings displayFromArgs(const Args& a, const fa::SaliencyMethod& method) {
  const fa::MapConvention c = method.convention();
  fa::DisplaySettings d = fa::displaySettings(c);
  if (a.has("--sign")) {
    const std::string sign = a.value("--sign");
    if (sign == "signed") d.sign = fa::SignMode::Signed;
    else if (sign == "abs") d.sign = fa::SignMode::Absolute;
    else if (sign == "relu") d.sign = fa::SignMode::Relu;
    else throw UsageError("saliency: unknown --sign '" + sign + "' (valid: signed, abs, relu)");
    if (!a.has("--colormap")) d.colormap = d.sign == fa::SignMode::Signed ? fa::Colormap::Diverging : fa::Colormap::Turbo;
  }
  try {
    if (a.has("--colormap")) d.colormap = fa::parseColormap(a.value("--colormap"));
  } catch (const InputError& e) {
    throw UsageError(std::string("saliency: ") + e.what());
  }
  d.alpha = a.doubleValue("--alpha", 0.5, 0.0, 1.0);
  d.clipPercentile = a.doubleValue("--clip", c.clipPercentile, 1.0, 100.0);
  return d;
}

// A "\rmethod: NN%" line on stderr while a long method runs.
fa::ProgressFn progressLine(const std::string& method, bool& printed) {
  return [&printed, method, last = -1](double f) mutable {
    const int pct = static_cast<int>(f * 100.0);
    if (f >= 1.0 && !printed) return;
    if (pct == last) return;
    last = pct;
    printed = true;
    std::cerr << "\r" << method << ": " << pct << "%" << (f >= 1.0 ? "\n" : "") << std::flush;
  };
}

struct Timed {
  fa::SaliencyResult result;
  double elapsedMs = 0.0;
};

// One run, or with --repeat N a warm-up and the median of N runs.
Timed computeTimed(fa::SaliencyMethod& method, fa::LoadedModel& m, const at::Tensor& x,
                   const fa::SaliencyOptions& o, int repeat) {
  bool printed = false;
  const fa::ProgressFn progress = progressLine(method.name(), printed);
  Timed t;
  if (repeat > 1) method.compute(m, x, o);
  std::vector<double> ms;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    t.result = method.compute(m, x, o, repeat == 1 ? progress : fa::ProgressFn{});
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  t.elapsedMs = ms.size() % 2 ? ms[ms.size() / 2] : 0.5 * (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]);
  return t;
}

fa::ValueRange writeOverlayPng(const std::string& path, const CliInput& in, const at::Tensor& map,
                               const fa::DisplaySettings& d) {
  const fa::SaliencyOverlay o = fa::overlaySaliency(in.original, fa::saliencyMapToMat(map), in.crop, d);
  fa::writePng(path, fa::withColorBar(o.rgb, d.colormap, o.range));
  return o.range;
}

nlohmann::json summary(const Args& a, const fa::LoadedModel& m, const Timed& t, const fa::DisplaySettings& d,
                       const fa::ValueRange* shown) {
  const fa::SaliencyResult& r = t.result;
  const int idx = r.target;
  nlohmann::json j{{"method", r.method},
                   {"target", {{"index", idx}, {"label", idx < int(m.labels.size()) ? m.labels[idx] : ""}}},
                   {"tap", r.tap.empty() ? nlohmann::json() : nlohmann::json(r.tap)},
                   {"shape", r.map2d.sizes().vec()},  // the displayed map, as in --npy
                   {"raw_shape", r.map.sizes().vec()},
                   {"min", r.map2d.min().item<double>()},
                   {"max", r.map2d.max().item<double>()},
                   {"elapsed_ms", t.elapsedMs},
                   {"npy", a.has("--npy") ? nlohmann::json(a.value("--npy")) : nlohmann::json()},
                   {"png", a.has("--png") ? nlohmann::json(a.value("--png")) : nlohmann::json()},
                   {"caveat", r.caveat.empty() ? nlohmann::json() : nlohmann::json(r.caveat)}};
  if (shown)
    j["display"] = {{"colormap", fa::colormapName(d.colormap)}, {"sign", fa::signModeName(d.sign)},
                    {"clip", d.clipPercentile}, {"alpha", d.alpha}, {"range", {shown->lo, shown->hi}}};
  return j;
}

void printSummary(const nlohmann::json& j) {
  std::cout << "method  " << j["method"].get<std::string>() << "\n"
            << "target  " << j["target"]["index"] << " (" << j["target"]["label"].get<std::string>() << ")\n"
            << "tap     " << (j["tap"].is_null() ? "(none: the method works on the input)" : j["tap"].get<std::string>()) << "\n"
            << "map     " << j["shape"].dump() << " float32\n"
            << "range   [" << j["min"].get<double>() << ", " << j["max"].get<double>() << "]\n"
            << "time    " << std::lround(j["elapsed_ms"].get<double>() * 10) / 10.0 << " ms\n";
  if (!j["caveat"].is_null()) std::cout << "caveat  " << j["caveat"].get<std::string>() << "\n";
  if (!j["npy"].is_null()) std::cout << "npy     " << j["npy"].get<std::string>() << "\n";
  if (j.contains("display")) {
    const auto& d = j["display"];
    std::cout << "png     " << j["png"].get<std::string>() << " (" << d["sign"].get<std::string>() << ", "
              << d["colormap"].get<std::string>() << ", display range [" << d["range"][0].get<double>() << ", "
              << d["range"][1].get<double>() << "])\n";
  }
}

int runSaliency(const Args& a) {
  auto method = methodFromArgs(a);
  fa::SaliencyOptions options = saliencyOptionsFromArgs(a, "saliency");
  const fa::DisplaySettings display = displayFromArgs(a, *method);
  const int repeat = a.intValue("--repeat", 1, 1, 1000);
  fa::LoadedModel m = fa::loadModel(a.positional[0], a.value("--weights"), options.seed);
  const CliInput in = loadCliInput(m, a);
  options.target = targetFromArgs(m, a);
  const Timed t = computeTimed(*method, m, in.input, options, repeat);
  if (a.has("--npy")) fa::writeMapNpy(a.value("--npy"), fa::saliencyMapToMat(t.result.map2d));
  if (a.has("--raw-npy")) fs::model::writeNpy(a.value("--raw-npy"), t.result.map);
  fa::ValueRange shown;
  if (a.has("--png")) shown = writeOverlayPng(a.value("--png"), in, t.result.map2d, display);
  const nlohmann::json j = summary(a, m, t, display, a.has("--png") ? &shown : nullptr);
  if (a.has("--json")) std::cout << j.dump(2) << "\n";
  else printSummary(j);
  return 0;
}

Command saliencyCommand() {
  Command c{"saliency",
            "saliency MODEL [--weights F] (--image F | --input-npy F) --method M [--tap T] [--target C] [--npy OUT]"
            " [--raw-npy OUT] [--png OUT] [method options] [display options] [--json]\n"
            "  One saliency map for the target class (index or label; default the top-1 prediction).\n" +
                saliencyMethodsHelp() +
                "  --npy writes the map that is displayed (float32 [h,w]: a CAM at the tap's resolution; an\n"
                "  input attribution at the input's, reduced over colour channels by the method's convention:\n"
                "  max |g| for gradient/smoothgrad, the signed sum otherwise), before the sign step, the same\n"
                "  file as the export's and the GUI's; the metrics (evaluate, the GUI's curves) rank it after the\n"
                "  convention's sign step, as it is shown by default: ReLU for CAMs (Grad-CAM's Eq. 2), |map| for\n"
                "  gradient/smoothgrad, unchanged for signed maps; --raw-npy the method's full output (float32 [1,3,H,W] for\n"
                "  input attributions); --png an overlay on the original image with a colour bar.\n"
                "  display options: --colormap viridis|inferno|magma|turbo|jet|gray|diverging, --alpha A,\n"
                "  --sign signed|abs|relu, --clip P (percentile); each defaults to the method's convention.\n"
                "  --repeat N: median time of N runs.",
            {{"--weights", "--image", "--input-npy", "--max-pixels", "--method", "--target", "--npy", "--raw-npy",
              "--png", "--colormap", "--alpha", "--sign", "--clip", "--repeat"},
             {"--json"},
             1,
             1},
            runSaliency};
  for (const std::string& o : saliencyOptionNames()) c.options.values.insert(o);
  return c;
}

const CommandRegistrar kSaliency{saliencyCommand()};
}  // namespace

}  // namespace fs::app
