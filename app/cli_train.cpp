// train: trains a registered model on Fashion-MNIST and writes safetensors with its metadata.
// evaluateDataset: the `evaluate MODEL --dataset fashion-mnist` mode (accuracy, confusion matrix).
#include "analysis/fashion_mnist.h"
#include "analysis/model_loader.h"
#include "analysis/trainer.h"
#include "app/cli_commands.h"
#include "model/atomic_file.h"
#include "model/errors.h"
#include "model/registry.h"
#include "model/safetensors.h"
#include "model/threads.h"

#include <nlohmann/json.hpp>

#include <csignal>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>

namespace fs::app {
namespace {
namespace fa = fs::analysis;
using fs::model::UsageError;

std::atomic<bool> gStop{false};
void onSignal(int) { gStop = true; }

std::string dataDir(const Args& a) {
  if (a.value("--dataset", "fashion-mnist") != "fashion-mnist")
    throw UsageError("--dataset: only 'fashion-mnist' is supported");
  return a.value("--data-dir", fa::defaultFashionMnistDir());
}

std::string today() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&t));
  return buf;
}

// What --permute-labels did, for the file's metadata: the seed, the images it covers, how, and the
// fraction of images whose label it left unchanged (about 1/10 for ten balanced classes).
std::map<std::string, std::string> permutationMetadata(const fa::ImageDataset& train, const fa::TrainOptions& o) {
  const int64_t n = o.trainLimit < 0 ? train.labels.size(0) : std::min<int64_t>(o.trainLimit, train.labels.size(0));
  const at::Tensor truth = train.labels.slice(0, 0, n);
  const double same = n ? (truth.index_select(0, fa::labelPermutation(n, o.seed)) == truth).sum().item<double>() / double(n) : 0.0;
  return {{"permute_labels", "true"}, {"label_permutation_seed", std::to_string(o.seed)},
          {"label_permutation_images", std::to_string(n)},
          {"label_permutation", "data randomisation (Adebayo et al. 2018, sec. 3.2): the labels of the first " +
                                    std::to_string(n) + " training images permuted among them (Fisher-Yates, "
                                    "mt19937_64 seeded with label_permutation_seed); test_accuracy is against the true test labels"},
          {"label_permutation_unchanged_fraction", std::to_string(same)}};
}

void saveTrained(const std::string& out, fs::model::ClassifierImpl& net, const fs::model::ModelConfig& c,
                 const fa::TrainOptions& o, const fa::TrainResult& r,
                 const std::map<std::string, std::string>& permutationMetadata) {
  fs::model::TensorDict dict;
  for (const auto& p : net.named_parameters(true)) dict.tensors.emplace_back(p.key(), p.value().detach());
  for (const auto& b : net.named_buffers(true)) dict.tensors.emplace_back(b.key(), b.value().detach());
  dict.metadata = {{"config", fs::model::modelConfigToJson(c)}, {"epochs", std::to_string(o.epochs)},
                   {"lr", std::to_string(o.lr)}, {"batch", std::to_string(o.batchSize)},
                   {"seed", std::to_string(o.seed)}, {"steps", std::to_string(r.steps)},
                   {"test_accuracy", std::to_string(r.test.accuracy)},
                   {"training_seconds", std::to_string(int(r.seconds))}, {"date", today()},
                   {"dataset", "fashion-mnist (Debian dataset-fashion-mnist)"},
                   {"featurescope_version", FS_VERSION}, {"threads", std::to_string(fs::model::currentThreads().intraOp)}};
  if (o.permuteLabels) dict.metadata.insert(permutationMetadata.begin(), permutationMetadata.end());
  fs::model::writeSafetensors(out, dict);
}

