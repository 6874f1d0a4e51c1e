#include "analysis/evaluation/statistics.h"

#include "model/errors.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

namespace fs::analysis {

double kendallTau(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) throw fs::model::InputError("Kendall's tau: the two rankings differ in length");
  const size_t n = x.size();
  double concordant = 0, discordant = 0, tiesX = 0, tiesY = 0, pairs = 0;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      const double dx = x[i] - x[j], dy = y[i] - y[j];
      pairs += 1;
      if (dx == 0) tiesX += 1;
      if (dy == 0) tiesY += 1;
      if (dx == 0 || dy == 0) continue;
      ((dx > 0) == (dy > 0) ? concordant : discordant) += 1;
    }
  const double denom = std::sqrt((pairs - tiesX) * (pairs - tiesY));
  return denom > 0 ? (concordant - discordant) / denom : 0.0;
}

namespace {

double quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * double(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - double(lo)) * (sorted[hi] - sorted[lo]);
}

}  // namespace

ConfidenceInterval bootstrapMeanCi(const std::vector<double>& values, uint64_t seed, int resamples, double level) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (values.empty()) return {nan, nan, nan};
  if (resamples < 1 || !(level > 0 && level < 1))
    throw fs::model::InputError("bootstrap: resamples must be >= 1 and the level in (0, 1)");
  const size_t n = values.size();
  std::mt19937_64 gen(seed);
  std::vector<double> means(static_cast<size_t>(resamples));
  for (double& m : means) {
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += values[static_cast<size_t>(gen() % n)];
    m = sum / double(n);
  }
  std::sort(means.begin(), means.end());
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / double(n);
  return {mean, quantile(means, (1 - level) / 2), quantile(means, (1 + level) / 2)};
}

double median(std::vector<double> values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  return quantile(values, 0.5);
}

std::vector<double> averageRanks(const std::vector<double>& values) {
  const size_t n = values.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(n);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && values[order[j + 1]] == values[order[i]]) ++j;
    for (size_t k = i; k <= j; ++k) ranks[order[k]] = 0.5 * double(i + j) + 1.0;
    i = j + 1;
  }
  return ranks;
}

std::vector<double> rankScores(const std::vector<double>& scores, bool higherIsBetter) {
  std::vector<double> keys = scores;
  if (higherIsBetter)
    for (double& k : keys) k = -k;
  return averageRanks(keys);
}

}  // namespace fs::analysis
