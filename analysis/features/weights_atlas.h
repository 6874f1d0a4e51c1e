#pragma once
// Weights atlas: the weights that have a spatial meaning, shown as images.
// - First-layer filters as RGB tiles (Krizhevsky, Sutskever & Hinton 2012, Fig. 3; Zeiler & Fergus
//   2014): ResNet `conv1`, the ConvMLP / Pure-MLP tokenizer's first convolution.
// - ConvMLP's depthwise 3x3 `connect` kernels of every block (Li et al. 2021, "ConvMLP", Sec. 3.2).
// - MLP-Mixer's token-mixing weights (Tolstikhin et al. 2021, "MLP-Mixer", Sec. 3.4 and Fig. 5):
//   each hidden unit's row of the first token-mixing layer (`mlp_tokens.fc1.weight`, [hidden, N])
//   reshaped to the patch grid, for the first three blocks as in the figure; units are paired with
//   the unit of most opposite phase (lowest cosine similarity, greedily in index order) and the
//   pairs sorted by filter frequency (the power-weighted mean radial frequency of the 2-D DFT,
//   DC excluded), as the figure's caption describes.
// - ResMLP's cross-patch linear layer of every block (Touvron et al. 2021, "ResMLP", Sec. 4.2 and
//   the figure of the linear layers of ResMLP-S24): row i of `linear_tokens.weight` ([N, N]) is
//   the weights of output patch i, reshaped to the patch grid and placed at patch i's position;
//   the figure shows the central 6x6 patches when the grid is larger, as the paper does.
// The panel values are the parameters' own float32 values, only reordered and reshaped.
#include "analysis/figure_layout.h"
#include "analysis/model_loader.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fs::analysis {

enum class AtlasKind { RgbFilters, Kernels, TokenMixing, CrossPatch };
const char* atlasKindName(AtlasKind kind);  // rgb_filters, kernels, token_mixing, cross_patch

struct AtlasPanel {
  std::string title;          // row label, e.g. "conv1\nfirst-layer filters"
  std::string parameter;      // its state_dict name
  AtlasKind kind = AtlasKind::Kernels;
  at::Tensor values;          // float32 [T, C, h, w] (C = 3 for RGB filters, else 1)
  std::vector<int64_t> order; // tile t shows slice order[t] of the parameter's first axis
  int gridSide = 0;           // CrossPatch: the patch grid's side (tiles laid out at their patch)
};

// The family's panels (InputError for a family without weights of a spatial meaning). ViT, DeiT and
// Swin: the patch embedding's filters; ConvNeXt: the stem's filters and each block's depthwise kernels.
std::vector<AtlasPanel> weightsAtlas(const LoadedModel& model);

// Greedy opposite-phase pairing of rows of `units` ([U, D]): each unpaired unit in index order
// takes the unpaired partner of lowest cosine similarity. Returns the unit order pair by pair,
// pairs sorted by their mean radial frequency on a side x side grid (an odd last unit stays alone).
std::vector<int64_t> pairByOppositePhase(const at::Tensor& units, int side);

// Rows = panels, one column; at most maxTiles tiles per panel (all of them in the NPY files).
// Kernels and token-mixing tiles use the diverging colormap on a symmetric range per tile;
// RGB filters become one mosaic, each filter scaled by its own largest |w| (0.5 + w / 2max|w|).
FigureLayout atlasFigure(const LoadedModel& model, const std::vector<AtlasPanel>& panels, int maxTiles);

}  // namespace fs::analysis
