#pragma once
// Representation similarity between the taps of two models: linear CKA (Kornblith et al. 2019,
// "Similarity of Neural Network Representations Revisited", eq. 4 with the linear kernel).
// Runs on the calling thread (the one that owns both models).
#include "analysis/model_loader.h"

#include <ATen/core/Tensor.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

namespace fs::analysis {

struct CkaMatrix {
  std::vector<fs::model::TapInfo> tapsA, tapsB;  // forward order of each model
  std::vector<std::vector<double>> cka;          // [tapsA.size()][tapsB.size()], in [0,1]
  int images = 0;
  bool cancelled = false;                        // true: cka is empty
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
                     const std::atomic<bool>* cancel = nullptr, int64_t maxBlockBytes = kCkaBlockBytes);

// Building blocks, on explicit features (rows = examples).
// H K H with H = I - 11^T/n, float64 [n,n].
at::Tensor centredGram(const at::Tensor& gram);
// HSIC(K,L) / sqrt(HSIC(K,K) HSIC(L,L)) from two (uncentred) Gram matrices; 0 when undefined.
double ckaFromGrams(const at::Tensor& k, const at::Tensor& l);
// Linear CKA of features x [n,p] and y [n,q] through their Gram matrices.
double linearCka(const at::Tensor& x, const at::Tensor& y);

}  // namespace fs::analysis
