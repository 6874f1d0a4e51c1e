#include "analysis/stage_alignment.h"

#include "model/errors.h"

namespace fs::analysis {

size_t StageTable::stageCount(size_t model) const {
  size_t n = 0;
  for (const auto& row : rows)
    if (model < row.taps.size() && row.taps[model]) ++n;
  return n;
}

fs::model::TapInfo findTap(const LoadedModel& model, const std::string& name) {
  const auto taps = model.net->taps();
  std::string valid;
  for (const auto& t : taps) {
    if (t.name == name) return t;
    valid += (valid.empty() ? "" : ", ") + t.name;
  }
  throw fs::model::InputError("unknown tap '" + name + "' for " + model.config.id + " (valid: " + valid + ")");
}

StageTable alignStages(const std::vector<const LoadedModel*>& models) {
  StageTable table;
  std::vector<std::vector<std::string>> stages;
  size_t depth = 0;
  for (const LoadedModel* m : models) {
    table.models.push_back(m->config.id);
    stages.push_back(m->net->stages());
    depth = std::max(depth, stages.back().size());
  }
  for (size_t s = 0; s < depth; ++s) {
    StageRow row;
    row.label = "Stage " + std::to_string(s + 1);
    for (size_t i = 0; i < models.size(); ++i) {
      if (s < stages[i].size()) row.taps.emplace_back(findTap(*models[i], stages[i][s]));
      else row.taps.emplace_back(std::nullopt);
    }
    table.rows.push_back(std::move(row));
  }
  return table;
}

StageTable alignStages(const std::vector<LoadedModel>& models) {
  std::vector<const LoadedModel*> ptrs;
  for (const auto& m : models) ptrs.push_back(&m);
  return alignStages(ptrs);
}

}  // namespace fs::analysis
