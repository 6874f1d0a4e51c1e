// estimateParameters: the trainable-parameter count implied by a ModelConfig, computed in
// 64-bit (saturating) arithmetic so absurd configs are refused before anything is allocated.
#include "model/model_config.h"

#include <cstdint>
#include <limits>

namespace fs::model {
namespace {
using I = int64_t;
constexpr I kBig = std::numeric_limits<I>::max() / 4;

I mul(I a, I b) { return (a != 0 && b > kBig / a) ? kBig : a * b; }
I add(I a, I b) { return a + b > kBig ? kBig : a + b; }
I linear(I in, I out) { return add(mul(in, out), out); }
I mlp(I d, I h) { return add(linear(d, h), linear(h, d)); }
I bn(I c) { return 2 * c; }

I convMlp(const ModelConfig& c) {
  const I ch = c.channels, h = ch / 2, d0 = c.dims[0];
  I n = 3 * h * 9 + bn(h) + h * h * 9 + bn(h) + h * ch * 9 + bn(ch);
  const I convBlock = add(add(mul(ch, d0) + bn(d0), mul(mul(d0, d0), 9) + bn(d0)), mul(d0, ch) + bn(ch));
  n = add(n, mul(c.nConvBlocks, convBlock));
  n = add(n, mul(mul(ch, d0), 9) + d0);
  for (size_t s = 0; s < c.blocks.size(); ++s) {
    const I d = c.dims[s], hid = static_cast<I>(d * c.mlpRatios[s]);
    I block = add(4 * d, mul(2, mlp(d, hid)));
    if (c.family == Family::ConvMLP) block = add(block, 9 * d + 2 * d);
    n = add(n, mul(c.blocks[s], block));
    if (s + 1 < c.blocks.size()) n = add(n, add(mul(mul(d, c.dims[s + 1]), 9), c.dims[s + 1]));
  }
  return add(n, add(2 * c.dims.back(), linear(c.dims.back(), c.numClasses)));
}

I tokenModel(const ModelConfig& c) {
  const I e = c.embedDim, g = c.imgSize / c.patchSize, t = g * g;
  I n = add(mul(mul(3, c.patchSize), mul(c.patchSize, e)), e);
  const I channel = mlp(e, static_cast<I>(e * c.channelMlpRatio));
  I block;
  if (c.family == Family::ResMLP) block = add(add(4 * e + 2 * e, linear(t, t)), channel);
  else block = add(add(4 * e, mlp(t, static_cast<I>(e * c.tokenMlpRatio))), channel);
  n = add(n, mul(c.numBlocks, block));
  return add(n, add(2 * e, linear(e, c.numClasses)));
}

I resNet(const ModelConfig& c) {
  const I w = c.width;
  I n = w * 3 * 49 + bn(w), in = w;
  for (size_t l = 0; l < c.layers.size(); ++l) {
    const I p = w << l, out = c.bottleneck ? 4 * p : p;
    for (int b = 0; b < c.layers[l]; ++b) {
      I block = c.bottleneck ? in * p + bn(p) + p * p * 9 + bn(p) + p * out + bn(out)
                             : in * p * 9 + bn(p) + p * p * 9 + bn(p);
      if ((b == 0 && l > 0) || in != out) block += in * out + bn(out);
      n = add(n, block);
      in = out;
    }
  }
  return add(n, linear(in, c.numClasses));
}
}  // namespace

int64_t estimateParameters(const ModelConfig& c) {
  switch (c.family) {
    case Family::ConvMLP:
    case Family::PureMLP: return convMlp(c);
    case Family::Mixer:
    case Family::ResMLP: return tokenModel(c);
    case Family::ResNet: return resNet(c);
  }
  return 0;
}

}  // namespace fs::model
