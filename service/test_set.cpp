#include "service/test_set.h"

#include "analysis/trainer.h"
#include "model/errors.h"
#include "service/slot_store.h"

#include <mutex>

namespace fs::service {

const fs::analysis::ImageDataset& fashionMnistTestSet() {
  static std::mutex mutex;
  static std::optional<fs::analysis::ImageDataset> data;
  std::lock_guard<std::mutex> lock(mutex);
  if (!data) data = fs::analysis::loadFashionMnist(fs::analysis::defaultFashionMnistDir(), /*train=*/false);
  return *data;
}

TestSetReport TestSetService::evaluate(int slot, int limit) {
  SlotStore::Slot& s = store_.slot(slot);
  if (s.model.config.numClasses != 10 || s.info.labels.size() != 10)
    throw fs::model::InputError(s.info.modelId + " is not a Fashion-MNIST model (it has " +
                                std::to_string(s.model.config.numClasses) + " classes, not 10)");
  const fs::analysis::ImageDataset& data = fashionMnistTestSet();
  const fs::analysis::EvalResult r = fs::analysis::evaluateDataset(*s.model.net, s.model.config, data, limit);
  TestSetReport out;
  out.slot = slot;
  out.modelId = s.info.modelId;
  out.images = static_cast<int>(r.predictions.numel());
  out.accuracy = r.accuracy;
  out.classes = s.info.labels;
  for (int64_t i : r.misclassified) {
    out.indices.push_back(static_cast<int>(i));
    out.truth.push_back(static_cast<int>(data.labels[i].item<int64_t>()));
    out.predicted.push_back(static_cast<int>(r.predictions[i].item<int64_t>()));
  }
  return out;
}

}  // namespace fs::service
