// The Saliency view's sanity cascade (offscreen): for the selected cell's model and method on the
// current image, computed on the worker; the panel shows the cascade figure (one map per step) and
// one curve per similarity whose points are the service's numbers (those of featurescope-cli
// sanity: tests/ui/evaluation_one_truth_test.cpp); a new image drops it. A run shows its progress
// per randomised unit and can be cancelled: it stops within about one unit and the panel keeps the
// previous cascade; the mode (cascading, independent) is chosen in the panel. FS_SCREENSHOT_DIR:
// also saves the panel as sanity_cascade.png there.
#include "view_test_support.h"
#include "ui/input_panel.h"
#include "ui/qcustomplot_include.h"
#include "ui/saliency_view.h"
#include "ui/sanity_cascade_panel.h"

#include <QElapsedTimer>
#include <QLabel>
#include <QProgressBar>

#include <opencv2/core.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

namespace fs::ui {
namespace {

using test::sample;
using test::waitIdle;

// A window with resnet_fmnist in `slot` and the ankle boot, in the Saliency view with `methods`.
std::unique_ptr<MainWindow> saliencyWindow(const QStringList& methods, int& slot) {
  auto owner = test::windowWithoutModels(1400, 860);
  slot = owner->session()->addSlot(QStringLiteral("resnet_fmnist"));
  owner->inputPanel()->openFile(sample("fmnist_0000_ankle-boot.png"));
  EXPECT_TRUE(owner->showView(QStringLiteral("saliency")));
  owner->saliencyView()->setMethods(methods);
  return owner;
}

TEST(SanityCascadePanel, CascadeOfTheSelectedMapOnTheCurrentImage) {
  int slot = -1;
  const auto owner = saliencyWindow({QStringLiteral("gradient"), QStringLiteral("gradcam")}, slot);
  MainWindow& window = *owner;
  AnalysisSession* s = window.session();
  ASSERT_TRUE(waitIdle(s));
  EXPECT_EQ(window.saliencyView()->sanityPanel(), nullptr);  // on demand only
  window.saliencyView()->showSanityCascade();  // no cell selected: the first row's first method
  ASSERT_TRUE(waitIdle(s));
  ASSERT_TRUE(s->sanityCascade().has_value()) << window.errorText().toStdString();
  const auto& c = *s->sanityCascade();
  EXPECT_EQ(c.slot, slot);
  EXPECT_EQ(c.method, s->saliencyMethods().front().toStdString());
  EXPECT_EQ(c.maps.size(), c.units.size() + 1);
  SanityCascadePanel* panel = window.saliencyView()->sanityPanel();
  ASSERT_NE(panel, nullptr);
  EXPECT_TRUE(panel->isVisible());
  EXPECT_FALSE(panel->figure()->pixmap().isNull());
  EXPECT_TRUE(panel->caption().contains(QStringLiteral("resnet_fmnist"))) << panel->caption().toStdString();
  ASSERT_EQ(panel->curves()->graphCount(), 4);
  panel->curves()->replot();  // the key above the axes, clear of the curves
  EXPECT_LE(panel->curves()->legend->outerRect().bottom(), panel->curves()->axisRect()->rect().top());
  for (int k = 0; k < 4; ++k) {
    const QCPGraph* g = panel->curves()->graph(k);
    EXPECT_DOUBLE_EQ(g->data()->at(0)->value, 1.0);  // the original against itself
    int point = 1;
    for (size_t u = 0; u < c.units.size(); ++u) {
      if (!std::isfinite(c.similarity[size_t(k)][u])) continue;
      ASSERT_LT(point, g->data()->size());
      EXPECT_DOUBLE_EQ(g->data()->at(point)->key, double(u + 1));
      EXPECT_DOUBLE_EQ(g->data()->at(point)->value, c.similarity[size_t(k)][u]);
      ++point;
    }
  }
  // Randomising the whole model decorrelates Spearman of the gradient's map from the original.
  if (c.method == "gradient") EXPECT_LT(std::abs(c.similarity[0].back()), 0.9);
  if (qEnvironmentVariableIsSet("FS_SCREENSHOT_DIR"))
    panel->grab().save(qEnvironmentVariable("FS_SCREENSHOT_DIR") + QStringLiteral("/sanity_cascade.png"));

  window.inputPanel()->openFile(sample("fmnist_0001_pullover.png"));
  ASSERT_TRUE(waitIdle(s));
  EXPECT_FALSE(s->sanityCascade().has_value());
  EXPECT_TRUE(panel->figure()->pixmap().isNull());
}

// Integrated gradients with 200 steps makes each of the 8 maps of resnet_fmnist's cascade slow enough
// (about 0.4 s on the 2-core machine) to cancel after the first randomised unit. The progress the session saw bounds what the worker did:
// a cancel is seen before the next unit, so at most the unit under way (and one whose progress was
// still in the queue) follows it.
TEST(SanityCascadePanel, CancelStopsWithinAUnitAndKeepsThePreviousCascade) {
  int slot = -1;
  const auto owner = saliencyWindow({QStringLiteral("gradcam")}, slot);
  MainWindow& window = *owner;
  AnalysisSession* s = window.session();
  fs::service::SaliencyParams params = s->saliencyParams();
  params.steps = 200;  // integrated gradients (the cascade takes the Saliency view's parameters)
  s->setSaliencyMethods(s->saliencyMethods(), s->saliencyTargetName(), params);
  ASSERT_TRUE(waitIdle(s));
  window.saliencyView()->showSanityCascade();
  ASSERT_TRUE(waitIdle(s));
  ASSERT_TRUE(s->sanityCascade().has_value()) << window.errorText().toStdString();
  SanityCascadePanel* panel = window.saliencyView()->sanityPanel();
  ASSERT_NE(panel, nullptr);
  EXPECT_EQ(panel->mode(), QStringLiteral("cascading"));
  const QImage before = panel->figure()->pixmap().toImage();
  ASSERT_FALSE(before.isNull());
  const std::vector<cv::Mat> beforeMaps = s->sanityCascade()->maps;
  const size_t units = s->sanityCascade()->units.size();

  std::vector<double> seen;  // the sanity job's progress as the session reports it
  const QMetaObject::Connection watch = QObject::connect(s, &AnalysisSession::progress, panel, [&](double f, const QString& what) {
    if (what.startsWith(QLatin1String("Sanity cascade"))) seen.push_back(f);
  });
  QElapsedTimer timer;
  timer.start();
  panel->request(slot, QStringLiteral("integrated_gradients"));
  EXPECT_TRUE(panel->running());
  EXPECT_FALSE(panel->figure()->pixmap().isNull());  // the previous cascade stays on show meanwhile
  ASSERT_TRUE(QTest::qWaitFor([&] { return panel->progress()->value() > 0; }, test::kWaitMs));
  const double atCancel = *std::max_element(seen.begin(), seen.end());
  const qint64 startedMs = timer.elapsed();
  panel->cancel();
  ASSERT_TRUE(waitIdle(s));
  const qint64 cancelledMs = timer.elapsed(), stopMs = cancelledMs - startedMs;
  const double reached = *std::max_element(seen.begin(), seen.end());
  EXPECT_FALSE(panel->running());
  EXPECT_TRUE(window.errorText().contains(QStringLiteral("cancelled"))) << window.errorText().toStdString();
  EXPECT_LE(reached, atCancel + 2.0 / double(units) + 1e-9) << "cancelled at " << atCancel;
  EXPECT_LT(reached, 1.0);
  // The previous cascade (Grad-CAM) is kept, in the session and on show.
  ASSERT_TRUE(s->sanityCascade().has_value());
  EXPECT_EQ(s->sanityCascade()->method, "gradcam");
  ASSERT_EQ(s->sanityCascade()->maps.size(), beforeMaps.size());
  for (size_t k = 0; k < beforeMaps.size(); ++k)
    EXPECT_EQ(cv::norm(s->sanityCascade()->maps[k], beforeMaps[k], cv::NORM_INF), 0.0) << k;
  EXPECT_EQ(panel->figure()->pixmap().toImage(), before);
  EXPECT_TRUE(panel->caption().contains(QStringLiteral("previous"))) << panel->caption().toStdString();

  // A second run, in independent mode, completes: one progress step per unit, the full cascade's time.
  panel->setMode(QStringLiteral("independent"));
  seen.clear();
  timer.restart();
  panel->request(slot, QStringLiteral("integrated_gradients"));
  ASSERT_TRUE(waitIdle(s));
  const qint64 fullMs = timer.elapsed();
  ASSERT_TRUE(s->sanityCascade().has_value()) << window.errorText().toStdString();
  const auto& c = *s->sanityCascade();
  EXPECT_EQ(c.method, "integrated_gradients");
  EXPECT_EQ(c.mode, "independent");
  EXPECT_EQ(c.maps.size(), units + 1);
  EXPECT_EQ(std::count_if(seen.begin(), seen.end(), [](double f) { return f > 0; }), long(units));
  EXPECT_DOUBLE_EQ(seen.back(), 1.0);
  EXPECT_EQ(panel->progress()->value(), panel->progress()->maximum());
  EXPECT_TRUE(panel->caption().contains(QStringLiteral("independent"))) << panel->caption().toStdString();
  EXPECT_NE(panel->figure()->pixmap().toImage(), before);
  QObject::disconnect(watch);
  // Well before a full cascade: in work, at most 2 of the 7 units after the first (the progress bound
  // above); in time (loose, the machine is shared), the cancel ends the job sooner than a whole run.
  EXPECT_LT(stopMs, fullMs) << stopMs << " ms from the cancel to the end vs " << fullMs << " ms for a full run";
  std::printf("[ sanity cancel ] cancelled at %.3f after %lld ms, ended %lld ms later at %.3f; full cascade %lld ms\n",
              atCancel, static_cast<long long>(startedMs), static_cast<long long>(stopMs), reached,
              static_cast<long long>(fullMs));
}

}  // namespace
}  // namespace fs::ui
