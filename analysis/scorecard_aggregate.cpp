// A scorecard's means and tables from its records: the aggregate (means per method, sanity and
// random-logit similarities, scorecardStatistics) and the CSV tables beside the record file. One
// code path for a run (analysis/scorecard.cpp) and for merged shards (analysis/shard_merge.cpp).
#include "analysis/scorecard.h"

#include "analysis/evaluation/scorecard_statistics.h"
#include "analysis/json_text.h"
#include "model/atomic_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <filesystem>
#include <functional>
#include <utility>

namespace fs::analysis {
namespace fsys = std::filesystem;
using nlohmann::json;

namespace {

// The mean of each similarity over the records (null if any record has null).
void meanSimilarities(json& target, const std::vector<const json*>& entries, const std::string& method,
                      const std::function<const json&(const json&)>& pick) {
  for (const char* k : {"spearman", "spearman_abs", "ssim", "hog"}) {
    double sum = 0;
    bool defined = true;
    for (const json* e : entries) {
      const json& v = pick((*e)["methods"][method])[k];
      defined = defined && v.is_number();
      if (v.is_number()) sum += v.get<double>();
    }
    target[k] = defined ? json(sum / double(entries.size())) : json(nullptr);
  }
}

// The done records in image order.
std::vector<const json*> doneInOrder(std::vector<const json*> entries) {
  entries.erase(std::remove_if(entries.begin(), entries.end(),
                               [](const json* e) { return e->value("status", "") != "done"; }),
                entries.end());
  std::sort(entries.begin(), entries.end(),
            [](const json* a, const json* b) { return (*a)["index"].get<int64_t>() < (*b)["index"].get<int64_t>(); });
  return entries;
}

json aggregateJson(const json& header, std::vector<const json*> all) {
  const std::vector<const json*> entries = doneInOrder(std::move(all));
  const double n = double(entries.size());
  json methods = json::array();
  for (const auto& name : header["methods"]) {
    json j{{"method", name}};
    for (const auto& [key, out] : {std::pair<const char*, const char*>{"deletion_auc", "deletion_auc"},
                                   {"insertion_auc", "insertion_auc"}, {"drop", "average_drop"},
                                   {"increase", "increase_in_confidence"}}) {
      if (entries.empty() || !(*entries[0])["methods"][name.get<std::string>()].contains(key)) continue;
      double sum = 0;
      for (const json* e : entries) {
        const json& v = (*e)["methods"][name.get<std::string>()][key];
        sum += v.is_boolean() ? (v.get<bool>() ? 1.0 : 0.0) : v.get<double>();
      }
      j[out] = sum / n;
    }
    const std::string method = name.get<std::string>();
    if (!entries.empty() && (*entries[0])["methods"][method].contains("sanity")) {
      json steps = (*entries[0])["methods"][method]["sanity"];
      for (size_t i = 0; i < steps.size(); ++i)
        meanSimilarities(steps[i], entries, method, [i](const json& r) -> const json& { return r["sanity"][i]; });
      j["sanity"] = steps;
    }
    if (!entries.empty() && (*entries[0])["methods"][method].contains("random_logit")) {
      json rl = json::object();
      meanSimilarities(rl, entries, method, [](const json& r) -> const json& { return r["random_logit"]; });
      j["random_logit"] = rl;
    }
    methods.push_back(j);
  }
  return {{"images", entries.size()}, {"methods", methods},
          {"statistics", scorecardStatistics(header["methods"].get<std::vector<std::string>>(), entries,
                                             header["sanity_seed"].get<uint64_t>())}};
}

}  // namespace

std::vector<std::string> writeScorecardTables(const std::string& jsonPath, const std::vector<std::string>& methods,
                                              const std::map<std::string, std::string>& records,
                                              const std::string& aggregate) {
  std::vector<std::pair<std::string, json>> done;
  for (const auto& [name, entry] : records) {
    json e = json::parse(entry);
    if (e.value("status", "") == "done") done.emplace_back(json::parse(name).get<std::string>(), std::move(e));
  }
  std::sort(done.begin(), done.end(), [](const auto& a, const auto& b) {
    return a.second["index"].template get<int64_t>() < b.second["index"].template get<int64_t>();
  });
  std::vector<std::pair<std::string, const json*>> rows;
  for (const auto& [name, e] : done) rows.emplace_back(name, &e);
  const json statistics = json::parse(aggregate)["statistics"];
  const std::string stem = (fsys::path(jsonPath).parent_path() / fsys::path(jsonPath).stem()).string();
  const std::array<std::string, kScorecardTableSuffixes.size()> texts{
      scorecardRowsCsv(methods, rows), scorecardSummaryCsv(statistics), scorecardAgreementCsv(statistics)};
  std::vector<std::string> written;
  for (size_t i = 0; i < texts.size(); ++i) {
    fs::model::writeFileAtomically(stem + kScorecardTableSuffixes[i], texts[i]);
    written.push_back(stem + kScorecardTableSuffixes[i]);
  }
  return written;
}

std::string scorecardAggregate(const std::string& header, const std::vector<std::string>& entries) {
  const json h = json::parse(header);
  std::vector<json> parsed;
  for (const auto& e : entries) parsed.push_back(json::parse(e));
  std::vector<const json*> pointers;
  for (const auto& e : parsed) pointers.push_back(&e);
  return compactJson(aggregateJson(h, pointers));
}

}  // namespace fs::analysis
