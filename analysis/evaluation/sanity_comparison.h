#pragma once
// The two one-map-per-image sanity comparisons of featurescope-cli sanity, summarised over images:
// the random-logit test (Sixt et al. 2020, "When Explanations Lie: Why Many Modified BP
// Attributions Fail", ICML, sec. 5: the map for the target class against the map for a random other
// class) and data randomisation (Adebayo et al. 2018, "Sanity Checks for Saliency Maps", NeurIPS,
// sec. 3.2: the map of the trained model against that of the same architecture trained on permuted
// labels). Per method and similarity (Spearman, |Spearman|, SSIM, HOG): the mean over the images
// with a finite value and its percentile-bootstrap 95% CI (statistics.h, 1000 resamples, seeded).
#include "analysis/evaluation/statistics.h"
#include "analysis/sanity_cascade.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace fs::analysis {

struct ComparisonSummary {
  ConfidenceInterval ci;  // all NaN when no image has a finite value
  int n = 0;              // images with a finite value
};
ComparisonSummary comparisonSummary(const MapComparison& c, size_t method, const std::string& key, uint64_t seed);

// {method: {key: {"mean", "ci_low", "ci_high", "n"}}} (null for NaN).
nlohmann::json comparisonSummaryJson(const SanityCascade& c, const MapComparison& cmp, uint64_t seed);

// Per image: "image,method,target,compared_with,spearman,spearman_abs,ssim,hog" with compared_with
// the random class ("class K") or "permuted-label model" (empty fields for NaN).
std::string comparisonRowsCsv(const SanityCascade& c, const MapComparison& cmp, bool randomLogit);
// "test,method,metric,mean,ci_low,ci_high,n" for random_logit and, when run, data_randomisation.
std::string comparisonMeansCsv(const SanityCascade& c, uint64_t seed);

}  // namespace fs::analysis
