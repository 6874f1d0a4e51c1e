#pragma once
// The statistics and tables of an evaluate scorecard, computed from its per-image records only (so
// a merged run gives the same numbers): per model x method and metric the mean over images with a
// percentile-bootstrap 95% CI (statistics.h; 1000 resamples seeded with the run's seed), the rank
// of each method per metric (1 = best, in the metric's own direction), and the agreement matrix:
// Kendall's tau-b between the method rankings of every pair of metrics. Used inside fs_analysis
// (scorecard.cpp, merge), JSON as nlohmann::json.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fs::analysis {

// Whether a larger value of a record's scalar `key` is better: deletion_auc, drop (no),
// insertion_auc, increase (yes), otherwise the registered metric's own direction.
bool recordKeyHigherIsBetter(const std::string& key);

// entries: the done records (objects with "methods": {method: {key: value}}) in image order;
// methods in report order. Returns {"metrics": [keys], "methods": {method: {key: {"n", "mean",
// "ci_low", "ci_high", "rank"}}}, "agreement": [[tau]] (keys x keys; null where fewer than two
// methods)}.
nlohmann::json scorecardStatistics(const std::vector<std::string>& methods,
                                   const std::vector<const nlohmann::json*>& entries, uint64_t seed);

// One CSV field (RFC 4180: quoted when it holds a comma, quote or newline) and a number with 10
// significant digits; for every table of the evaluation lab (here and analysis/sanity_cascade).
std::string csvField(const std::string& s);
std::string csvNumber(double v);
// csvNumber, or an empty field for a value that is not finite.
std::string csvNumberOrEmpty(double v);

// CSV tables (RFC 4180, numbers with 10 significant digits):
// per image rows "image,index,target,method,metric,value" (records: image name -> record, done ones);
std::string scorecardRowsCsv(const std::vector<std::string>& methods,
                             const std::vector<std::pair<std::string, const nlohmann::json*>>& records);
// "method,metric,n,mean,ci_low,ci_high,rank" and the agreement matrix "metric,<metrics...>".
std::string scorecardSummaryCsv(const nlohmann::json& statistics);
std::string scorecardAgreementCsv(const nlohmann::json& statistics);

}  // namespace fs::analysis
