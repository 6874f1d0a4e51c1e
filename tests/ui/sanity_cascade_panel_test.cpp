// The Saliency view's sanity cascade (offscreen): for the selected cell's model and method on the
// current image, computed on the worker; the panel shows the cascade figure (one map per step) and
// one curve per similarity whose points are the service's numbers (those of featurescope-cli
// sanity: tests/ui/evaluation_one_truth_test.cpp); a new image drops it. FS_SCREENSHOT_DIR: also
// saves the panel as sanity_cascade.png there.
#include "view_test_support.h"
#include "ui/input_panel.h"
#include "ui/qcustomplot_include.h"
#include "ui/saliency_view.h"
#include "ui/sanity_cascade_panel.h"

#include <QLabel>

#include <cmath>

namespace fs::ui {
namespace {

using test::sample;
using test::waitIdle;

TEST(SanityCascadePanel, CascadeOfTheSelectedMapOnTheCurrentImage) {
  const auto owner = test::windowWithoutModels(1400, 860);
  MainWindow& window = *owner;
  AnalysisSession* s = window.session();
  const int slot = s->addSlot(QStringLiteral("resnet_fmnist"));
  window.inputPanel()->openFile(sample("fmnist_0000_ankle-boot.png"));
  ASSERT_TRUE(window.showView(QStringLiteral("saliency")));
  window.saliencyView()->setMethods({QStringLiteral("gradient"), QStringLiteral("gradcam")});
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

}  // namespace
}  // namespace fs::ui