int runTrain(const Args& a) {
  if (!a.has("--out")) throw UsageError("train: --out F.safetensors is required");
  fs::model::createFoldersFor(a.value("--out"));  // before the first epoch: F.resume goes there too
  fa::TrainOptions o;
  o.epochs = a.intValue("--epochs", 5, 1, 1000);
  o.batchSize = a.intValue("--batch", 64, 1, 4096);
  o.lr = a.doubleValue("--lr", 2e-3, 1e-7, 1.0);
  o.seed = static_cast<uint64_t>(a.intValue("--seed", 0, 0, 2147483647));
  o.maxSteps = a.intValue("--max-steps", -1, -1, 1 << 30);
  o.trainLimit = a.intValue("--train-limit", -1, -1, 1 << 30);
  o.permuteLabels = a.has("--permute-labels");
  o.checkpointPath = a.value("--out") + ".resume";
  const std::string dir = dataDir(a);
  const fs::model::ModelConfig c = fs::model::resolveModelConfig(a.positional[0]);
  if (c.numClasses != 10) throw fs::model::InputError(c.id + ": Fashion-MNIST needs a 10-class model");
  fs::model::Classifier net = fs::model::buildModel(c, o.seed);
  const fa::ImageDataset train = fa::loadFashionMnist(dir, true), test = fa::loadFashionMnist(dir, false);
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  const fa::TrainResult r = fa::trainClassifier(*net, c, train, test, o, [](const fa::TrainProgress& p) {
    std::cerr << "\repoch " << p.epoch << "  step " << p.step << "/" << p.totalSteps << "  loss " << std::fixed
              << std::setprecision(4) << p.loss << "  acc " << std::setprecision(3) << p.accuracy << "  lr "
              << std::scientific << std::setprecision(2) << p.lr << std::defaultfloat << std::flush;
  }, &gStop);
  std::cerr << "\n";
  if (r.resumedAtStep > 0) std::cerr << "train: continued from " << o.checkpointPath << " at step " << r.resumedAtStep << "\n";
  if (r.stopped) {
    std::cerr << "train: interrupted after " << r.steps << " steps; " << a.value("--out") << " not written"
              << (std::filesystem::exists(o.checkpointPath)
                      ? "; the same command continues from the last epoch's checkpoint " + o.checkpointPath
                      : std::string())
              << "\n";
    return 130;
  }
  saveTrained(a.value("--out"), *net, c, o, r, o.permuteLabels ? permutationMetadata(train, o) : std::map<std::string, std::string>{});
  std::filesystem::remove(o.checkpointPath);
  std::cout << c.id << ": test accuracy " << std::fixed << std::setprecision(4) << r.test.accuracy << " after "
            << r.steps << " steps in " << std::setprecision(0) << r.seconds << " s; wrote " << a.value("--out") << "\n";
  return 0;
}

const CommandRegistrar kTrain{
    {"train",
     "train MODEL --dataset fashion-mnist --epochs N --out F.safetensors [--batch N] [--lr X] [--seed N]"
     " [--max-steps N] [--train-limit N] [--data-dir D]\n  [--permute-labels]\n  Trains a 10-class model on Fashion-MNIST (AdamW, cosine"
     " schedule); Ctrl-C stops without writing F.\n  Resumable: after every epoch the state goes to F.resume"
     " (atomically); after a kill the same command\n  continues from there to the same weights; F.resume is removed"
     " when F is written.\n  --permute-labels: data randomisation (Adebayo et al. 2018, sec. 3.2): the training labels are permuted\n"
     "  among the images (seeded by --seed); F's metadata records permute_labels, the seed and the images it\n"
     "  covers; compare its maps with the trained model's by `sanity MODEL --data-randomised F`.",
     {{"--dataset", "--epochs", "--out", "--batch", "--lr", "--max-steps", "--train-limit", "--data-dir"},
      {"--permute-labels"}, 1, 1},
     runTrain}};
}  // namespace

int runEvaluateDataset(const Args& a) {
  const std::string dir = dataDir(a);
  fa::LoadedModel m = fa::loadModel(a.positional[0], a.value("--weights"), 0);
  const fa::ImageDataset test = fa::loadFashionMnist(dir, false);
  const fa::EvalResult r = fa::evaluateDataset(*m.net, m.config, test, a.intValue("--limit", -1, -1, 1 << 30));
  const at::Tensor conf = r.confusion;
  if (a.has("--json")) {
    nlohmann::json rows = nlohmann::json::array();
    for (int64_t i = 0; i < conf.size(0); ++i) {
      std::vector<int64_t> row(conf[i].data_ptr<int64_t>(), conf[i].data_ptr<int64_t>() + conf.size(1));
      rows.push_back(row);
    }
    std::cout << nlohmann::json{{"model", m.config.id}, {"weights", m.weightsPath}, {"images", r.predictions.size(0)},
                                {"accuracy", r.accuracy}, {"labels", m.labels}, {"confusion", rows},
                                {"misclassified", r.misclassified}}.dump() << "\n";
    return 0;
  }
  std::cout << m.config.id << " on " << r.predictions.size(0) << " Fashion-MNIST test images: accuracy "
            << std::fixed << std::setprecision(4) << r.accuracy << " (" << r.misclassified.size()
            << " misclassified)\nconfusion (rows = true class):\n";
  for (int64_t i = 0; i < conf.size(0); ++i) {
    std::cout << std::setw(12) << m.labels[i];
    for (int64_t j = 0; j < conf.size(1); ++j) std::cout << std::setw(6) << conf[i][j].item<int64_t>();
    std::cout << "\n";
  }
  return 0;
}

}  // namespace fs::app
