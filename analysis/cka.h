#pragma once
// Representation similarity between the taps of two models: linear CKA (Kornblith et al. 2019,
// "Similarity of Neural Network Representations Revisited", eq. 4 with the linear kernel).
// Runs on the calling thread (the one that owns both models).
//
// Two estimators of HSIC, the quantity CKA normalises:
//   biased   - HSIC_0 = tr(KHLH)/(n-1)^2 (Gretton et al. 2005), the one Kornblith et al. use;
//   debiased - HSIC_1, the unbiased U-statistic of Song et al. 2012 ("Feature Selection via
//              Dependence Maximization", JMLR 13, eq. 5), as Nguyen, Raghu and Kornblith 2021
//              ("Do Wide and Deep Networks Learn the Same Things?") use it; computed with the
//              centring of Kornblith et al.'s reference code (center_gram(unbiased=True)), which
//              gives HSIC_1 up to a factor common to numerator and denominator.
// With few images the biased estimator is pulled towards 1 whenever the features have many more
// dimensions than there are images (every tap here); the debiased one is not, but it needs n >= 4
// and can be slightly negative. Auto, the default everywhere, takes the debiased estimator below
// kCkaDebiasedBelow images and the biased one from there on, where the two agree closely and the
// biased one is the published convention (Kornblith et al. used 10,000 images).
#include "analysis/model_loader.h"

#include <ATen/core/Tensor.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fs::analysis {

enum class CkaEstimator { Auto, Biased, Debiased };
constexpr int kCkaDebiasedBelow = 1000;
// Auto resolved for n images; Debiased with n < 4 is an InputError.
CkaEstimator resolveCkaEstimator(CkaEstimator e, int images);
const char* ckaEstimatorName(CkaEstimator e);                   // "auto", "biased", "debiased"
CkaEstimator parseCkaEstimator(const std::string& name);        // UsageError on other names

struct CkaMatrix {
  std::vector<fs::model::TapInfo> tapsA, tapsB;  // forward order of each model
  std::vector<std::vector<double>> cka;          // [tapsA.size()][tapsB.size()]: biased in [0,1],
                                                 // debiased in [-1,1] (slightly < 0 = unrelated)
  int images = 0;
  bool cancelled = false;                        // true: cka is empty
  CkaEstimator estimator = CkaEstimator::Biased;  // the one used (never Auto)
};

// Linear CKA of every tap of `a` against every tap of `b` over n >= 2 images. inputsA[i] and
// inputsB[i] are the same image preprocessed for each model (float32 [1,3,H,W], one size per
// model). Each image's tap is flattened over channels and positions to one vector (no pooling),
// so X is [n, C*H*W]; only the n x n Gram matrices K = X X^T are kept, accumulated in float64
// from image blocks of bounded memory (blocks are recomputed when all features do not fit).
// A tap that is constant across the images has no defined CKA and is reported as 0.
// progress receives the completed fraction; a set *cancel stops between blocks (cancelled = true).
// maxBlockBytes bounds the features of both models held for one block (two blocks live at once).
constexpr int64_t kCkaBlockBytes = int64_t(512) << 20;
CkaMatrix computeCka(LoadedModel& a, LoadedModel& b, const std::vector<at::Tensor>& inputsA,
                     const std::vector<at::Tensor>& inputsB, const std::function<void(double)>& progress = {},
                     const std::atomic<bool>* cancel = nullptr, int64_t maxBlockBytes = kCkaBlockBytes,
                     CkaEstimator estimator = CkaEstimator::Auto);

// Building blocks, on explicit features (rows = examples).
// Biased: H K H with H = I - 11^T/n. Debiased: the diagonal set to 0, then the U-centring of
// Kornblith et al.'s code (column means over n-2, corrected by their sum over 2(n-1)). float64 [n,n].
at::Tensor centredGram(const at::Tensor& gram, bool debiased = false);
// HSIC(K,L) / sqrt(HSIC(K,K) HSIC(L,L)) from two (uncentred) Gram matrices; 0 when undefined.
double ckaFromGrams(const at::Tensor& k, const at::Tensor& l, bool debiased = false);
// Linear CKA of features x [n,p] and y [n,q] through their Gram matrices.
double linearCka(const at::Tensor& x, const at::Tensor& y, bool debiased = false);

}  // namespace fs::analysis
