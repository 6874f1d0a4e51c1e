// The Evaluate view's scorecard with one worker and with two (each a shard of the images with its
// own copy of the model and half the intra-op threads; service/evaluation_service.h), rounds
// alternating between the two so that both see the same machine: per model the median seconds per
// image of each and their ratio, after checking that both gave the same numbers. The workload is
// the goal: gradcam, layercam, gradient, integrated gradients (32 steps) and occlusion
// with every faithfulness, localisation and complexity metric on the Fashion-MNIST test set.
// usage: evaluate_workers [IMAGES] [ROUNDS] [MODEL...]
#include "analysis/evaluation/statistics.h"
#include "app/process_setup.h"
#include "model/threads.h"
#include "service/evaluation_service.h"
#include "service/session.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using fs::analysis::median;  // numpy.median's convention

bool sameMeans(const fs::service::ModelScorecard& a, const fs::service::ModelScorecard& b) {
  if (a.stats.size() != b.stats.size()) return false;
  for (size_t m = 0; m < a.stats.size(); ++m)
    for (size_t k = 0; k < a.stats[m].size(); ++k) {
      const double x = a.stats[m][k].mean, y = b.stats[m][k].mean;
      if (!(x == y || (std::isnan(x) && std::isnan(y)))) return false;
    }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  fs::app::ensureOpenMpWaitPolicy(argv);  // as both programs do
  fs::app::keepFreedMemoryForReuse();
  const fs::model::ThreadConfig threads = fs::model::configureThreads(0);  // as the desktop app does
  const int images = argc > 1 ? std::max(2, std::atoi(argv[1])) : 16;
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
  std::vector<std::string> ids;
  for (int i = 3; i < argc; ++i) ids.push_back(argv[i]);
  if (ids.empty()) ids = {"convmlp_fmnist", "puremlp_fmnist", "resnet_fmnist", "mixer_fmnist", "resmlp_fmnist"};

  fs::service::Session session;
  fs::service::EvaluationRequest r;
  r.methods = {"gradcam", "layercam", "gradient", "integrated_gradients", "occlusion"};
  r.metrics = {"deletion", "insertion", "drop", "road_morf", "road_lerf", "infidelity", "max_sensitivity",
               "pointing_game", "energy_pointing_game", "relevance_mass", "relevance_rank", "topk_iou", "gini", "entropy"};
  r.parameters.steps = 32;
  r.limit = images;
  std::printf("%d intra-op threads, %d images, %d rounds\n", threads.intraOp, images, rounds);
  std::printf("model | one worker, s / image | two workers, s / image | one / two   (medians)\n");
  for (const std::string& id : ids) {
    session.slots().load(0, id, "");
    r.slots = {0};
    std::vector<double> one, two;
    fs::service::EvaluationResult first[2];
    for (int round = 0; round < rounds; ++round)
      for (int workers : {1, 2}) {
        r.workers = workers;
        const auto t0 = std::chrono::steady_clock::now();
        fs::service::EvaluationResult res = session.evaluation().run(r);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / images;
        (workers == 1 ? one : two).push_back(s);
        if (round == 0) first[workers - 1] = std::move(res);
      }
    if (!sameMeans(first[0].models.at(0), first[1].models.at(0))) {
      std::fprintf(stderr, "evaluate_workers: %s: the two scorecards differ\n", id.c_str());
      return 1;
    }
    std::printf("%s | %.3f | %.3f | %.2f\n", id.c_str(), median(one), median(two), median(one) / median(two));
    std::fflush(stdout);
  }
  return 0;
}
