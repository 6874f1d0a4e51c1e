#include "analysis/evaluation/scorecard_statistics.h"

#include "analysis/evaluation/metric.h"
#include "analysis/evaluation/statistics.h"

#include <cmath>
#include <cstdio>
#include <map>

namespace fs::analysis {
using nlohmann::json;

std::string csvNumber(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string csvNumberOrEmpty(double v) { return std::isfinite(v) ? csvNumber(v) : std::string(); }

std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

namespace {

bool scalar(const json& v) { return v.is_number() || v.is_boolean(); }
double valueOf(const json& v) { return v.is_boolean() ? (v.get<bool>() ? 1.0 : 0.0) : v.get<double>(); }

}  // namespace

bool recordKeyHigherIsBetter(const std::string& key) {
  if (key == "deletion_auc" || key == "drop") return false;
  if (key == "insertion_auc" || key == "increase") return true;
  return makeMetric(key)->higherIsBetter();
}

json scorecardStatistics(const std::vector<std::string>& methods, const std::vector<const json*>& entries,
                         uint64_t seed) {
  std::vector<std::string> keys;
  if (!entries.empty() && !methods.empty())
    for (const auto& [key, v] : (*entries[0])["methods"][methods[0]].items())
      if (scalar(v)) keys.push_back(key);
  json out{{"metrics", keys}, {"methods", json::object()}};
  std::map<std::string, std::vector<double>> means;  // key -> per method
  for (const std::string& method : methods) {
    json per = json::object();
    for (const std::string& key : keys) {
      std::vector<double> values;
      for (const json* e : entries) values.push_back(valueOf((*e)["methods"][method][key]));
      const ConfidenceInterval ci = bootstrapMeanCi(values, seed);
      per[key] = {{"n", values.size()}, {"mean", ci.mean}, {"ci_low", ci.low}, {"ci_high", ci.high}};
      means[key].push_back(ci.mean);
    }
    out["methods"][method] = per;
  }
  std::map<std::string, std::vector<double>> ranks;
  for (const std::string& key : keys) {
    ranks[key] = rankScores(means[key], recordKeyHigherIsBetter(key));
    for (size_t i = 0; i < methods.size(); ++i) out["methods"][methods[i]][key]["rank"] = ranks[key][i];
  }
  json agreement = json::array();
  for (const std::string& a : keys) {
    json row = json::array();
    for (const std::string& b : keys) row.push_back(methods.size() < 2 ? json(nullptr) : json(kendallTau(ranks[a], ranks[b])));
    agreement.push_back(row);
  }
  out["agreement"] = agreement;
  return out;
}

std::string scorecardRowsCsv(const std::vector<std::string>& methods,
                             const std::vector<std::pair<std::string, const json*>>& records) {
  std::string csv = "image,index,target,method,metric,value\n";
  for (const auto& [image, e] : records)
    for (const std::string& method : methods)
      for (const auto& [key, v] : (*e)["methods"][method].items())
        if (scalar(v))
          csv += csvField(image) + "," + std::to_string((*e)["index"].get<int64_t>()) + "," +
                 std::to_string((*e)["target"].get<int64_t>()) + "," + csvField(method) + "," + key + "," +
                 csvNumber(valueOf(v)) + "\n";
  return csv;
}

std::string scorecardSummaryCsv(const json& statistics) {
  std::string csv = "method,metric,n,mean,ci_low,ci_high,rank\n";
  for (const auto& [method, per] : statistics["methods"].items())
    for (const auto& key : statistics["metrics"]) {
      const json& s = per[key.get<std::string>()];
      const auto num = [&](const char* k) {
        return s[k].is_number() ? csvNumber(s[k].get<double>()) : std::string("nan");
      };
      csv += csvField(method) + "," + key.get<std::string>() + "," + std::to_string(s["n"].get<int64_t>()) + "," +
             num("mean") + "," + num("ci_low") + "," + num("ci_high") + "," + num("rank") + "\n";
    }
  return csv;
}

std::string scorecardAgreementCsv(const json& statistics) {
  const json& keys = statistics["metrics"];
  std::string csv = "metric";
  for (const auto& k : keys) csv += "," + k.get<std::string>();
  csv += "\n";
  for (size_t i = 0; i < keys.size(); ++i) {
    csv += keys[i].get<std::string>();
    for (const auto& v : statistics["agreement"][i])
      csv += "," + (v.is_number() ? csvNumber(v.get<double>()) : std::string(""));
    csv += "\n";
  }
  return csv;
}

}  // namespace fs::analysis
