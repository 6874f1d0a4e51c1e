// Max-sensitivity's re-explanations for the methods that read one gradient pass
// (analysis/saliency/gradient_pass.h), two ways on the same images: "own" explains each of the ten
// perturbed inputs with each method's compute() (one forward+backward per method and input), and
// "shared" takes every method's maps from one batched pass over the ten, made once per image, as a
// scorecard does. Per model: the median over ROUNDS (the two ways alternating) of the milliseconds
// per image for the methods together, and their ratio; the largest difference between the two
// ways' metric values, relative.
// usage: shared_pass [ROUNDS] [IMAGES] [METHODS (comma-separated)] [MODEL...]
#include "analysis/evaluation/robustness.h"
#include "analysis/evaluation/statistics.h"
#include "analysis/fashion_mnist.h"
#include "analysis/inference.h"
#include "analysis/model_loader.h"
#include "analysis/saliency/displayed_map.h"
#include "analysis/saliency/gradient_pass.h"
#include "analysis/saliency/saliency_method.h"
#include "analysis/scorecard_scoring.h"
#include "analysis/string_list.h"
#include "app/process_setup.h"
#include "model/threads.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace {
namespace fa = fs::analysis;
using Clock = std::chrono::steady_clock;

struct Timed {
  double seconds = 0;
  std::vector<double> values;  // max-sensitivity per image and method
};

Timed run(fa::LoadedModel& m, const std::vector<at::Tensor>& inputs, const std::vector<int>& targets,
          const std::vector<std::unique_ptr<fa::SaliencyMethod>>& methods, bool shared) {
  Timed t;
  const fa::scoring::PassPlan plan = fa::scoring::passPlan(m, methods, fa::SaliencyOptions{});  // as a scorecard's
  for (size_t i = 0; i < inputs.size(); ++i) {
    fa::GradientPassCache cache(plan.tap, plan.inputGradient);
    for (const auto& method : methods) {
      fa::SaliencyOptions o;
      o.target = targets[i];
      const fa::SignMode sign = method->convention().sign;
      const at::Tensor map = fa::displayedMap(method->compute(m, inputs[i], o).map2d, sign);
      const auto explain = [&](const at::Tensor& ys) {
        return shared ? fa::scoring::mapsFromPass(*method, cache.get(m, ys, targets[i]))
                      : fa::scoring::mapsByCompute(m, *method, o, ys);
      };
      fa::SensitivityOptions so;
      so.seed = i;
      const auto t0 = Clock::now();
      t.values.push_back(fa::maxSensitivity(explain, inputs[i], map, so));
      t.seconds += std::chrono::duration<double>(Clock::now() - t0).count();
    }
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  fs::app::ensureOpenMpWaitPolicy(argv);
  fs::app::keepFreedMemoryForReuse();
  fs::model::configureThreads(1);
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  const int images = argc > 2 ? std::max(1, std::atoi(argv[2])) : 8;
  const std::vector<std::string> methodNames = fa::splitList(argc > 3 ? argv[3] : "gradcam,layercam,gradient");
  std::vector<std::string> ids;
  for (int i = 4; i < argc; ++i) ids.push_back(argv[i]);
  if (ids.empty()) ids = {"convmlp_fmnist", "puremlp_fmnist", "resnet_fmnist", "mixer_fmnist", "resmlp_fmnist"};
  std::vector<std::unique_ptr<fa::SaliencyMethod>> methods;
  for (const std::string& name : methodNames) methods.push_back(fa::makeSaliencyMethod(name));
  const fa::ImageDataset data = fa::loadFashionMnist(fa::defaultFashionMnistDir(), false);
  std::printf("max-sensitivity of %s, %d images, one thread; ms per image, median of %d rounds (alternating)\n",
              argc > 3 ? argv[3] : "gradcam,layercam,gradient", images, rounds);
  std::printf("model | own | shared | shared / own | largest relative difference of the metric\n");
  for (const std::string& id : ids) {
    fa::LoadedModel m = fa::loadModel(id, "", 0);
    std::vector<at::Tensor> inputs;
    std::vector<int> targets;
    for (int i = 0; i < images; ++i) {
      inputs.push_back(fa::fashionMnistBatch(data.images.narrow(0, i, 1), m.config.input));
      targets.push_back(fa::predict(m, inputs.back(), 1).top.front().index);
    }
    run(m, inputs, targets, methods, true);  // warm-up
    std::vector<double> own, shared;
    double largest = 0;
    for (int r = 0; r < rounds; ++r) {
      const Timed a = run(m, inputs, targets, methods, false), b = run(m, inputs, targets, methods, true);
      own.push_back(1e3 * a.seconds / images), shared.push_back(1e3 * b.seconds / images);
      for (size_t k = 0; k < a.values.size(); ++k)
        largest = std::max(largest, std::abs(a.values[k] - b.values[k]) / std::max(std::abs(a.values[k]), 1e-12));
    }
    const double o = fa::median(own), s = fa::median(shared);
    std::printf("%s | %.1f | %.1f | %.2f | %.1e\n", id.c_str(), o, s, s / o, largest);
    std::fflush(stdout);
  }
  return 0;
}
