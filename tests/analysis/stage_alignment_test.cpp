// Stage alignment of the ViT, DeiT, Swin and ConvNeXt families, the columns of the paper-style
// figure ("Stage 1-4", figure_layout.h) and the stage taps of the session and exports:
// ClassifierImpl::stages() gives ViT/DeiT the last block of each depth quarter (depth 12: blocks
// 2, 5, 8, 11) and Swin and ConvNeXt the output of each of their four stages (strides 4, 8, 16, 32).
// Every registered variant is checked with its own depths; widths are shrunk to build quickly
// (stages() depends on the depths only).
#include "analysis/figure_layout.h"
#include "analysis/inference.h"
#include "model/registry.h"
#include "tests/analysis/saliency_test_support.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <map>
#include <set>

namespace fa = fs::analysis;
namespace fm = fs::model;

namespace {

// The variant's depths at small widths (heads and divisibility kept).
fm::ModelConfig narrowed(fm::ModelConfig c) {
  if (c.family == "vit" || c.family == "deit") c.embedDim = 8 * c.numHeads;
  if (c.family == "swin") c.embedDim = 8 * c.stageHeads.front();
  if (c.family == "convnext") c.dims = {8, 16, 32, 64};
  return c;
}

fm::TapInfo tapOf(const fm::ClassifierImpl& net, const std::string& name) {
  for (const auto& t : net.taps())
    if (t.name == name) return t;
  ADD_FAILURE() << name << " is not a tap";
  return {};
}

}  // namespace

TEST(StageAlignment, EveryRegisteredTransformerAndConvNeXtVariant) {
  std::set<std::string> families;
  for (const fm::Variant& v : fm::registeredVariants()) {
    const fm::ModelConfig& c = v.config;
    if (c.family != "vit" && c.family != "deit" && c.family != "swin" && c.family != "convnext") continue;
    families.insert(c.family);
    const fm::Classifier net = fm::buildModel(narrowed(c));
    const std::vector<std::string> stages = net->stages();
    ASSERT_EQ(stages.size(), 4u) << c.id;
    if (c.family == "vit" || c.family == "deit") {
      // Depth quarters, each ending at its last block; every stage at the patch grid.
      if (c.numBlocks == 12) EXPECT_EQ(stages, (std::vector<std::string>{"blocks.2", "blocks.5", "blocks.8", "blocks.11"})) << c.id;
      for (int s = 0; s < 4; ++s) {
        EXPECT_EQ(stages[s], "blocks." + std::to_string((s + 1) * c.numBlocks / 4 - 1)) << c.id;
        EXPECT_EQ(tapOf(*net, stages[s]).stride, c.patchSize) << c.id;
      }
      EXPECT_EQ(stages.back(), "blocks." + std::to_string(c.numBlocks - 1)) << c.id;
    } else {
      const std::string prefix = c.family == "swin" ? "layers." : "stages.";
      for (int s = 0; s < 4; ++s) {
        EXPECT_EQ(stages[s], prefix + std::to_string(s)) << c.id;
        const fm::TapInfo t = tapOf(*net, stages[s]);
        // The patch (4 for the ImageNet variants, 8 for the nano ConvNeXt demo), doubled per stage.
        EXPECT_EQ(t.stride, c.patchSize << s) << c.id << " " << stages[s];
        EXPECT_EQ(t.height, c.input.height / (c.patchSize << s)) << c.id << " " << stages[s];
        const int width = c.family == "swin" ? narrowed(c).embedDim << s : narrowed(c).dims[s];
        EXPECT_EQ(t.channels, width) << c.id << " " << stages[s];
        // The stage's output is the tap after its last block.
        const int depth = c.depths.at(s);
        const auto taps = net->taps();
        size_t at = 0, lastBlock = 0;
        for (size_t i = 0; i < taps.size(); ++i) {
          if (taps[i].name == stages[s]) at = i;
          if (taps[i].name == stages[s] + ".blocks." + std::to_string(depth - 1)) lastBlock = i;
        }
        EXPECT_EQ(at, lastBlock + 1) << c.id << " " << stages[s];
      }
    }
  }
  EXPECT_EQ(families, (std::set<std::string>{"vit", "deit", "swin", "convnext"}));
}

// The fixtures (shallow models: fewer than four stages where there are fewer blocks or stages),
// their stage taps against the fixture's tap shapes, and the figure's columns over all four.
TEST(StageAlignment, FixturesAndTheFigureColumns) {
  const std::map<std::string, std::vector<std::string>> expected{
      {"vit_tiny", {"blocks.0", "blocks.1", "blocks.2"}},
      {"deit_tiny", {"blocks.0", "blocks.1", "blocks.2"}},
      {"swin_tiny", {"layers.0", "layers.1"}},
      {"convnext_tiny", {"stages.0", "stages.1", "stages.2", "stages.3"}}};
  std::vector<fa::LoadedModel> models;
  for (const auto& [fixture, stages] : expected) {
    models.push_back(fs::test::fixtureModel(fixture));
    EXPECT_EQ(models.back().net->stages(), stages) << fixture;
    const auto taps = fs::test::fixtureConfig(fixture)["taps"];
    const at::Tensor x = fs::test::fixtureInput(fixture);
    for (const auto& s : stages)
      EXPECT_EQ(fa::extractTap(models.back(), x, s).sizes().vec(), taps.at(s).get<std::vector<int64_t>>()) << fixture << " " << s;
  }
  std::vector<fa::LoadedModel*> pointers;
  for (auto& m : models) pointers.push_back(&m);
  cv::Mat image(64, 64, CV_8UC3, cv::Scalar(40, 90, 160));
  cv::circle(image, {30, 34}, 12, cv::Scalar(250, 240, 30), cv::FILLED);
  const fa::FigureLayout fig = fa::buildFeatureFigure(pointers, image, {});
  ASSERT_EQ(fig.columnCount(), 4);  // the deepest model's stages
  EXPECT_EQ(fig.columnLabels.front(), "Stage 1");
  ASSERT_EQ(fig.rowCount(), 4);
  EXPECT_NO_THROW(fa::validateFigureLayout(fig));
  size_t row = 0;  // rows in the models' order: the map's (alphabetical) order
  for (const auto& [fixture, stages] : expected) {
    for (size_t c = 0; c < 4; ++c) {
      const fa::FigureCell& cell = fig.cells[row][c];
      if (c < stages.size()) {
        EXPECT_EQ(cell.kind, fa::CellKind::Tiles) << fixture << " column " << c;
        EXPECT_EQ(cell.note.rfind(stages[c] + "  ", 0), 0u) << fixture << " column " << c << ": " << cell.note;
      } else {
        EXPECT_EQ(cell.kind, fa::CellKind::Empty) << fixture << " column " << c;
      }
    }
    ++row;
  }
}
