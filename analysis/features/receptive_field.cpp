#include "analysis/features/receptive_field.h"

#include "analysis/inference.h"
#include "model/errors.h"

#include <algorithm>
#include <cmath>

namespace fs::analysis {
namespace {
using fs::model::InputError;

// Walks the layers in forward order and records the field at each tap.
class FieldWalker {
 public:
  void layer(int k, int s, int p) {
    start_ += ((k - 1) / 2.0 - p) * jump_;
    size_ += (k - 1) * jump_;
    jump_ *= s;
  }
  void globalMixing() { global_ = true; }
  void tap(const std::string& name) { out.push_back({name, global_, size_, jump_, start_}); }
  std::vector<ReceptiveField> out;

 private:
  bool global_ = false;
  int size_ = 1, jump_ = 1;
  double start_ = 0.0;
};

// torchvision ResNet v1.5 (model/resnet.cpp): the stride sits in the 3x3 convolution.
void resNetFields(const fs::model::ModelConfig& c, FieldWalker& w) {
  w.layer(7, 2, 3);  // conv1
  w.layer(3, 2, 1);  // maxpool
  w.tap("maxpool");
  for (size_t l = 0; l < c.layers.size(); ++l) {
    const std::string p = "layer" + std::to_string(l + 1);
    for (int b = 0; b < c.layers[l]; ++b) {
      const int s = (b == 0 && l > 0) ? 2 : 1;
      if (c.bottleneck) {
        w.layer(1, 1, 0), w.layer(3, s, 1), w.layer(1, 1, 0);
      } else {
        w.layer(3, s, 1), w.layer(3, 1, 1);
      }
      w.tap(p + "." + std::to_string(b));
    }
    w.tap(p);
  }
}

// ConvMLP (model/convmlp.cpp); the Pure-MLP ablation has no depthwise `connect` convolution.
void convMlpFields(const fs::model::ModelConfig& c, FieldWalker& w) {
  w.layer(3, 2, 1), w.layer(3, 1, 1), w.layer(3, 1, 1);  // tokenizer.block.0/3/6
  w.layer(3, 2, 1);                                      // tokenizer max pool
  w.tap("tokenizer");
  for (int i = 0; i < c.nConvBlocks; ++i) {
    w.layer(1, 1, 0), w.layer(3, 1, 1), w.layer(1, 1, 0);
    w.tap("conv_stages.conv_blocks." + std::to_string(i));
  }
  w.layer(3, 2, 1);  // conv_stages.downsample
  w.tap("conv_stages");
  for (size_t s = 0; s < c.blocks.size(); ++s) {
    const std::string p = "stages." + std::to_string(s);
    for (int b = 0; b < c.blocks[s]; ++b) {
      if (c.family == "convmlp") w.layer(3, 1, 1);  // connect: depthwise 3x3
      w.tap(p + ".blocks." + std::to_string(b));
    }
    if (s + 1 < c.blocks.size()) w.layer(3, 2, 1);  // downsample_mlp
    w.tap(p);
  }
}

// MLP-Mixer and ResMLP (model/mlp_mixer.cpp): a patch embedding, then blocks whose token mixing
// connects every patch with every other.
void tokenModelFields(const fs::model::ModelConfig& c, FieldWalker& w) {
  w.layer(c.patchSize, c.patchSize, 0);
  w.tap("stem");
  for (int i = 0; i < c.numBlocks; ++i) {
    w.globalMixing();
    w.tap("blocks." + std::to_string(i));
  }
}

// ViT and DeiT (model/vit.cpp): a patch embedding, then self-attention over every patch in each
// block; the last block's attention input (norm1) is a tap too, before that block's attention.
void vitFields(const fs::model::ModelConfig& c, FieldWalker& w) {
  w.layer(c.patchSize, c.patchSize, 0);
  w.tap("patch_embed");
  for (int i = 0; i < c.numBlocks; ++i) {
    if (i + 1 == c.numBlocks) w.tap("blocks." + std::to_string(i) + ".norm1");
    w.globalMixing();
    w.tap("blocks." + std::to_string(i));
  }
  w.tap("norm");
}

// Swin (model/swin.cpp): a window holds the tokens a token attends to, and wherever the (shifted)
// partition puts it, it lies within window - 1 tokens of the token on each side, so each block widens
// the field by at most 2 (window - 1) cells: an upper bound (the exact field depends on the cell's
// place in the partition). A stage no larger than its window mixes all of it: global.
void swinFields(const fs::model::ModelConfig& c, FieldWalker& w) {
  w.layer(c.patchSize, c.patchSize, 0);
  w.tap("patch_embed");
  int res = c.imgSize / c.patchSize;
  for (size_t s = 0; s < c.depths.size(); ++s) {
    const std::string p = "layers." + std::to_string(s);
    if (s > 0) w.layer(2, 2, 0), res /= 2;  // patch merging: 2x2 neighbours
    const int win = std::min(res, c.windowSize);
    for (int b = 0; b < c.depths[s]; ++b) {
      if (win >= res)
        w.globalMixing();
      else
        w.layer(2 * win - 1, 1, win - 1);
      w.tap(p + ".blocks." + std::to_string(b));
    }
    w.tap(p);
  }
  w.tap("norm");
}

// ConvNeXt (model/convnext.cpp): a patchify stem, 2x2/2 downsampling convolutions between stages,
// and one depthwise k x k convolution per block (the pointwise layers add nothing).
void convNeXtFields(const fs::model::ModelConfig& c, FieldWalker& w) {
  w.layer(c.patchSize, c.patchSize, 0);
  w.tap("stem");
  for (size_t s = 0; s < c.depths.size(); ++s) {
    const std::string p = "stages." + std::to_string(s);
    if (s > 0) w.layer(2, 2, 0);
    for (int b = 0; b < c.depths[s]; ++b) {
      w.layer(c.kernelSize, 1, c.kernelSize / 2);
      w.tap(p + ".blocks." + std::to_string(b));
    }
    w.tap(p);
  }
}

}  // namespace

std::vector<ReceptiveField> receptiveFields(const LoadedModel& model) {
  const auto& c = model.config;
  FieldWalker w;
  if (c.family == "resnet") {
    resNetFields(c, w);
  } else if (c.family == "convmlp" || c.family == "puremlp") {
    convMlpFields(c, w);
  } else if (c.family == "mlp_mixer" || c.family == "resmlp") {
    tokenModelFields(c, w);
  } else if (c.family == "vit" || c.family == "deit") {
    vitFields(c, w);
  } else if (c.family == "swin") {
    swinFields(c, w);
  } else if (c.family == "convnext") {
    convNeXtFields(c, w);
  } else {
    throw InputError(c.id + ": no receptive-field description for the family '" + c.family + "'");
  }
  // The walk must name the model's own taps, in order, with their strides.
  const auto taps = model.net->taps();
  if (taps.size() != w.out.size())
    throw InputError(c.id + ": receptive-field walk found " + std::to_string(w.out.size()) + " taps, the model has " +
                     std::to_string(taps.size()));
  for (size_t i = 0; i < taps.size(); ++i)
    if (taps[i].name != w.out[i].tap || taps[i].stride != w.out[i].jump)
      throw InputError(c.id + ": receptive-field walk disagrees with tap '" + taps[i].name + "'");
  return w.out;
}

ReceptiveField receptiveField(const LoadedModel& model, const std::string& tap) {
  findTap(model, tap);  // InputError listing the valid taps
  for (const auto& rf : receptiveFields(model))
    if (rf.tap == tap) return rf;
  throw InputError("unknown tap '" + tap + "'");
}

PixelBox receptiveBox(const ReceptiveField& rf, int cellY, int cellX, int height, int width) {
  if (rf.global) return {0, 0, width, height};
  const double half = (rf.size - 1) / 2.0;
  auto lo = [&](int cell) { return int(std::ceil(rf.centre(cell) - half)); };
  PixelBox b;
  b.x0 = std::clamp(lo(cellX), 0, width), b.x1 = std::clamp(lo(cellX) + rf.size, 0, width);
  b.y0 = std::clamp(lo(cellY), 0, height), b.y1 = std::clamp(lo(cellY) + rf.size, 0, height);
  return b;
}

}  // namespace fs::analysis
