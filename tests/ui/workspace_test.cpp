// Workspaces (offscreen): save -> open round trip of every field, moved / changed checkpoints
// reported and not loaded, malformed files refused with the state kept, failed saves leave no file.
#include "desktop_test_support.h"
#include "ui/display_settings_panel.h"
#include "ui/input_panel.h"
#include "ui/model_slots_panel.h"

#include <QComboBox>
#include <QDir>
#include <QDropEvent>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMimeData>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <gtest/gtest.h>

using namespace fs::ui;
using namespace fs::ui::test;

namespace {

class WorkspaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.isValid());
    QDir(dir_.path()).mkdir(QStringLiteral("images"));
    QDir(dir_.path()).mkdir(QStringLiteral("ckpt"));
    for (const char* f : {"coffee.png", "rocket.jpg"})
      ASSERT_TRUE(QFile::copy(sample(f), dir_.filePath(QStringLiteral("images/") + QLatin1String(f))));
    checkpoint_ = dir_.filePath(QStringLiteral("ckpt/resnet_copy.safetensors"));
    ASSERT_TRUE(QFile::copy(source("resources/models/resnet_fmnist.safetensors"), checkpoint_));
    path_ = dir_.filePath(QStringLiteral("study.featurescope"));
  }

  // A window with a user checkpoint, a bundled one, a folder, and every setting off its default.
  std::unique_ptr<MainWindow> configuredWindow() {
    auto w = newWindow();
    AnalysisSession* s = w->session();
    s->addSlot(QStringLiteral("resnet_fmnist"), checkpoint_);
    s->addSlot(QStringLiteral("convmlp_fmnist"));
    w->inputPanel()->openFolder(dir_.filePath(QStringLiteral("images")),
                                dir_.filePath(QStringLiteral("images/rocket.jpg")));
    EXPECT_TRUE(waitIdle(s));
    Workspace settings;
    settings.colormap = QStringLiteral("magma");
    settings.sign = QStringLiteral("absolute");
    settings.norm = QStringLiteral("channel");
    settings.clipPercentile = 98.0;
    settings.alpha = 0.3;
    settings.compareChannels = 6;
    settings.compareRank = QStringLiteral("mean");
    settings.compareMethod = QStringLiteral("gradient");
    settings.saliencyMethods = {QStringLiteral("gradcam"), QStringLiteral("smoothgrad")};
    settings.saliencyTarget = QStringLiteral("Bag");
    settings.tap = QStringLiteral("layer3");
    settings.parameters.samples = 4;
    settings.parameters.sigma = 0.2;
    settings.parameters.steps = 16;
    settings.parameters.baseline = "blur";
    settings.parameters.window = 12;
    settings.parameters.stride = 6;
    settings.view = QStringLiteral("features");
    settings.slots = w->captureWorkspace().slots;
    settings.image = s->imagePath();
    settings.folder = w->inputPanel()->folder();
    EXPECT_TRUE(w->applyWorkspace(settings).isEmpty());  // the same calls the widgets make
    EXPECT_TRUE(waitIdle(s));
    return w;
  }

  QTemporaryDir dir_;
  QString checkpoint_, path_;
};

