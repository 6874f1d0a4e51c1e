#include "analysis/trainer.h"

#include "analysis/batch_budget.h"
#include "model/errors.h"
#include "model/safetensors.h"
#include "model/tensor_dict.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim/adamw.h>

#include <filesystem>
#include <map>
#include <mutex>

#include <chrono>
#include <random>
#include <cmath>
#include <cstdlib>

namespace fs::analysis {
namespace {
constexpr double kPi = 3.14159265358979323846;

// Random shifts of up to 2 pixels (zero padding) and horizontal flips, per image.
at::Tensor augment(const at::Tensor& images) {
  const int64_t b = images.size(0);
  at::Tensor padded = at::constant_pad_nd(images, {2, 2, 2, 2}, 0);
  at::Tensor out = at::empty_like(images);
  const at::Tensor offsets = at::randint(0, 5, {b, 2}, at::kLong);
  const at::Tensor flips = at::rand({b}) < 0.5;
  for (int64_t i = 0; i < b; ++i) {
    const int64_t dy = offsets[i][0].item<int64_t>(), dx = offsets[i][1].item<int64_t>();
    at::Tensor crop = padded[i].slice(0, dy, dy + 28).slice(1, dx, dx + 28);
    out[i].copy_(flips[i].item<bool>() ? crop.flip({1}) : crop);
  }
  return out;
}

double scheduledLr(const TrainOptions& o, int64_t step, int64_t total) {
  if (step < o.warmupSteps) return o.lr * double(step + 1) / o.warmupSteps;
  const double t = double(step - o.warmupSteps) / std::max<int64_t>(1, total - o.warmupSteps);
  return o.lr * 0.5 * (1.0 + std::cos(kPi * std::min(1.0, t)));
}

void setLr(torch::optim::AdamW& opt, double lr) {
  for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
}
}  // namespace

at::Tensor labelPermutation(int64_t n, uint64_t seed) {
  if (n < 0) throw fs::model::InputError("label permutation: negative size");
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[size_t(i)] = i;
  std::mt19937_64 gen(seed);
  for (int64_t i = n - 1; i > 0; --i) {
    const uint64_t range = uint64_t(i) + 1, limit = UINT64_MAX - UINT64_MAX % range;
    uint64_t r = gen();
    while (r >= limit) r = gen();
    std::swap(p[size_t(i)], p[size_t(r % range)]);
  }
  return at::tensor(p, at::kLong);
}

EvalResult evaluateDataset(fs::model::ClassifierImpl& net, const fs::model::ModelConfig& config,
                           const ImageDataset& data, int64_t limit) {
  c10::InferenceMode guard;
  const int64_t n = limit < 0 ? data.images.size(0) : std::min<int64_t>(limit, data.images.size(0));
  EvalResult r;
  r.confusion = at::zeros({config.numClasses, config.numClasses}, at::kLong);
  std::vector<at::Tensor> preds;
  const int64_t batch = inferenceBatchSize(net, config, config.input.height, config.input.width);
  for (int64_t i = 0; i < n; i += batch) {
    const int64_t e = std::min<int64_t>(n, i + batch);
    at::Tensor x = fashionMnistBatch(data.images.slice(0, i, e), config.input);
    preds.push_back(net.forward(x, {}).logits.argmax(1));
  }
  r.predictions = n ? at::cat(preds) : at::empty({0}, at::kLong);
  const at::Tensor truth = data.labels.slice(0, 0, n);
  r.confusion.view(-1).index_add_(0, truth * config.numClasses + r.predictions, at::ones({n}, at::kLong));
  const at::Tensor wrong = (r.predictions != truth).nonzero().view(-1);
  r.misclassified.assign(wrong.data_ptr<int64_t>(), wrong.data_ptr<int64_t>() + wrong.numel());
  r.accuracy = n ? 1.0 - double(wrong.numel()) / double(n) : 0.0;
  return r;
}

namespace {

// What must match for a checkpoint to continue this run.
std::string runIdentity(const fs::model::ModelConfig& config, const TrainOptions& o) {
  return fs::model::modelConfigToJson(config) + "|epochs=" + std::to_string(o.epochs) + "|batch=" +
         std::to_string(o.batchSize) + "|lr=" + std::to_string(o.lr) + "|wd=" + std::to_string(o.weightDecay) +
         "|ls=" + std::to_string(o.labelSmoothing) + "|warmup=" + std::to_string(o.warmupSteps) + "|seed=" +
         std::to_string(o.seed) + "|max_steps=" + std::to_string(o.maxSteps) + "|train_limit=" +
         std::to_string(o.trainLimit) + "|augment=" + std::to_string(o.augment) +
         (o.permuteLabels ? "|permute_labels=1" : "");
}

std::string stateKey(const at::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); }

void writeCheckpoint(const std::string& path, fs::model::ClassifierImpl& net, torch::optim::AdamW& opt,
                     const std::string& identity, int64_t step) {
  fs::model::TensorDict dict;
  for (const auto& p : net.named_parameters(true)) dict.tensors.emplace_back("model." + p.key(), p.value().detach());
  for (const auto& b : net.named_buffers(true)) dict.tensors.emplace_back("model." + b.key(), b.value().detach());
  int64_t index = 0;
  for (const auto& p : net.parameters()) {
    const auto it = opt.state().find(stateKey(p));
    if (it != opt.state().end()) {
      const auto& s = static_cast<const torch::optim::AdamWParamState&>(*it->second);
      dict.tensors.emplace_back("adamw." + std::to_string(index) + ".exp_avg", s.exp_avg());
      dict.tensors.emplace_back("adamw." + std::to_string(index) + ".exp_avg_sq", s.exp_avg_sq());
    }
    ++index;
  }
  at::Tensor rng;
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    rng = gen.get_state();
  }
  dict.tensors.emplace_back("rng", rng.to(at::kLong));
  dict.metadata = {{"run", identity}, {"step", std::to_string(step)}};
  fs::model::writeSafetensors(path, dict);  // atomic: a kill leaves the previous checkpoint
}

