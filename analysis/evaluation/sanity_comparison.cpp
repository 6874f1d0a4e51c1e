// Means, CIs and tables of the random-logit test and data randomisation over images.
#include "analysis/evaluation/sanity_comparison.h"

#include "analysis/evaluation/scorecard_statistics.h"

#include <cmath>

namespace fs::analysis {
namespace {

nlohmann::json jsonNumber(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

ComparisonSummary comparisonSummary(const MapComparison& c, size_t method, const std::string& key, uint64_t seed) {
  std::vector<double> values;
  for (const auto& image : c.scores) {
    const double v = similarityValue(image.at(method), key);
    if (std::isfinite(v)) values.push_back(v);
  }
  ComparisonSummary s;
  s.n = static_cast<int>(values.size());
  s.ci = bootstrapMeanCi(values, seed);
  return s;
}

nlohmann::json comparisonSummaryJson(const SanityCascade& c, const MapComparison& cmp, uint64_t seed) {
  nlohmann::json out = nlohmann::json::object();
  for (size_t m = 0; m < c.methods.size(); ++m) {
    nlohmann::json per = nlohmann::json::object();
    for (const std::string& key : similarityKeys()) {
      const ComparisonSummary s = comparisonSummary(cmp, m, key, seed);
      per[key] = {{"mean", jsonNumber(s.ci.mean)}, {"ci_low", jsonNumber(s.ci.low)},
                  {"ci_high", jsonNumber(s.ci.high)}, {"n", s.n}};
    }
    out[c.methods[m]] = per;
  }
  return out;
}

std::string comparisonRowsCsv(const SanityCascade& c, const MapComparison& cmp, bool randomLogit) {
  std::string csv = "image,method,target,compared_with,spearman,spearman_abs,ssim,hog\n";
  for (size_t i = 0; i < cmp.scores.size(); ++i)
    for (size_t m = 0; m < c.methods.size(); ++m) {
      const SimilarityScores& s = cmp.scores[i][m];
      csv += csvField(c.images[i]) + "," + csvField(c.methods[m]) + "," + std::to_string(c.targets[i]) + "," +
             (randomLogit ? "class " + std::to_string(c.otherClasses[i]) : std::string("permuted-label model")) + "," +
             csvNumberOrEmpty(s.spearman) + "," + csvNumberOrEmpty(s.spearmanAbs) + "," + csvNumberOrEmpty(s.ssim) + "," +
             csvNumberOrEmpty(s.hog) + "\n";
    }
  return csv;
}

std::string comparisonMeansCsv(const SanityCascade& c, uint64_t seed) {
  std::string csv = "test,method,metric,mean,ci_low,ci_high,n\n";
  const auto add = [&](const std::string& test, const MapComparison& cmp) {
    if (cmp.scores.empty()) return;
    for (size_t m = 0; m < c.methods.size(); ++m)
      for (const std::string& key : similarityKeys()) {
        const ComparisonSummary s = comparisonSummary(cmp, m, key, seed);
        csv += test + "," + csvField(c.methods[m]) + "," + key + "," + csvNumberOrEmpty(s.ci.mean) + "," +
               csvNumberOrEmpty(s.ci.low) + "," + csvNumberOrEmpty(s.ci.high) + "," + std::to_string(s.n) + "\n";
      }
  };
  add("random_logit", c.randomLogit);
  add("data_randomisation", c.dataRandomised);
  return csv;
}

}  // namespace fs::analysis