TEST_F(WorkspaceTest, SaveThenOpenRestoresEveryField) {
  auto a = configuredWindow();
  const Workspace saved = a->captureWorkspace();
  ASSERT_EQ(saved.slots.size(), 2u) << a->errorText().toStdString();
  EXPECT_EQ(saved.slots[0].weights, checkpoint_);
  EXPECT_EQ(saved.slots[0].sha256.size(), 64);
  EXPECT_EQ(saved.image, dir_.filePath(QStringLiteral("images/rocket.jpg")));
  EXPECT_EQ(saved.colormap, QStringLiteral("magma"));
  EXPECT_EQ(saved.view, QStringLiteral("features"));
  ASSERT_TRUE(a->saveWorkspace(path_)) << a->errorText().toStdString();

  // The file: versioned, paths inside the workspace's folder relative, others absolute.
  QFile f(path_);
  ASSERT_TRUE(f.open(QIODevice::ReadOnly));
  const QJsonObject root = QJsonDocument::fromJson(f.readAll()).object();
  EXPECT_EQ(root[QStringLiteral("format")].toString(), QStringLiteral("featurescope-workspace"));
  EXPECT_EQ(root[QStringLiteral("version")].toInt(), 2);
  const QJsonObject params = root[QStringLiteral("saliency")].toObject()[QStringLiteral("parameters")].toObject();
  EXPECT_EQ(params[QStringLiteral("steps")].toDouble(), 16.0);  // the one parameter table's names
  EXPECT_EQ(params[QStringLiteral("baseline")].toString(), QStringLiteral("blur"));
  EXPECT_EQ(root[QStringLiteral("input")].toObject()[QStringLiteral("image")].toString(), QStringLiteral("images/rocket.jpg"));
  const QJsonArray models = root[QStringLiteral("models")].toArray();
  ASSERT_EQ(models.size(), 2);
  EXPECT_EQ(models[0].toObject()[QStringLiteral("weights")].toString(), QStringLiteral("ckpt/resnet_copy.safetensors"));
  EXPECT_TRUE(QDir::isAbsolutePath(models[1].toObject()[QStringLiteral("weights")].toString()));
  EXPECT_EQ(readWorkspace(path_), saved);

  auto b = newWindow();
  ASSERT_TRUE(b->openWorkspace(path_));
  ASSERT_TRUE(waitIdle(b->session()));
  EXPECT_TRUE(b->errorText().isEmpty()) << b->errorText().toStdString();
  EXPECT_EQ(b->captureWorkspace(), saved);
  EXPECT_EQ(slotIds(b->session()), (std::vector<std::string>{"resnet_fmnist", "convmlp_fmnist"}));
  EXPECT_EQ(b->currentViewName(), QStringLiteral("features"));
  EXPECT_EQ(b->inputPanel()->folderImages().size(), 2);
  EXPECT_EQ(b->findChild<DisplaySettingsPanel*>()->colormapBox()->currentText(), QStringLiteral("magma"));
  EXPECT_TRUE(b->windowTitle().contains(QStringLiteral("study.featurescope")));

  // The command line opens it too, and so does a drop on the window.
  auto c = newWindow();
  c->openLaunch(planLaunch(parse({path_.toStdString()})));
  ASSERT_TRUE(waitIdle(c->session()));
  EXPECT_EQ(c->captureWorkspace(), saved);
  auto d = newWindow();
  QMimeData mime;
  mime.setUrls({QUrl::fromLocalFile(path_)});
  QDragEnterEvent enter(QPoint(300, 300), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(d.get(), &enter);
  ASSERT_TRUE(enter.isAccepted());
  QDropEvent drop(QPointF(300, 300), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(d.get(), &drop);
  ASSERT_TRUE(waitIdle(d->session()));
  EXPECT_EQ(d->captureWorkspace(), saved);
}

TEST_F(WorkspaceTest, ChangedCheckpointIsReportedAndNotLoaded) {
  ASSERT_TRUE(configuredWindow()->saveWorkspace(path_));
  {
    QFile f(checkpoint_);
    ASSERT_TRUE(f.open(QIODevice::Append));
    f.write("appended");  // still loadable perhaps, but not the weights the workspace recorded
  }
  auto b = newWindow();
  ASSERT_TRUE(b->openWorkspace(path_));
  ASSERT_TRUE(waitIdle(b->session()));
  const QString report = b->errorText();
  EXPECT_TRUE(report.contains(checkpoint_)) << report.toStdString();
  EXPECT_TRUE(report.contains(QStringLiteral("has changed"))) << report.toStdString();
  EXPECT_TRUE(report.contains(readWorkspace(path_).slots[0].sha256)) << report.toStdString();
  EXPECT_EQ(slotIds(b->session()), (std::vector<std::string>{"convmlp_fmnist"}));
  for (int i : b->session()->loadedSlots())
    EXPECT_NE(QString::fromStdString(b->session()->slot(i).info.weightsPath), checkpoint_);
  EXPECT_EQ(b->session()->imageName(), QStringLiteral("rocket.jpg"));  // the rest still opened
}

TEST_F(WorkspaceTest, MissingCheckpointIsReportedAndNotLoaded) {
  ASSERT_TRUE(configuredWindow()->saveWorkspace(path_));
  ASSERT_TRUE(QFile::rename(checkpoint_, checkpoint_ + QStringLiteral(".moved")));
  auto b = newWindow();
  ASSERT_TRUE(b->openWorkspace(path_));
  ASSERT_TRUE(waitIdle(b->session()));
  const QString report = b->errorText();
  EXPECT_TRUE(report.contains(checkpoint_ + QStringLiteral(": the checkpoint is missing"))) << report.toStdString();
  EXPECT_EQ(slotIds(b->session()), (std::vector<std::string>{"convmlp_fmnist"}));
}

TEST_F(WorkspaceTest, MalformedWorkspaceIsRefusedAndStateKept) {
  auto w = newWindow();
  w->session()->addSlot(QStringLiteral("resnet_fmnist"));
  w->inputPanel()->openFile(sample("chelsea.png"));
  ASSERT_TRUE(waitIdle(w->session()));
  const Workspace before = w->captureWorkspace();
  const QByteArray valid = QJsonDocument(QJsonObject{{QStringLiteral("format"), QStringLiteral("featurescope-workspace")},
                                                     {QStringLiteral("version"), 1},
                                                     {QStringLiteral("models"), QJsonArray()}})
                               .toJson();
  const std::vector<std::pair<QByteArray, QString>> cases = {
      {"{\"format\": \"featurescope-workspace\", ", QStringLiteral("not valid JSON")},
      {"[1, 2]", QStringLiteral("not a FeatureScope workspace")},
      {"{\"format\": \"something-else\", \"version\": 1, \"models\": []}", QStringLiteral("not a FeatureScope workspace")},
      {"{\"format\": \"featurescope-workspace\", \"version\": 7, \"models\": []}", QStringLiteral("newer FeatureScope")},
      {"{\"format\": \"featurescope-workspace\", \"version\": 1, \"models\": [], \"display\": {\"alpha\": \"x\"}}",
       QStringLiteral("display.alpha must be a number")},
      {"{\"format\": \"featurescope-workspace\", \"version\": 1, \"models\": [], \"display\": {\"colormap\": \"plaid\"}}",
       QStringLiteral("display.colormap is 'plaid'")},
      {"{\"format\": \"featurescope-workspace\", \"version\": 1, \"models\": [{\"model\": \"resnet_fmnist\", "
       "\"weights\": \"x.pth\"}]}",
       QStringLiteral("weights and sha256 go together")},
      {"{\"format\": \"featurescope-workspace\", \"version\": 1}", QStringLiteral("\"models\" must be a list")},
      {"{\"format\": \"featurescope-workspace\", \"version\": 1, \"models\": [], \"saliency\": {\"ig_steps\": 0}}",
       QStringLiteral("saliency.parameters.steps")},
      {"{\"format\": \"featurescope-workspace\", \"version\": 2, \"models\": [], \"saliency\": {\"parameters\": "
       "{\"bogus\": 1}}}",
       QStringLiteral("unknown saliency parameter 'bogus'")},
  };
  for (const auto& [bytes, why] : cases) {
    const QString path = dir_.filePath(QStringLiteral("bad.featurescope"));
    writeFile(path, bytes);
    EXPECT_FALSE(w->openWorkspace(path)) << bytes.toStdString();
    EXPECT_TRUE(w->errorText().contains(path)) << w->errorText().toStdString();
    EXPECT_TRUE(w->errorText().contains(why)) << w->errorText().toStdString();
    ASSERT_TRUE(waitIdle(w->session()));
    EXPECT_EQ(w->captureWorkspace(), before) << bytes.toStdString();
    EXPECT_TRUE(w->workspacePath().isEmpty());
  }
  writeFile(path_, valid);  // the minimal valid file opens
  EXPECT_NO_THROW(readWorkspace(path_));
}

TEST_F(WorkspaceTest, FailedSaveLeavesNoFile) {
  auto w = newWindow();
  const QString target = dir_.filePath(QStringLiteral("no/such/folder/x.featurescope"));
  EXPECT_FALSE(w->saveWorkspace(target));
  EXPECT_TRUE(w->errorText().contains(target)) << w->errorText().toStdString();
  EXPECT_FALSE(QFileInfo::exists(target));
  EXPECT_EQ(QDir(dir_.path()).entryList(QDir::Files), QStringList());
}

// ---- drag and drop, window size -----------------------------------------------------------

}  // namespace
