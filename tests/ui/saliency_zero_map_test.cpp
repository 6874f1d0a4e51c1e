// The Saliency view on a ViT: Grad-CAM at the last block is exactly zero (only the prefix tokens reach
// the head), and the map's label says so in words, with the reason in its tooltip; at the default CAM
// tap (the last block's attention input) the label carries no warning.
#include "desktop_test_support.h"
#include "ui/input_panel.h"
#include "ui/saliency_view.h"

namespace fs::ui {
namespace {

using test::sample;
using test::waitIdle;

TEST(SaliencyZeroMap, LastViTBlockSaysWhyItsMapIsEmpty) {
  MainWindow window;
  window.resize(1400, 860);
  window.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&window));
  AnalysisSession* s = window.session();
  for (int i = 0; i < fs::service::kMaxSlots; ++i)
    if (s->slot(i).loaded) s->removeSlot(i);
  s->addSlot(QStringLiteral("vit_fmnist"));
  window.inputPanel()->openFile(sample("fmnist_0000_ankle-boot.png"));
  ASSERT_TRUE(waitIdle(s));
  ASSERT_TRUE(window.showView(QStringLiteral("saliency")));
  SaliencyView* view = window.saliencyView();
  fs::service::SaliencyParams params;
  params.tap = "blocks.3";
  view->setParameters({QStringLiteral("gradcam")}, QString(), params);
  ASSERT_TRUE(waitIdle(s));
  ASSERT_TRUE(QTest::qWaitFor([&] { return view->metricsText(0, 0).contains(QStringLiteral("ms")); }, 60000));
  EXPECT_TRUE(view->metricsText(0, 0).contains(QStringLiteral("zero: only the prefix tokens reach the head")))
      << view->metricsText(0, 0).toStdString();

  params.tap = "blocks.3.norm1";
  view->setParameters({QStringLiteral("gradcam")}, QString(), params);
  ASSERT_TRUE(waitIdle(s));
  ASSERT_TRUE(QTest::qWaitFor([&] { return !view->metricsText(0, 0).contains(QStringLiteral("⚠")); }, 60000))
      << view->metricsText(0, 0).toStdString();
}

}  // namespace
}  // namespace fs::ui
