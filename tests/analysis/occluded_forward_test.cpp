// Occlusion's incremental forwards (analysis/saliency/occluded_forward.h): the local prefixes'
// fields checked by perturbing one pixel, and the occluded logits checked against full forwards of
// the occluded images, computed here window by window.
#include "analysis/model_loader.h"
#include "analysis/saliency/occluded_forward.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

namespace {
namespace fa = fs::analysis;

// The logits of x with window w set to 0, by a full forward.
at::Tensor fullOccluded(fs::model::ClassifierImpl& net, const at::Tensor& x, const fa::OcclusionWindow& w) {
  at::Tensor y = x.clone();
  y.narrow(2, w.r0, w.r1 - w.r0).narrow(3, w.c0, w.c1 - w.c0).zero_();
  return net.forward(y, {}).logits;
}

// Indices 0 .. n-1: every window of a grid.
std::vector<int64_t> firstWindows(int64_t n) {
  std::vector<int64_t> all(size_t(n), 0);
  std::iota(all.begin(), all.end(), int64_t(0));
  return all;
}

// A model that declares no local prefix (every family of the zoo declares one).
class NoPrefix : public fs::model::ClassifierImpl {
 public:
  NoPrefix() {
    at::manual_seed(11);
    weight_ = at::randn({10, 3 * 112 * 112}) / 100.0;
  }
  std::vector<fs::model::TapInfo> taps() const override { return {}; }
  std::vector<std::string> stages() const override { return {}; }
  fs::model::ForwardResult forward(const at::Tensor& x, const std::vector<std::string>&) override {
    return {at::tanh(x.flatten(1)).matmul(weight_.t()), {}};
  }

