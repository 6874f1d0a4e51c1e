#pragma once
// Statistics of a scorecard: agreement between rankings and confidence intervals of means.
#include <cstdint>
#include <vector>

namespace fs::analysis {

// Kendall's tau-b (Kendall 1945, the tie-corrected form scipy.stats.kendalltau computes):
// (concordant - discordant) / sqrt((n0 - n1) * (n0 - n2)), n0 = n(n-1)/2, n1 and n2 the pairs tied
// in x and in y. Used for the agreement between the method rankings two metrics give. 0 when
// either side is constant; InputError for lengths that differ.
double kendallTau(const std::vector<double>& x, const std::vector<double>& y);

// Percentile bootstrap (Efron & Tibshirani 1993, ch. 13) of the mean: `resamples` means of n
// values drawn with replacement (a 64-bit Mersenne Twister seeded with `seed`, index = draw mod n),
// the interval between their (1-level)/2 and (1+level)/2 quantiles (linear interpolation, numpy's
// default). Deterministic for a seed. Empty input: all NaN.
struct ConfidenceInterval {
  double mean = 0.0;
  double low = 0.0;
  double high = 0.0;
};
ConfidenceInterval bootstrapMeanCi(const std::vector<double>& values, uint64_t seed, int resamples = 1000,
                                   double level = 0.95);

// The median (the mean of the middle two for an even count: numpy.median); NaN when empty.
double median(std::vector<double> values);

// Ranks 1..n of `values`, ascending (1 = smallest; ties share the mean of their positions, as
// scipy.stats.rankdata's "average").
std::vector<double> averageRanks(const std::vector<double>& values);
// Ranks 1..n of `scores` (1 = best; ties share the average rank).
std::vector<double> rankScores(const std::vector<double>& scores, bool higherIsBetter);

}  // namespace fs::analysis
