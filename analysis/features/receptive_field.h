#pragma once
// The theoretical receptive field of every tap, computed from the layers of the architecture with
// the recurrences of Araujo, Norris & Sim 2019 ("Computing Receptive Fields of Convolutional
// Neural Networks", Distill, eqs. 2-4): for a layer of kernel k, stride s and padding p,
//   r_out = r_in + (k - 1) * j_in,   j_out = j_in * s,   start_out = start_in + ((k - 1) / 2 - p) * j_in
// with pixel centres at integer coordinates. A layer that mixes all positions (a token-mixing MLP
// of MLP-Mixer or ResMLP) makes the field global: every input pixel can reach every cell.
// Residual branches take the largest path (the main branch; the shortcut is never larger).
// Self-attention over all patches (ViT, DeiT) is global like token mixing; Swin's windowed
// attention is bounded by 2 (window - 1) cells per block (an upper bound: the exact field depends
// on where the shifted partition puts the cell), global once a stage fits in one window.
// Families: resnet, convmlp, puremlp, mlp_mixer, resmlp, vit, deit, swin, convnext.
#include "analysis/model_loader.h"

#include <string>
#include <vector>

namespace fs::analysis {

struct ReceptiveField {
  std::string tap;
  bool global = false;  // a global mixing layer lies before the tap: the whole input
  int size = 1;         // r: side of the square field in input pixels (before clipping)
  int jump = 1;         // input pixels between neighbouring cells (TapInfo::stride)
  double start = 0.0;   // input coordinate of the centre of cell 0's field

  double centre(int cell) const { return start + double(jump) * cell; }
};

// Half-open pixel rectangle [x0, x1) x [y0, y1).
struct PixelBox {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  int width() const { return x1 - x0; }
  int height() const { return y1 - y0; }
};

// One entry per tap, in taps() order. InputError for a family without a layer description.
std::vector<ReceptiveField> receptiveFields(const LoadedModel& model);
// The field of one tap (InputError listing the valid taps for an unknown name).
ReceptiveField receptiveField(const LoadedModel& model, const std::string& tap);

// The field of cell (cellY, cellX) in input pixels, clipped to height x width (the whole image
// for a global field).
PixelBox receptiveBox(const ReceptiveField& rf, int cellY, int cellX, int height, int width);

}  // namespace fs::analysis
