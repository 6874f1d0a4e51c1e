#include "service/model_slots.h"

#include "model/registry.h"
#include "service/slot_store.h"

namespace fs::service {

SlotInfo ModelSlots::load(int slot, const std::string& idOrConfig, const std::string& weightsPath, uint64_t seed) {
  if (slot < 0 || slot >= kMaxSlots)
    throw fs::model::InputError("model slot " + std::to_string(slot + 1) + " does not exist (1-" +
                                std::to_string(kMaxSlots) + ")");
  fs::analysis::LoadedModel m = fs::analysis::loadModel(idOrConfig, weightsPath, seed);  // throws: the old slot stays
  SlotInfo info;
  info.slot = slot;
  info.modelId = m.config.id;
  info.family = m.config.family;
  info.source = idOrConfig;
  info.weightsPath = m.weightsPath;
  info.randomInit = m.weightsPath.empty();
  info.parameters = m.net->parameterCount();
  info.inputWidth = m.config.input.width;
  info.inputHeight = m.config.input.height;
  for (const auto& t : m.net->taps()) info.taps.push_back({t.name, t.channels, t.height, t.width, t.stride});
  info.stages = m.net->stages();
  info.labels = m.labels;
  info.attentionUnits = m.net->attentionUnits();
  info.prefixTokens = m.net->prefixTokens();
  info.report = info.randomInit ? m.weightsReport + " - no trained weights, predictions are meaningless"
                                : m.weightsReport;
  store_.put(slot, SlotStore::Slot{std::move(m), info, {}, {}, {}, {}});
  return info;
}

void ModelSlots::clear(int slot) { store_.clear(slot); }

std::vector<std::string> ModelSlots::registeredIds() {
  std::vector<std::string> ids;
  for (const auto& v : fs::model::registeredVariants()) ids.push_back(v.config.id);
  return ids;
}

std::string ModelSlots::describeVariant(const std::string& id) {
  const auto* v = fs::model::findVariant(id);
  return v ? v->description : std::string();
}

}  // namespace fs::service
