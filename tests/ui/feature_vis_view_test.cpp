// Feature visualisation in the desktop app (issue 15), offscreen, on the bundled resnet_fmnist demo:
// the channel detail's exemplars (the index file's entries; a click opens the test image with the
// receptive field marked on the input panel, cleared by the next image; the second run reads the
// cache) and its activation maximisation beside the top exemplar; the tile wall sorted by
// selectivity; the Statistics view's ERF panel with the numbers `featurescope-cli erf` prints.
#include "analysis/features/exemplars.h"
#include "desktop_test_support.h"
#include "service/feature_vis_service.h"
#include "ui/channel_detail.h"
#include "ui/erf_panel.h"
#include "ui/exemplar_panel.h"
#include "ui/feature_map_view.h"
#include "ui/feature_vis_session.h"
#include "ui/input_panel.h"
#include "ui/map_grid.h"
#include "ui/statistics_view.h"
#include "ui/tile_wall.h"

#include <QDir>
#include <QFileInfo>
#include <QPushButton>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QToolButton>

#include <cstdio>
#include <regex>

namespace fs::ui {
namespace {

using test::waitIdle;

// A window with resnet_fmnist and a test-set sample; exemplar indexes go to a fresh cache.
struct Fixture {
  QTemporaryDir cache;
  std::unique_ptr<MainWindow> window;
  AnalysisSession* s = nullptr;
  int slot = -1;
  Fixture() {
    qputenv("FEATURESCOPE_CACHE_DIR", cache.path().toUtf8());
    window = test::newWindow();
    window->resize(1500, 950);
    s = window->session();
    for (int i = 0; i < fs::service::kMaxSlots; ++i)
      if (s->slot(i).loaded) s->removeSlot(i);
    slot = s->addSlot(QStringLiteral("resnet_fmnist"));
    window->inputPanel()->openFile(test::sample("fmnist_0000_ankle-boot.png"));
    EXPECT_TRUE(waitIdle(s));
  }
  ~Fixture() { qunsetenv("FEATURESCOPE_CACHE_DIR"); }
  MapGrid* inputPicture() const {  // the input panel's original image
    for (MapGrid* g : window->inputPanel()->findChildren<MapGrid*>())
      if (g->tileCount() == 1) return g;
    return nullptr;
  }
};

TEST(FeatureVisView, ChannelExemplarsOpenTheirImageMarkedAndVisualize) {
  Fixture f;
  AnalysisSession* s = f.s;
  ASSERT_TRUE(f.window->showView(QStringLiteral("features")));
  ASSERT_TRUE(waitIdle(s));
  FeatureMapView* view = f.window->featureView();
  view->selectTap(QString::fromStdString(s->slot(f.slot).info.stages[1]));  // a field smaller than the image
  ASSERT_TRUE(waitIdle(s));
  view->setSort(QStringLiteral("mean"));  // the most active channel on this image
  const int channel = view->tiles()->channelAtDisplayPosition(0);
  view->tiles()->setSelectedChannel(channel);
  view->detail()->showChannel(channel);
  ExemplarPanel* panel = view->detail()->exemplars();
  ASSERT_GE(channel, 0);
  EXPECT_EQ(panel->thumbnailCount(), 0);
  EXPECT_TRUE(FeatureVisSession::cacheDir().startsWith(f.cache.path()));

  panel->findExemplars(QString(), 200);
  ASSERT_TRUE(waitIdle(s));
  ASSERT_EQ(panel->thumbnailCount(), 9) << f.window->errorText().toStdString();
  EXPECT_TRUE(panel->summary().contains(QStringLiteral("200 images"))) << panel->summary().toStdString();
  const fs::service::ExemplarsReady* ready = s->featureVis().exemplars(f.slot);
  ASSERT_NE(ready, nullptr);
  EXPECT_FALSE(ready->reused);
  EXPECT_TRUE(QString::fromStdString(ready->indexPath).startsWith(f.cache.path()));
  // The thumbnails are the index file's entries for the channel, best first.
  const auto index = fs::analysis::readExemplarIndex(ready->indexPath);
  const std::string tap = s->tapMaps()->tap;
  const auto& want = index.channels.at(tap).at(size_t(channel));
  const auto& got = s->featureVis().channelExemplars();
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->exemplars.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got->exemplars[i].image, want[i].image);
    EXPECT_FLOAT_EQ(got->exemplars[i].score, want[i].score);
  }

