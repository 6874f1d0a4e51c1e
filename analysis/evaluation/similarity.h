#pragma once
// Similarity of two maps, as Adebayo et al. 2018 ("Sanity Checks for Saliency Maps", NeurIPS,
// sec. 3 and appendix) measure a randomised map against the original: Spearman rank correlation
// with and without absolute values, SSIM and HOG similarity. Maps of any supported shape
// (mapToSize) are brought to the larger common [H,W] by bilinear resizing first.
#include <ATen/core/Tensor.h>

namespace fs::analysis {

// Spearman rank correlation (average ranks for ties; 0 when a map is constant); `absolute`
// ranks |a| and |b|, the paper's "absolute value" variant.
double spearmanSimilarity(const at::Tensor& a, const at::Tensor& b, bool absolute);

// Structural similarity (Wang et al. 2004) of the two maps, each rescaled to [0,1] by its own
// min and max (a constant map becomes 0), with skimage.metrics.structural_similarity's defaults:
// a 7x7 uniform window, K1 = 0.01, K2 = 0.03, data range 1, sample covariance (N / (N - 1)),
// the mean over the windows that lie inside the image. Maps smaller than 7x7: InputError.
double ssimSimilarity(const at::Tensor& a, const at::Tensor& b);

// The HOG descriptor (Dalal & Triggs 2005) of a map rescaled to [0,1] as above, computed as
// skimage.feature.hog does with 9 orientations, 8x8-pixel cells, 3x3-cell blocks and L2-Hys block
// normalisation (centred differences, zero gradient on the border rows and columns, unsigned
// orientations in [0,180), each cell's histogram the mean magnitude per bin). InputError for maps
// smaller than 24x24 (one block).
at::Tensor hogDescriptor(const at::Tensor& map);
// Pearson correlation of the two maps' HOG descriptors (0 when one is constant).
double hogSimilarity(const at::Tensor& a, const at::Tensor& b);

struct SimilarityScores {
  double spearman = 0.0;
  double spearmanAbs = 0.0;
  double ssim = 0.0;
  double hog = 0.0;
};
// All four; SSIM and HOG are NaN for maps below their minimum size (compare maps at the input
// size, as displayed, to get them).
SimilarityScores similarityScores(const at::Tensor& a, const at::Tensor& b);

}  // namespace fs::analysis
