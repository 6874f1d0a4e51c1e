// The Attention view (offscreen) on the vit_tiny reference model beside a ResNet: only the
// transformer is offered, the class token's attention of the last block by default (mean and one
// map per head), a clicked patch as the query, and the maps follow a new image.
#include "desktop_test_support.h"
#include "service/attention_service.h"
#include "ui/analysis_session.h"
#include "ui/attention_view.h"
#include "ui/input_panel.h"
#include "ui/main_window.h"
#include "ui/map_grid.h"
#include "ui/model_slots_panel.h"

#include <QComboBox>
#include <QTest>

#include <gtest/gtest.h>

namespace fs::ui {
namespace {

using test::source;
using test::waitIdle;

TEST(AttentionView, ClassTokenAndClickedPatchOfAViT) {
  MainWindow window;
  window.resize(1400, 860);
  window.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&window));
  AnalysisSession* s = window.session();
  for (int i = 0; i < fs::service::kMaxSlots; ++i)
    if (s->slot(i).loaded) s->removeSlot(i);
  s->addSlot(QStringLiteral("resnet_fmnist"));
  const int vit = s->addSlot(source("tests/data/reference/vit_tiny/config.json"),
                             source("tests/data/reference/vit_tiny/weights.safetensors"));
  window.inputPanel()->openFile(source("resources/samples/coffee.png"));
  ASSERT_TRUE(waitIdle(s));
  // The slot's variant list names the JSON config it holds, not another registered id.
  EXPECT_TRUE(window.slotsPanel()->variantText(vit).endsWith(QStringLiteral("vit_tiny/config.json")))
      << window.slotsPanel()->variantText(vit).toStdString();
  ASSERT_TRUE(window.showView(QStringLiteral("attention")));
  ASSERT_TRUE(waitIdle(s));
  AttentionView* view = window.attentionView();
  auto* model = view->findChildren<QComboBox*>().front();
  ASSERT_EQ(model->count(), 1);  // the ResNet has no attention
  EXPECT_EQ(model->currentData().toInt(), vit);
  ASSERT_TRUE(s->attention().has_value()) << window.errorText().toStdString();
  EXPECT_EQ(s->attention()->unit, "blocks.2.attn");  // the last block by default
  EXPECT_EQ(view->meanMap()->tileCount(), 1);
  EXPECT_EQ(view->headMaps().size(), 2u);
  EXPECT_TRUE(view->caption().contains(QStringLiteral("cls token"))) << view->caption().toStdString();

  // A clicked patch: the caption names it, the maps show that token's row.
  view->selectPatchQuery(QPointF(5, 5));  // original-image pixels: the top-left patch
  EXPECT_TRUE(view->caption().contains(QStringLiteral("patch (row 0, column 0)"))) << view->caption().toStdString();

  // Another block, then another image: recomputed.
  view->selectUnit(QStringLiteral("blocks.0.attn"));
  ASSERT_TRUE(waitIdle(s));
  EXPECT_EQ(s->attention()->unit, "blocks.0.attn");
  const std::vector<float> before = s->attention()->probs;
  window.inputPanel()->openFile(source("resources/samples/chelsea.png"));
  ASSERT_TRUE(waitIdle(s));
  ASSERT_TRUE(s->attention().has_value());
  EXPECT_NE(s->attention()->probs, before);
  EXPECT_EQ(view->headMaps().size(), 2u);
}

}  // namespace
}  // namespace fs::ui
