// The Evaluate view (offscreen): resnet_fmnist beside the vit_tiny reference model, gradient and
// attention rollout (which applies to the ViT only) on 6 Fashion-MNIST test images. The table has a
// row per model x applicable method and a column per metric key, its cells are the session's
// statistics as "mean [lo, hi]", the chart draws the selected column's means with CI whiskers, a
// clicked cell lists the images where that method did worst (in the metric's direction), and one of
// them opens in the session and in the Saliency or Compare view. FS_SCREENSHOT_DIR: also saves the
// view as evaluate.png there (the README's picture).
#include "view_test_support.h"
#include "service/session.h"
#include "ui/evaluate_view.h"
#include "ui/input_panel.h"
#include "ui/qcustomplot_include.h"

#include <QListWidget>
#include <QTableWidget>

namespace fs::ui {
namespace {

using test::source;
using test::waitIdle;

TEST(EvaluateView, ScorecardTableChartAndWorstImages) {
  const auto owner = test::windowWithoutModels(1500, 900);
  MainWindow& window = *owner;
  AnalysisSession* s = window.session();
  const int resnet = s->addSlot(QStringLiteral("resnet_fmnist"));
  const int vit = s->addSlot(source("tests/data/reference/vit_tiny/config.json"),
                             source("tests/data/reference/vit_tiny/weights.safetensors"));
  ASSERT_TRUE(waitIdle(s));
  ASSERT_TRUE(window.showView(QStringLiteral("evaluate")));
  EXPECT_EQ(window.currentViewName(), QStringLiteral("evaluate"));
  auto* view = window.findChild<EvaluateView*>();
  ASSERT_NE(view, nullptr);

  view->setChoice({resnet, vit}, {QStringLiteral("gradient"), QStringLiteral("attention_rollout")},
                  {QStringLiteral("deletion"), QStringLiteral("gini")});
  view->setFashionMnist(6);
  const auto req = view->request();
  EXPECT_EQ(req.slots, (std::vector<int>{resnet, vit}));
  EXPECT_EQ(req.limit, 6);
  EXPECT_TRUE(req.imagesDir.empty());
  EXPECT_EQ(req.curveSteps, 50);  // evaluate's defaults: --curve-steps 50, --substrate rise, --seed 0
  EXPECT_EQ(req.substrate, "rise");
  EXPECT_EQ(req.seed, 0u);
  view->run();
  ASSERT_TRUE(waitIdle(s));
  ASSERT_TRUE(s->evaluation().has_value()) << window.errorText().toStdString();
  const auto& res = *s->evaluation();
  ASSERT_EQ(res.models.size(), 2u);
  EXPECT_EQ(res.models[0].skipped, std::vector<std::string>{"attention_rollout"});

  // Rows: resnet x gradient, vit x gradient, vit x attention rollout; columns: deletion_auc, gini.
  QTableWidget* table = view->table();
  ASSERT_EQ(table->rowCount(), 3);
  ASSERT_EQ(table->columnCount(), 2);
  EXPECT_EQ(table->horizontalHeaderItem(0)->text(), QStringLiteral("deletion_auc ↓"));
  EXPECT_EQ(table->horizontalHeaderItem(1)->text(), QStringLiteral("gini ↑"));
  EXPECT_EQ(table->verticalHeaderItem(2)->text(), QStringLiteral("vit_tiny · attention_rollout"));  // a JSON config is named by its folder
  const auto& st = res.models[1].stats[1][1];  // vit, attention rollout, gini
  EXPECT_EQ(table->item(2, 1)->text(), QStringLiteral("%1 [%2, %3]")
                                           .arg(QString::number(st.mean, 'g', 4), QString::number(st.ciLow, 'g', 4),
                                                QString::number(st.ciHigh, 'g', 4)));
  EXPECT_TRUE(table->item(2, 1)->toolTip().startsWith(QStringLiteral("rank %1 of 2").arg(st.rank)));

  // The chart: one bar per row with CI whiskers, for the first column, then the clicked one.
  auto* bars = qobject_cast<QCPBars*>(view->chart()->plottable(0));
  ASSERT_NE(bars, nullptr);
  ASSERT_EQ(bars->data()->size(), 3);
  EXPECT_DOUBLE_EQ(bars->data()->at(0)->value, res.models[0].stats[0][0].mean);
  view->selectCell(2, 1);
  bars = qobject_cast<QCPBars*>(view->chart()->plottable(0));
  EXPECT_DOUBLE_EQ(bars->data()->at(2)->value, st.mean);
  auto* whiskers = qobject_cast<QCPErrorBars*>(view->chart()->plottable(1));
  ASSERT_NE(whiskers, nullptr);
  EXPECT_NEAR(whiskers->data()->at(2).errorMinus, st.mean - st.ciLow, 1e-12);
  EXPECT_NEAR(whiskers->data()->at(2).errorPlus, st.ciHigh - st.mean, 1e-12);

  // Worst images of attention rollout on gini (higher is better): the lowest first.
  QListWidget* worst = view->worstList();
  ASSERT_EQ(worst->count(), 6);
  double lowest = 1e9;
  int lowestIndex = -1;
  for (const auto& img : res.models[1].images)
    if (img.values[1][1] < lowest) lowest = img.values[1][1], lowestIndex = img.testIndex;
  EXPECT_TRUE(worst->item(0)->text().startsWith(QStringLiteral("test image %1 ").arg(lowestIndex)))
      << worst->item(0)->text().toStdString();

  if (qEnvironmentVariableIsSet("FS_SCREENSHOT_DIR"))
    window.grab().save(qEnvironmentVariable("FS_SCREENSHOT_DIR") + QStringLiteral("/evaluate.png"));

  // Open it in the Saliency view: the test image is the session's image, the method is in the matrix.
  view->openWorst(0, QStringLiteral("saliency"));
  ASSERT_TRUE(waitIdle(s));
  EXPECT_EQ(window.currentViewName(), QStringLiteral("saliency"));
  EXPECT_TRUE(s->imageName().startsWith(QStringLiteral("fashion-mnist test #%1 ").arg(lowestIndex)))
      << s->imageName().toStdString();
  EXPECT_TRUE(s->saliencyMethods().contains(QStringLiteral("attention_rollout")));
  // ... and the second worst in the Compare view, with the method as the compare method.
  view->openWorst(1, QStringLiteral("compare"));
  ASSERT_TRUE(waitIdle(s));
  EXPECT_EQ(window.currentViewName(), QStringLiteral("compare"));
  EXPECT_EQ(s->compareMethod(), QStringLiteral("attention_rollout"));
}

// Cancel stops the run (after the image it is on): no scorecard, the banner says so; the open
// image's folder as the data.
TEST(EvaluateView, CancelAndTheOpenFolder) {
  const auto owner = test::windowWithoutModels(1200, 800);
  MainWindow& window = *owner;
  AnalysisSession* s = window.session();
  const int resnet = s->addSlot(QStringLiteral("resnet_fmnist"));
  window.inputPanel()->openFile(test::sample("fmnist_0002_trouser.png"));
  ASSERT_TRUE(waitIdle(s));
  auto* view = window.findChild<EvaluateView*>();
  view->setChoice({resnet}, {QStringLiteral("gradient")}, {QStringLiteral("deletion")});
  view->setOpenFolder();
  EXPECT_EQ(QString::fromStdString(view->request().imagesDir), source("resources/samples"));
  EXPECT_EQ(view->request().limit, 0);

  view->setFashionMnist(2000);
  bool started = false;
  QObject::connect(s, &AnalysisSession::progress, [&](double f, const QString& what) {
    if (what.startsWith(QLatin1String("Scorecard")) && f > 0) started = true;
  });
  view->run();
  ASSERT_TRUE(QTest::qWaitFor([&] { return started; }, 120000));
  view->cancel();
  ASSERT_TRUE(waitIdle(s));
  EXPECT_FALSE(s->evaluation().has_value());
  EXPECT_TRUE(window.errorText().contains(QStringLiteral("cancelled"))) << window.errorText().toStdString();
  EXPECT_EQ(view->table()->rowCount(), 0);
}

// The scorecard's settings (evaluate --curve-steps, --substrate, --seed, and the workers) go into the request and
// through the worker to the scorecard: the view's numbers are those of the service with them
// (and of featurescope-cli evaluate: tests/ui/evaluation_one_truth_test.cpp).
TEST(EvaluateView, SettingsReachTheScorecard) {
  const auto owner = test::windowWithoutModels(1200, 800);
  MainWindow& window = *owner;
  AnalysisSession* s = window.session();
  const int resnet = s->addSlot(QStringLiteral("resnet_fmnist"));
  ASSERT_TRUE(waitIdle(s));
  auto* view = window.findChild<EvaluateView*>();
  view->setChoice({resnet}, {QStringLiteral("gradient")}, {QStringLiteral("deletion"), QStringLiteral("insertion")});
  view->setFashionMnist(3);
  view->setSettings(12, QStringLiteral("blur"), 7);
  view->setSettings(12, QStringLiteral("no such substrate"), 7);  // left as it was
  EXPECT_EQ(view->request().workers, 0);  // Auto
  view->setWorkers(1);
  const auto req = view->request();
  EXPECT_EQ(req.workers, 1);
  EXPECT_EQ(req.curveSteps, 12);
  EXPECT_EQ(req.substrate, "blur");
  EXPECT_EQ(req.seed, 7u);
  view->run();
  ASSERT_TRUE(waitIdle(s));
  ASSERT_TRUE(s->evaluation().has_value()) << window.errorText().toStdString();
  const auto& shown = s->evaluation()->models.at(0);

  fs::service::Session direct;
  direct.slots().load(resnet, "resnet_fmnist", "");
  const auto expected = direct.evaluation().run(req).models.at(0);
  fs::service::EvaluationRequest rise = req;
  rise.substrate = "rise";
  const auto other = direct.evaluation().run(rise).models.at(0);
  ASSERT_EQ(shown.keys, expected.keys);
  for (size_t k = 0; k < shown.keys.size(); ++k) {
    EXPECT_DOUBLE_EQ(shown.stats[0][k].mean, expected.stats[0][k].mean) << shown.keys[k];
    EXPECT_DOUBLE_EQ(shown.stats[0][k].ciLow, expected.stats[0][k].ciLow) << shown.keys[k];
    EXPECT_DOUBLE_EQ(shown.stats[0][k].ciHigh, expected.stats[0][k].ciHigh) << shown.keys[k];
  }
  // blur replaces rise's black deletion substrate: deletion changes, insertion (from a blur) does not.
  EXPECT_NE(shown.stats[0][0].mean, other.stats[0][0].mean);
  EXPECT_DOUBLE_EQ(shown.stats[0][1].mean, other.stats[0][1].mean);
}

TEST(EvaluateView, NamedOnTheCommandLine) {
  MainWindow window;
  EXPECT_TRUE(window.showView(QStringLiteral("evaluate")));
  EXPECT_EQ(window.currentViewName(), QStringLiteral("evaluate"));
}

}  // namespace
}  // namespace fs::ui
