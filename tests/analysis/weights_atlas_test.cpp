// Weights atlas: every panel (and every figure tile, before colour mapping) holds the checkpoint's
// own float32 values bit for bit, read back independently with readCheckpoint; the opposite-phase
// pairing of Tolstikhin et al. 2021 (Fig. 5) on units whose pairs and frequencies are known.
#include "analysis/features/weights_atlas.h"
#include "model/checkpoint.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstring>

namespace {
namespace fa = fs::analysis;

bool sameBits(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.contiguous(), y = b.contiguous();
  return x.scalar_type() == at::kFloat && y.scalar_type() == at::kFloat && x.sizes() == y.sizes() &&
         std::memcmp(x.data_ptr<float>(), y.data_ptr<float>(), size_t(x.numel()) * sizeof(float)) == 0;
}

TEST(WeightsAtlas, PanelsAndTilesHoldTheCheckpointValuesBitForBit) {
  for (const char* id : {"resnet_fmnist", "convmlp_fmnist", "puremlp_fmnist", "mixer_fmnist", "resmlp_fmnist",
                         "vit_fmnist", "convnext_fmnist"}) {
    const fa::LoadedModel m = fa::loadModel(id, "", 0);
    ASSERT_FALSE(m.weightsPath.empty()) << id;
    const fs::model::TensorDict dict = fs::model::readCheckpoint(m.weightsPath);
    const auto panels = fa::weightsAtlas(m);
    ASSERT_FALSE(panels.empty()) << id;
    const fa::FigureLayout fig = fa::atlasFigure(m, panels, 64);
    ASSERT_EQ(fig.rowCount(), int(panels.size()));
    for (size_t i = 0; i < panels.size(); ++i) {
      const auto& p = panels[i];
      const at::Tensor* w = dict.find(p.parameter);
      ASSERT_NE(w, nullptr) << p.parameter;
      const at::Tensor expected = w->index_select(0, at::tensor(p.order, at::kLong)).reshape(p.values.sizes());
      EXPECT_TRUE(sameBits(p.values, expected)) << id << " " << p.parameter;
      const auto& cell = fig.cells[i][0];
      if (p.kind == fa::AtlasKind::RgbFilters) {
        EXPECT_EQ(cell.kind, fa::CellKind::Overlay);
        EXPECT_EQ(p.values.size(1), 3);
        continue;
      }
      ASSERT_EQ(cell.kind, fa::CellKind::Tiles);
      for (size_t t = 0; t < cell.tiles.channels.size(); ++t) {
        // Cross-patch tiles are the central patches; the others the first tiles in order.
        int64_t row = int64_t(t);
        if (p.kind == fa::AtlasKind::CrossPatch) {
          const int show = cell.tiles.cols, first = (p.gridSide - show) / 2;
          row = int64_t(first + int(t) / show) * p.gridSide + first + int(t) % show;
        }
        const cv::Mat& tile = cell.tiles.channels[t];
        const at::Tensor values = at::from_blob(tile.data, {tile.rows, tile.cols}, at::kFloat);
        EXPECT_TRUE(sameBits(values, expected[row][0])) << id << " " << p.parameter << " tile " << t;
      }
    }
  }
}

TEST(WeightsAtlas, TokenModelPanelsFollowThePapers) {
  const fa::LoadedModel mixer = fa::loadModel("mixer_fmnist", "", 0);
  const auto panels = fa::weightsAtlas(mixer);
  ASSERT_EQ(panels.size(), 3u);  // the first three token-mixing layers, as in Fig. 5
  EXPECT_EQ(panels[0].parameter, "blocks.0.mlp_tokens.fc1.weight");
  EXPECT_EQ(panels[0].values.size(2), 7);
  const fa::LoadedModel resmlp = fa::loadModel("resmlp_fmnist", "", 0);
  const auto rows = fa::weightsAtlas(resmlp);
  ASSERT_EQ(rows.size(), 4u);  // every block
  EXPECT_EQ(rows[3].parameter, "blocks.3.linear_tokens.weight");
  EXPECT_EQ(rows[3].values.size(0), 49);
  const fa::LoadedModel resnet = fa::loadModel("resnet18", "", 0);
  const fa::FigureLayout fig = fa::atlasFigure(resnet, fa::weightsAtlas(resnet), 16);
  EXPECT_NE(fig.cells[0][0].note.find("first 16 shown"), std::string::npos) << fig.cells[0][0].note;
}

TEST(WeightsAtlas, PairsOppositePhasesAndSortsByFrequency) {
  const int side = 4;
  at::Tensor checker = at::empty({side, side}), ramp = at::empty({side, side});
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x) {
      checker[y][x] = ((x + y) % 2) ? 1.0f : -1.0f;  // highest frequency
      ramp[y][x] = (x < side / 2) ? 1.0f : -1.0f;    // lowest
    }
  // Units: checker, ramp, -checker (+ a little ramp), -ramp.
  const at::Tensor units = at::stack({checker, ramp, -checker + 0.1 * ramp, -ramp}).reshape({4, side * side});
  const auto order = fa::pairByOppositePhase(units, side);
  EXPECT_EQ(order, (std::vector<int64_t>{1, 3, 0, 2}));
}

}  // namespace