  // A click opens that test image with its receptive field marked on the input panel.
  const fs::service::ChannelExemplar first = got->exemplars.front();
  panel->thumbnail(0)->click();
  ASSERT_TRUE(waitIdle(s));
  EXPECT_TRUE(s->imageName().contains(QStringLiteral("test #%1 ").arg(first.testIndex))) << s->imageName().toStdString();
  EXPECT_EQ(s->image().cols, 28);
  MapGrid* input = f.inputPicture();
  ASSERT_NE(input, nullptr);
  ASSERT_TRUE(input->mark().has_value());
  EXPECT_DOUBLE_EQ(input->mark()->left(), first.originalBox[0]);
  EXPECT_DOUBLE_EQ(input->mark()->bottom(), first.originalBox[3]);
  EXPECT_GT(input->mark()->width(), 0.0);
  EXPECT_LT(input->mark()->width(), 28.0);
  EXPECT_EQ(panel->thumbnailCount(), 9);  // the same channel's exemplars stay

  // Visualize: the optimised image beside the top exemplar's score.
  panel->visualizeButton()->click();
  ASSERT_TRUE(waitIdle(s));
  EXPECT_FALSE(panel->visualizationImage().isNull()) << f.window->errorText().toStdString();
  EXPECT_TRUE(panel->visualizationText().contains(QStringLiteral("Top exemplar's max"))) << panel->visualizationText().toStdString();
  QTest::qWait(100);
  view->grab().save(QStringLiteral(FS_BINARY_DIR "/test-data/feature_vis_features.png"));
  f.window->grab().save(QStringLiteral(FS_BINARY_DIR "/test-data/feature_vis_window.png"));

  // Another image clears the mark; the same index again is read from the cache.
  f.window->inputPanel()->openFile(test::sample("fmnist_0001_pullover.png"));
  ASSERT_TRUE(waitIdle(s));
  EXPECT_FALSE(input->mark().has_value());
  panel->findExemplars(QString(), 200);
  ASSERT_TRUE(waitIdle(s));
  ASSERT_NE(s->featureVis().exemplars(f.slot), nullptr);
  EXPECT_TRUE(s->featureVis().exemplars(f.slot)->reused);
  EXPECT_TRUE(panel->summary().contains(QStringLiteral("cache"))) << panel->summary().toStdString();
}

TEST(FeatureVisView, FolderExemplarOpensItsFileMarked) {
  Fixture f;
  AnalysisSession* s = f.s;
  ASSERT_TRUE(f.window->showView(QStringLiteral("features")));
  ASSERT_TRUE(waitIdle(s));
  ExemplarPanel* panel = f.window->featureView()->detail()->exemplars();
  panel->findExemplars(test::source("resources/samples"), 0);
  ASSERT_TRUE(waitIdle(s));
  ASSERT_GT(panel->thumbnailCount(), 0) << f.window->errorText().toStdString();
  const fs::service::ChannelExemplar e = s->featureVis().channelExemplars()->exemplars.front();
  panel->thumbnail(0)->click();
  ASSERT_TRUE(waitIdle(s));
  EXPECT_EQ(QFileInfo(s->imagePath()), QFileInfo(QString::fromStdString(e.path)));
  ASSERT_TRUE(f.inputPicture()->mark().has_value());
  EXPECT_DOUBLE_EQ(f.inputPicture()->mark()->right(), e.originalBox[2]);
}

