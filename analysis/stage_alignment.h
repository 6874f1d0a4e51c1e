#pragma once
// Stage alignment across architectures: each model names up to four taps that play the role of
// "Stage 1-4" (ClassifierImpl::stages()); N models become one table, row = stage, column = model,
// so feature maps can be shown side by side. Pure function of the models' tap lists.
#include "analysis/model_loader.h"

#include <optional>
#include <string>
#include <vector>

namespace fs::analysis {

struct StageRow {
  std::string label;                                  // "Stage 1", "Stage 2", ...
  std::vector<std::optional<fs::model::TapInfo>> taps;  // one per model; empty = padding
};

struct StageTable {
  std::vector<std::string> models;  // model ids, column order
  std::vector<StageRow> rows;       // as many as the deepest model has stages
  size_t stageCount(size_t model) const;  // stages that model actually has
};

// Models with fewer stages are padded with empty cells at the end of their column.
StageTable alignStages(const std::vector<const LoadedModel*>& models);
StageTable alignStages(const std::vector<LoadedModel>& models);

// The TapInfo of a named tap (InputError listing the valid taps if unknown).
fs::model::TapInfo findTap(const LoadedModel& model, const std::string& name);

}  // namespace fs::analysis