// Restores weights, AdamW moments and the generator; returns the step to continue from.
int64_t readCheckpoint(const std::string& path, fs::model::ClassifierImpl& net, torch::optim::AdamW& opt,
                       const std::string& identity) {
  const fs::model::TensorDict dict = fs::model::readSafetensors(path);
  const auto meta = [&](const std::string& key) {
    for (const auto& [k, v] : dict.metadata)
      if (k == key) return v;
    throw fs::model::InputError(path + ": not a training checkpoint (no '" + key + "')");
  };
  if (meta("run") != identity)
    throw fs::model::InputError(path + ": a checkpoint of another training run (other model or options); remove it "
                                "to start afresh");
  std::map<std::string, at::Tensor> t;
  for (const auto& [name, tensor] : dict.tensors) t[name] = tensor;
  const auto get = [&](const std::string& name) {
    const auto it = t.find(name);
    if (it == t.end()) throw fs::model::InputError(path + ": checkpoint lacks '" + name + "'");
    return it->second;
  };
  const std::string stepText = meta("step");
  char* end = nullptr;
  const long long step = std::strtoll(stepText.c_str(), &end, 10);
  if (stepText.empty() || *end != '\0' || step < 0)
    throw fs::model::InputError(path + ": not a training checkpoint (step '" + stepText + "' is not a count)");
  torch::NoGradGuard noGrad;
  for (auto& p : net.named_parameters(true)) p.value().copy_(get("model." + p.key()));
  for (auto& b : net.named_buffers(true)) b.value().copy_(get("model." + b.key()));
  int64_t index = 0;
  for (const auto& p : net.parameters()) {
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    s->step(step);
    s->exp_avg(get("adamw." + std::to_string(index) + ".exp_avg").clone());
    s->exp_avg_sq(get("adamw." + std::to_string(index) + ".exp_avg_sq").clone());
    opt.state()[stateKey(p)] = std::move(s);
    ++index;
  }
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(get("rng").to(at::kByte));
  return step;
}

// How much of the training set one run uses: n images, perEpoch steps per epoch, total steps.
struct TrainerPlan {
  int64_t n = 0, perEpoch = 0, total = 0;
};

// The running sums of one report interval: loss, correct predictions, images seen.
struct TrainerInterval {
  double lossSum = 0, correct = 0, seen = 0;
};

// What every step of one run uses: the network, its optimiser, the data, the options and the plan.
struct TrainerRun {
  fs::model::ClassifierImpl& net;
  const fs::model::ModelConfig& config;
  torch::optim::AdamW& opt;
  const ImageDataset& train;
  const at::Tensor& labels;
  const TrainOptions& o;
  const TrainerPlan& plan;
};

// Seeds the global generator and puts the network in training mode with gradients on.
void beginTrainerRun(fs::model::ClassifierImpl& net, const TrainOptions& o) {
  at::manual_seed(o.seed);
  net.invalidateInferenceCache();
  for (auto& p : net.parameters()) p.requires_grad_(true);
  net.train();
}

// The first trainLimit training images (all if < 0), whole batches per epoch, steps capped by maxSteps.
TrainerPlan planTrainerRun(const TrainOptions& o, const ImageDataset& train) {
  TrainerPlan plan;
  plan.n = o.trainLimit < 0 ? train.images.size(0) : std::min<int64_t>(o.trainLimit, train.images.size(0));
  plan.perEpoch = plan.n / o.batchSize;
  plan.total = plan.perEpoch * o.epochs;
  if (o.maxSteps >= 0) plan.total = std::min(plan.total, o.maxSteps);
  return plan;
}