 private:
  at::Tensor weight_;
};

void expectLogitsOfFullForwards(fa::LoadedModel& m, const at::Tensor& x, int window, int stride,
                                const std::vector<int64_t>& picks) {
  torch::NoGradGuard noGrad;
  const std::vector<fa::OcclusionWindow> all = fa::occlusionWindows(x.size(2), x.size(3), window, stride);
  std::vector<fa::OcclusionWindow> windows;
  for (int64_t i : picks) windows.push_back(all[size_t(i < 0 ? int64_t(all.size()) + i : i)]);
  fa::OccludedForward f(*m.net, x, windows, 4);
  ASSERT_TRUE(f.incremental()) << m.config.id;
  const at::Tensor reference = m.net->forward(x, {}).logits;
  EXPECT_TRUE(at::allclose(f.reference(), reference, 1e-4, 1e-5)) << m.config.id;
  for (int64_t b = 0; b < int64_t(windows.size()); b += 4) {
    const int64_t e = std::min<int64_t>(int64_t(windows.size()), b + 4);
    const at::Tensor got = f.logits(b, e);
    for (int64_t i = b; i < e; ++i) {
      const at::Tensor want = fullOccluded(*m.net, x, windows[size_t(i)]);
      // The drop in a logit is what occlusion keeps: it must agree, not only the logits.
      const at::Tensor drop = reference - got[i - b].unsqueeze(0), wantDrop = reference - want;
      EXPECT_LT((drop - wantDrop).abs().max().item<double>(), 1e-4 * (1.0 + wantDrop.abs().max().item<double>()))
          << m.config.id << " window " << i;
    }
  }
}

TEST(OccludedForward, LocalPrefixesKeepToTheirFields) {
  for (const char* id : {"convmlp_fmnist", "puremlp_fmnist", "resnet_fmnist", "mixer_fmnist", "resmlp_fmnist",
                         "vit_fmnist", "convnext_fmnist", "swin_tiny"}) {
    fa::LoadedModel m = fa::loadModel(id, "", 0);
    const fs::model::LocalField f = m.net->localPrefix();
    ASSERT_GT(f.stride, 0) << id;
    torch::NoGradGuard noGrad;
    at::manual_seed(3);
    const int64_t side = m.config.input.height;
    const at::Tensor x = at::randn({1, 3, side, side});
    const at::Tensor p = m.net->forwardPrefix(x, 1);
    EXPECT_EQ(p.size(2) * f.stride, side) << id;
    // Prefix then the rest is the forward.
    EXPECT_TRUE(at::allclose(m.net->logitsFromPrefix(p), m.net->forward(x, {}).logits, 1e-4, 1e-5)) << id;
    for (const auto& [r, c] : {std::pair<int64_t, int64_t>{50, 61}, {0, side - 1}, {side - 1, 3}}) {
      at::Tensor y = x.clone();
      y.select(2, r).select(2, c).add_(5.0);
      const at::Tensor changed = (m.net->forwardPrefix(y, 1) - p).abs().amax(1).gt(0).squeeze(0);  // [h,w]
      ASSERT_TRUE(changed.any().item<bool>()) << id;
      const at::Tensor cells = changed.nonzero();
      for (int64_t k = 0; k < cells.size(0); ++k) {
        const int64_t i = cells[k][0].item<int64_t>(), j = cells[k][1].item<int64_t>();
        EXPECT_TRUE(f.stride * i - f.before <= r && r <= f.stride * i + f.after) << id << " row " << i << " for " << r;
        EXPECT_TRUE(f.stride * j - f.before <= c && c <= f.stride * j + f.after) << id << " col " << j << " for " << c;
      }
    }
  }
}

TEST(OccludedForward, IncrementalLogitsAreThoseOfFullForwards) {
  at::manual_seed(5);
  for (const char* id : {"convmlp_fmnist", "puremlp_fmnist", "resnet_fmnist"}) {
    fa::LoadedModel m = fa::loadModel(id, "", 0);
    // Every window of the default grid (13 x 13 at 112 px), in batches of 4.
    expectLogitsOfFullForwards(m, at::randn({1, 3, 112, 112}), 16, 8, firstWindows(169));
    // A rectangular image, another grid.
    expectLogitsOfFullForwards(m, at::randn({1, 3, 96, 120}), 12, 6, {0, 1, 9, 40, -2, -1});
  }
  // The token models' patch embedding (their token grid is fixed: 112 px only; a 16-px window at an
  // 8-px offset meets four patches) and ConvNeXt's stem convolution.
  for (const char* id : {"mixer_fmnist", "resmlp_fmnist", "vit_fmnist", "convnext_fmnist"}) {
    fa::LoadedModel m = fa::loadModel(id, "", 0);
    expectLogitsOfFullForwards(m, at::randn({1, 3, 112, 112}), 16, 8, firstWindows(169));
  }
  // ImageNet-size models with their own fields (ConvMLP-S: two conv blocks; ResNet-18's stem; DeiT's
  // patch embedding, with its two prefix tokens; Swin's, before its per-token norm and shifted windows).
  for (const char* id : {"convmlp_s", "resnet18", "deit_tiny_distilled", "swin_tiny"}) {
    fa::LoadedModel m = fa::loadModel(id, "", 1);
    expectLogitsOfFullForwards(m, at::randn({1, 3, 224, 224}), 16, 8, {0, 13, 377, 400, -1});
  }
}

TEST(OccludedForward, FullForwardsWhereThePrefixCannotHelp) {
  at::manual_seed(7);
  torch::NoGradGuard noGrad;
  const std::vector<fa::OcclusionWindow> w = fa::occlusionWindows(112, 112, 16, 8);
  NoPrefix plain;
  const at::Tensor x = at::randn({1, 3, 112, 112});
  fa::OccludedForward none(plain, x, w, 8);  // no local prefix
  EXPECT_FALSE(none.incremental());
  EXPECT_TRUE(at::allclose(none.logits(3, 5).select(0, 1).unsqueeze(0), fullOccluded(plain, x, w[4]), 1e-5, 1e-6));
  fa::LoadedModel resnet = fa::loadModel("resnet_fmnist", "", 0);
  // Sides not multiples of the stride (4); a window as large as the image.
  EXPECT_FALSE(fa::OccludedForward(*resnet.net, at::randn({1, 3, 98, 112}), fa::occlusionWindows(98, 112, 16, 8), 8)
                   .incremental());
  EXPECT_FALSE(fa::OccludedForward(*resnet.net, x, fa::occlusionWindows(112, 112, 112, 8), 8).incremental());
  // FEATURESCOPE_OCCLUSION=full turns it off; other values are refused.
  ::setenv("FEATURESCOPE_OCCLUSION", "full", 1);
  EXPECT_FALSE(fa::OccludedForward(*resnet.net, x, w, 8).incremental());
  ::setenv("FEATURESCOPE_OCCLUSION", "partial", 1);
  try {
    fa::OccludedForward(*resnet.net, x, w, 8);
    ADD_FAILURE() << "an unknown FEATURESCOPE_OCCLUSION was accepted";
  } catch (const fs::model::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("FEATURESCOPE_OCCLUSION: 'partial'"), std::string::npos) << e.what();
  }
  ::setenv("FEATURESCOPE_OCCLUSION", "incremental", 1);
  EXPECT_TRUE(fa::OccludedForward(*resnet.net, x, w, 8).incremental());
  ::unsetenv("FEATURESCOPE_OCCLUSION");
}

}  // namespace
