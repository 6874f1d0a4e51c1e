// Saving the Evaluate view's scorecard (ui/scorecard_files.h): the files `featurescope-cli evaluate
// --out ... --figure FIG` leaves (each model's scorecard JSON and CSVs beside the figure, and its
// manifest), the figure byte-identical to the one `featurescope-cli scorecard-figure` draws from the
// saved scorecard, the saved statistics equal to the view's. A bad path is a clear error that leaves
// no file; a later run's result removes the earlier run's files.
#include "view_test_support.h"
#include "ui/evaluate_view.h"
#include "ui/scorecard_files.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

namespace fs::ui {
namespace {

using test::waitIdle;

QByteArray readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QJsonObject jsonFile(const QString& path) { return QJsonDocument::fromJson(readAll(path)).object(); }

// The view's scorecard of resnet_fmnist's input gradient on 3 test images (deletion, Gini).
EvaluateView* runScorecard(MainWindow& window, int slot) {
  auto* view = window.findChild<EvaluateView*>();
  view->setChoice({slot}, {QStringLiteral("gradient")}, {QStringLiteral("deletion"), QStringLiteral("gini")});
  view->setFashionMnist(3);
  view->run();
  EXPECT_TRUE(waitIdle(window.session()));
  EXPECT_TRUE(window.session()->evaluation().has_value()) << window.errorText().toStdString();
  return view;
}

// A window with resnet_fmnist loaded (its slot in `slot`) and that scorecard run once.
std::unique_ptr<MainWindow> windowWithScorecard(int& slot) {
  auto window = test::windowWithoutModels(1200, 800);
  slot = window->session()->addSlot(QStringLiteral("resnet_fmnist"));
  EXPECT_TRUE(waitIdle(window->session()));
  runScorecard(*window, slot);
  return window;
}

TEST(ScorecardSave, WritesWhatEvaluateWritesAndTheCliDrawsTheSameFigure) {
  int resnet = -1;
  const auto owner = windowWithScorecard(resnet);
  MainWindow& window = *owner;
  AnalysisSession* s = window.session();
  auto* view = window.findChild<EvaluateView*>();
  ASSERT_TRUE(s->evaluation().has_value());
  QTemporaryDir dir;
  const QString fig = dir.filePath(QStringLiteral("card.svg"));
  ASSERT_TRUE(view->save(fig)) << window.errorText().toStdString();

  const QString stem = dir.filePath(QStringLiteral("card.slot%1.resnet_fmnist").arg(resnet + 1));
  for (const char* suffix : {".json", ".rows.csv", ".summary.csv", ".agreement.csv"})
    EXPECT_TRUE(QFile::exists(stem + QLatin1String(suffix))) << suffix;
  const QJsonObject manifest = jsonFile(dir.filePath(QStringLiteral("card.manifest.json")));
  EXPECT_EQ(manifest[QStringLiteral("tool")].toString(), QStringLiteral("featurescope Evaluate view"));
  const QJsonObject entry = manifest[QStringLiteral("scorecards")].toArray().at(0).toObject();
  EXPECT_EQ(entry[QStringLiteral("scorecard")].toString(), stem + QStringLiteral(".json"));
  EXPECT_EQ(entry[QStringLiteral("scorecard_sha256")].toString().toLatin1(),
            QCryptographicHash::hash(readAll(stem + QStringLiteral(".json")), QCryptographicHash::Sha256).toHex());

  // The saved statistics are the view's, to the bit.
  const auto& shown = s->evaluation()->models.at(0);
  const QJsonObject stats = jsonFile(stem + QStringLiteral(".json"))[QStringLiteral("aggregate")]
                                .toObject()[QStringLiteral("statistics")]
                                .toObject()[QStringLiteral("methods")]
                                .toObject()[QStringLiteral("gradient")]
                                .toObject();
  ASSERT_EQ(shown.keys.size(), 2u);
  for (size_t k = 0; k < shown.keys.size(); ++k) {
    const QJsonObject st = stats[QString::fromStdString(shown.keys[k])].toObject();
    EXPECT_DOUBLE_EQ(st[QStringLiteral("mean")].toDouble(), shown.stats[0][k].mean) << shown.keys[k];
    EXPECT_DOUBLE_EQ(st[QStringLiteral("ci_low")].toDouble(), shown.stats[0][k].ciLow) << shown.keys[k];
    EXPECT_DOUBLE_EQ(st[QStringLiteral("ci_high")].toDouble(), shown.stats[0][k].ciHigh) << shown.keys[k];
  }

  // featurescope-cli draws the same figure from the saved scorecard.
  QProcess cli;
  const QString cliFig = dir.filePath(QStringLiteral("cli.svg"));
  cli.start(QStringLiteral(FS_CLI_PATH),
            {QStringLiteral("scorecard-figure"), stem + QStringLiteral(".json"), QStringLiteral("--out"), cliFig});
  ASSERT_TRUE(cli.waitForFinished(120000) && cli.exitCode() == 0) << cli.readAllStandardError().toStdString();
  const QByteArray ours = readAll(fig);
  EXPECT_GT(ours.size(), 1000);
  EXPECT_EQ(ours, readAll(cliFig));

  // A PNG at the resolution set beside Save… is the one scorecard-figure --dpi draws, to the byte.
  view->setSaveDpi(150);
  const QString png = dir.filePath(QStringLiteral("card150.png"));
  ASSERT_TRUE(view->save(png)) << window.errorText().toStdString();
  EXPECT_EQ(jsonFile(dir.filePath(QStringLiteral("card150.manifest.json")))[QStringLiteral("dpi")].toDouble(), 150.0);
  const QString cliPng = dir.filePath(QStringLiteral("cli150.png"));
  cli.start(QStringLiteral(FS_CLI_PATH), {QStringLiteral("scorecard-figure"),
                                          dir.filePath(QStringLiteral("card150.slot%1.resnet_fmnist.json").arg(resnet + 1)),
                                          QStringLiteral("--out"), cliPng, QStringLiteral("--dpi"), QStringLiteral("150")});
  ASSERT_TRUE(cli.waitForFinished(120000) && cli.exitCode() == 0) << cli.readAllStandardError().toStdString();
  const QImage image(png);
  EXPECT_EQ(image.dotsPerMeterX(), qRound(150 / 0.0254));
  EXPECT_EQ(readAll(png), readAll(cliPng));
}

TEST(ScorecardSave, BadPathsAreClearErrorsThatLeaveNoFile) {
  int resnet = -1;
  const auto owner = windowWithScorecard(resnet);
  MainWindow& window = *owner;
  auto* view = window.findChild<EvaluateView*>();
  QTemporaryDir dir;
  EXPECT_FALSE(view->save(dir.filePath(QStringLiteral("card.txt"))));
  EXPECT_TRUE(window.errorText().contains(QStringLiteral("card.txt"))) << window.errorText().toStdString();
  EXPECT_TRUE(QDir(dir.path()).isEmpty());
  // A folder that does not exist: the first copy fails, naming its file; nothing is left.
  const QString missing = dir.filePath(QStringLiteral("no/such/folder/card.png"));
  EXPECT_FALSE(view->save(missing));
  EXPECT_TRUE(window.errorText().contains(dir.filePath(QStringLiteral("no/such/folder")))) << window.errorText().toStdString();
  EXPECT_TRUE(QDir(dir.path()).isEmpty());
  // A resolution outside the CLI's 10-1200 dpi (the view's box keeps to it; the function checks).
  const QString coarse = dir.filePath(QStringLiteral("card.png"));
  try {
    saveScorecard(*window.session()->evaluation(), coarse, 5);
    ADD_FAILURE() << "5 dpi accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(coarse.toStdString()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("10-1200"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(QDir(dir.path()).isEmpty());
}

TEST(ScorecardSave, ALaterResultRemovesTheEarlierRunsFiles) {
  int resnet = -1;
  const auto owner = windowWithScorecard(resnet);
  MainWindow& window = *owner;
  AnalysisSession* s = window.session();
  ASSERT_TRUE(s->evaluation().has_value());
  const QString first = QString::fromStdString(s->evaluation()->models.at(0).scorecardPath);
  ASSERT_TRUE(QFile::exists(first)) << first.toStdString();
  runScorecard(window, resnet);
  const QString second = QString::fromStdString(s->evaluation()->models.at(0).scorecardPath);
  EXPECT_NE(QFileInfo(first).absolutePath(), QFileInfo(second).absolutePath());
  EXPECT_FALSE(QFileInfo::exists(QFileInfo(first).absolutePath()));
  EXPECT_TRUE(QFile::exists(second));
}

}  // namespace
}  // namespace fs::ui