// The labels trained on: with permuteLabels the first n permuted among themselves, else the dataset's.
at::Tensor trainerLabels(const TrainOptions& o, const ImageDataset& train, int64_t n) {
  return o.permuteLabels ? train.labels.slice(0, 0, n).index_select(0, labelPermutation(n, o.seed)) : train.labels;
}

// One AdamW step on the images idx (label-smoothed cross-entropy, scheduled lr kept in p.lr); adds to the sums.
void trainerStep(const TrainerRun& run, const at::Tensor& idx, int64_t step, TrainProgress& p, TrainerInterval& sums) {
  at::Tensor images = run.train.images.index_select(0, idx);
  if (run.o.augment) images = augment(images);
  const at::Tensor y = run.labels.index_select(0, idx);
  setLr(run.opt, p.lr = scheduledLr(run.o, step, run.plan.total));
  at::Tensor logits = run.net.forward(fashionMnistBatch(images, run.config.input), {}).logits;
  at::Tensor loss = at::cross_entropy_loss(logits, y, {}, at::Reduction::Mean, -100, run.o.labelSmoothing);
  run.opt.zero_grad();
  loss.backward();
  run.opt.step();
  sums.lossSum += loss.item<double>(), sums.seen += double(y.size(0));
  sums.correct += (logits.argmax(1) == y).sum().item<double>();
}

// Every 50 steps and after the last: the interval's averages to p, r and the callback, then new sums.
void reportTrainerInterval(int64_t step, int64_t total, TrainerInterval& sums, TrainProgress& p, TrainResult& r,
                           const std::function<void(const TrainProgress&)>& progress) {
  if ((step + 1) % 50 == 0 || step + 1 == total) {
    p.step = step + 1, p.loss = sums.lossSum / ((step % 50) + 1), p.accuracy = sums.correct / sums.seen;
    if (r.firstLoss == 0) r.firstLoss = p.loss;
    r.lastLoss = p.loss;
    if (progress) progress(p);
    sums.lossSum = sums.correct = sums.seen = 0;
  }
}

// Back to inference: evaluation mode, gradients off, caches rebuilt; the test set unless stopped.
void finishTrainerRun(fs::model::ClassifierImpl& net, const fs::model::ModelConfig& config, const ImageDataset& test,
                      TrainResult& r) {
  net.eval();
  for (auto& q : net.parameters()) q.requires_grad_(false);
  net.prepareForInference();
  if (!r.stopped) r.test = evaluateDataset(net, config, test);
}

}  // namespace

TrainResult trainClassifier(fs::model::ClassifierImpl& net, const fs::model::ModelConfig& config,
                            const ImageDataset& train, const ImageDataset& test, const TrainOptions& o,
                            const std::function<void(const TrainProgress&)>& progress,
                            const std::atomic<bool>* stop) {
  const auto t0 = std::chrono::steady_clock::now();
  beginTrainerRun(net, o);
  torch::optim::AdamW opt(net.parameters(), torch::optim::AdamWOptions(o.lr).weight_decay(o.weightDecay));
  const TrainerPlan plan = planTrainerRun(o, train);
  TrainResult r;
  TrainProgress p;
  p.totalSteps = plan.total;
  TrainerInterval sums;
  at::Tensor order;
  const at::Tensor labels = trainerLabels(o, train, plan.n);
  const TrainerRun run{net, config, opt, train, labels, o, plan};
  const std::string identity = runIdentity(config, o);
  int64_t first = 0;
  if (!o.checkpointPath.empty() && std::filesystem::exists(o.checkpointPath))
    first = r.resumedAtStep = readCheckpoint(o.checkpointPath, net, opt, identity);
  for (int64_t step = first; step < plan.total && !(stop && *stop); ++step) {
    if (step % plan.perEpoch == 0) p.epoch = int(step / plan.perEpoch) + 1;
    if (step % plan.perEpoch == 0) order = at::randperm(plan.n, at::kLong);
    const at::Tensor idx =
        order.slice(0, (step % plan.perEpoch) * o.batchSize, (step % plan.perEpoch + 1) * o.batchSize);
    trainerStep(run, idx, step, p, sums);
    reportTrainerInterval(step, plan.total, sums, p, r, progress);
    r.steps = step + 1;
    if (!o.checkpointPath.empty() && (step + 1) % plan.perEpoch == 0 && step + 1 < plan.total && !(stop && *stop))
      writeCheckpoint(o.checkpointPath, net, opt, identity, step + 1);
  }
  r.stopped = stop && *stop;
  finishTrainerRun(net, config, test, r);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace fs::analysis