TEST(FeatureVisView, TileWallSortsBySelectivity) {
  Fixture f;
  AnalysisSession* s = f.s;
  ASSERT_TRUE(f.window->showView(QStringLiteral("features")));
  ASSERT_TRUE(waitIdle(s));
  FeatureMapView* view = f.window->featureView();
  s->featureVis().setDataset(QString(), 300);
  view->setSort(QStringLiteral("selectivity"));
  ASSERT_TRUE(waitIdle(s));
  const auto* sel = s->featureVis().selectivity(f.slot, QString::fromStdString(s->tapMaps()->tap));
  ASSERT_NE(sel, nullptr) << f.window->errorText().toStdString();
  EXPECT_EQ(sel->images, 300);
  EXPECT_TRUE(view->sortNote().contains(QStringLiteral("Morcos et al. 2018"))) << view->sortNote().toStdString();
  TileWall* tiles = view->tiles();
  ASSERT_EQ(size_t(tiles->tileCount()), sel->values.size());
  for (int pos = 1; pos < tiles->tileCount(); ++pos)
    EXPECT_GE(sel->values[size_t(tiles->channelAtDisplayPosition(pos - 1))],
              sel->values[size_t(tiles->channelAtDisplayPosition(pos))]);
  QTest::qWait(100);
  view->grab().save(QStringLiteral(FS_BINARY_DIR "/test-data/feature_vis_selectivity.png"));
  // A folder has no labels: the lifetime sparseness.
  s->featureVis().setDataset(test::source("resources/samples"), 0);
  ASSERT_TRUE(waitIdle(s));
  EXPECT_TRUE(view->sortNote().contains(QStringLiteral("lifetime sparseness"))) << view->sortNote().toStdString();
}

TEST(FeatureVisView, StatisticsErfPanelShowsTheCliNumbers) {
  Fixture f;
  AnalysisSession* s = f.s;
  ASSERT_TRUE(f.window->showView(QStringLiteral("stats")));
  ASSERT_TRUE(waitIdle(s));
  ErfPanel* panel = f.window->statisticsView()->erfPanel();
  EXPECT_EQ(panel->cellCount(), 0);
  auto* spin = panel->findChild<QSpinBox*>();
  ASSERT_NE(spin, nullptr);
  spin->setValue(8);
  panel->compute();
  ASSERT_TRUE(waitIdle(s));
  const auto& stages = s->slot(f.slot).info.stages;
  ASSERT_EQ(panel->cellCount(), int(stages.size())) << f.window->errorText().toStdString();
  EXPECT_FALSE(panel->cellImage(0).isNull());
  QTest::qWait(100);  // layouts settle
  f.window->statisticsView()->grab().save(QStringLiteral(FS_BINARY_DIR "/test-data/feature_vis_stats.png"));

  // featurescope-cli erf over the same images prints the same radii.
  QTemporaryDir out;
  const std::string cmd = std::string(FS_CLI_PATH) + " erf resnet_fmnist --dataset fashion-mnist --limit 8 --out " +
                          out.filePath(QStringLiteral("erf.png")).toStdString() + " 2>/dev/null";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string text;
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe)) text += buf;
  ASSERT_EQ(::pclose(pipe), 0) << text;
  for (int i = 0; i < panel->cellCount(); ++i) {
    const std::regex line("resnet_fmnist " + stages[size_t(i)] + ": TRF [^,]+, r50 ([0-9.]+) px, r90 ([0-9.]+) px");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(text, m, line)) << text;
    const QString cell = panel->cellText(i);
    EXPECT_TRUE(cell.contains(QStringLiteral("r50 %1 px").arg(QString::fromStdString(m[1].str())))) << cell.toStdString();
    EXPECT_TRUE(cell.contains(QStringLiteral("r90 %1 px").arg(QString::fromStdString(m[2].str())))) << cell.toStdString();
  }
}

}  // namespace
}  // namespace fs::ui
