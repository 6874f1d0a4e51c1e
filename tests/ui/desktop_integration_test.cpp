// The desktop app as a desktop citizen (offscreen): the command line (parsing, checking files and
// models before the window opens, the window it opens, exit codes of the real binary without a
// display), a checkpoint dropped on a model slot, and a window that fits a 1366x768 screen.
// Workspaces: workspace_test.cpp.
#include "desktop_test_support.h"
#include "model/errors.h"
#include "ui/analysis_session.h"
#include "ui/display_settings_panel.h"
#include "ui/input_panel.h"
#include "ui/launch_options.h"
#include "ui/main_window.h"
#include "ui/model_slots_panel.h"
#include "ui/workspace.h"

#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QDropEvent>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMimeData>
#include <QProcess>
#include <QScrollArea>
#include <QScrollBar>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <gtest/gtest.h>

using namespace fs::ui;
using fs::model::InputError;
using fs::model::UsageError;

using namespace fs::ui::test;

namespace {

// ---- the command line ---------------------------------------------------------------------

TEST(LaunchOptions, ParsesFilesRepeatedModelsAndView) {
  const LaunchOptions o = parse({"a.png", "--model", "resnet_fmnist", "--model=convmlp_fmnist:/w/c.pth", "b.png",
                                 "--view", "saliency", "--", "--odd.png"});
  EXPECT_EQ(o.files, (QStringList{"a.png", "b.png", "--odd.png"}));
  ASSERT_EQ(o.models.size(), 2u);
  EXPECT_EQ(o.models[0].idOrConfig, "resnet_fmnist");
  EXPECT_EQ(o.models[0].weights, "");
  EXPECT_EQ(o.models[1].idOrConfig, "convmlp_fmnist");
  EXPECT_EQ(o.models[1].weights, "/w/c.pth");
  EXPECT_EQ(o.view, QStringLiteral("saliency"));
  EXPECT_FALSE(o.help);
  EXPECT_TRUE(parse({"x.png", "--bogus", "--help"}).help);  // --help wins, even over bad options later
  EXPECT_TRUE(parse({"--version"}).version);
  EXPECT_TRUE(parse({}).view.isEmpty());
}

TEST(LaunchOptions, RefusesMalformedCommandLines) {
  EXPECT_THROW(parse({"--bogus"}), UsageError);
  EXPECT_THROW(parse({"--model"}), UsageError);
  EXPECT_THROW(parse({"--model", ":weights.pth"}), UsageError);
  EXPECT_THROW(parse({"--view", "sideways"}), UsageError);
  EXPECT_THROW(parse({"--model", "a", "--model", "b", "--model", "c", "--model", "d", "--model", "e"}), UsageError);
}

TEST(LaunchOptions, UsageIsHelp2manShaped) {
  const std::string u = launchUsage();
  EXPECT_EQ(u.rfind("usage: featurescope ", 0), 0u);
  for (const char* opt : {"\n  --model ID[:WEIGHTS]  ", "\n  --view VIEW  ", "\n  --screenshot PNG  ", "\n  --help  ",
                          "\n  --version  "})
    EXPECT_NE(u.find(opt), std::string::npos) << opt;
}

TEST(LaunchPlan, ClassifiesAndChecksFiles) {
  QTemporaryDir dir;
  LaunchOptions o;
  o.files = {sample("coffee.png"), sample("rocket.jpg")};
  o.models = {{"resnet_fmnist", ""}, {"convmlp_fmnist", source("resources/models/convmlp_fmnist.safetensors").toStdString()}};
  LaunchPlan p = planLaunch(o);
  EXPECT_EQ(p.images, (QStringList{sample("coffee.png"), sample("rocket.jpg")}));
  EXPECT_TRUE(p.folder.isEmpty());
  EXPECT_EQ(p.models.size(), 2u);

  o = {};
  o.files = {source("resources/samples")};
  EXPECT_EQ(planLaunch(o).folder, QDir(source("resources/samples")).absolutePath());

  auto inputError = [](const LaunchOptions& opts, const QString& mustName) {
    try {
      planLaunch(opts);
      ADD_FAILURE() << "no InputError for " << mustName.toStdString();
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(mustName.toStdString()), std::string::npos) << e.what();
    }
  };
  o = {};
  o.files = {dir.filePath(QStringLiteral("missing.png"))};
  inputError(o, QStringLiteral("missing.png: no such file"));
  writeFile(dir.filePath(QStringLiteral("notes.txt")), "hello");
  o.files = {dir.filePath(QStringLiteral("notes.txt"))};
  inputError(o, QStringLiteral("notes.txt: not an image"));
  writeFile(dir.filePath(QStringLiteral("broken.png")), "\x89PNG\r\n\x1a\nnot really a png");
  o.files = {dir.filePath(QStringLiteral("broken.png"))};
  inputError(o, QStringLiteral("broken.png"));
  QDir(dir.path()).mkdir(QStringLiteral("empty"));
  o.files = {dir.filePath(QStringLiteral("empty"))};
  inputError(o, QStringLiteral("empty: no images"));
  o.files = {};
  o.models = {{"no_such_model", ""}};
  inputError(o, QStringLiteral("no_such_model"));
  o.models = {{"resnet_fmnist", dir.filePath(QStringLiteral("gone.pth")).toStdString()}};
  inputError(o, QStringLiteral("gone.pth: no such checkpoint"));
  writeFile(dir.filePath(QStringLiteral("bad.featurescope")), "{ not json");
  o = {};
  o.files = {dir.filePath(QStringLiteral("bad.featurescope"))};
  inputError(o, QStringLiteral("bad.featurescope: not valid JSON"));

  o.files = {source("resources/samples"), sample("coffee.png")};
  EXPECT_THROW(planLaunch(o), UsageError);
  o.files = {source("resources/models/resnet_fmnist.safetensors")};
  EXPECT_THROW(planLaunch(o), UsageError);  // a checkpoint goes with --model
}

TEST(LaunchWindow, OpensImagesAndModelsFromTheCommandLine) {
  LaunchOptions o = parse({sample("chelsea.png").toStdString(), "--model", "resnet_fmnist", "--model",
                           "convmlp_fmnist:" + source("resources/models/convmlp_fmnist.safetensors").toStdString()});
  auto w = newWindow();
  w->openLaunch(planLaunch(o));
  ASSERT_TRUE(waitIdle(w->session()));
  EXPECT_EQ(w->session()->imageName(), QStringLiteral("chelsea.png"));
  EXPECT_EQ(slotIds(w->session()), (std::vector<std::string>{"resnet_fmnist", "convmlp_fmnist"}))
      << w->errorText().toStdString();
  const int second = w->session()->loadedSlots()[1];
  EXPECT_EQ(QString::fromStdString(w->session()->slot(second).info.weightsPath),
            source("resources/models/convmlp_fmnist.safetensors"));
  EXPECT_TRUE(w->session()->slot(second).prediction.has_value());
  EXPECT_TRUE(w->errorText().isEmpty()) << w->errorText().toStdString();
}

TEST(LaunchWindow, OpensAFolderOrSeveralImagesInTheStrip) {
  QTemporaryDir dir;
  for (const char* f : {"coffee.png", "rocket.jpg", "chelsea.png"}) QFile::copy(sample(f), dir.filePath(QLatin1String(f)));
  auto w = newWindow();
  w->openLaunch(planLaunch(parse({dir.path().toStdString(), "--model", "resnet_fmnist"})));
  ASSERT_TRUE(waitIdle(w->session()));
  EXPECT_EQ(w->inputPanel()->folderImages().size(), 3);
  EXPECT_EQ(w->inputPanel()->folder(), QDir(dir.path()).absolutePath());
  EXPECT_EQ(w->session()->imageName(), QStringLiteral("chelsea.png"));  // the first by name
  EXPECT_EQ(slotIds(w->session()), (std::vector<std::string>{"resnet_fmnist"}));

  w->openLaunch(planLaunch(parse({sample("rocket.jpg").toStdString(), sample("coffee.png").toStdString(), "--model",
                                  "mixer_fmnist"})));
  ASSERT_TRUE(waitIdle(w->session()));
  EXPECT_EQ(w->inputPanel()->folderImages(), (QStringList{sample("rocket.jpg"), sample("coffee.png")}));
  EXPECT_TRUE(w->inputPanel()->folder().isEmpty());
  EXPECT_EQ(w->session()->imageName(), QStringLiteral("rocket.jpg"));
  EXPECT_EQ(slotIds(w->session()), (std::vector<std::string>{"mixer_fmnist"}));
}

// The real binary: --help and --version without a display; bad files and options end before any
// window with the CLI's exit codes.
TEST(LaunchBinary, HelpVersionAndBadInputWithoutADisplay) {
  const QString app = QStringLiteral(FS_BINARY_DIR "/app/featurescope");
  ASSERT_TRUE(QFileInfo(app).isExecutable()) << app.toStdString() << " missing: build the featurescope target";
  auto run = [&](const QStringList& args, QString* out, QString* err) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char* v : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"}) env.remove(QLatin1String(v));
    p.setProcessEnvironment(env);
    p.start(app, args);
    EXPECT_TRUE(p.waitForFinished(60000));
    *out = QString::fromLocal8Bit(p.readAllStandardOutput());
    *err = QString::fromLocal8Bit(p.readAllStandardError());
    return p.exitCode();
  };
  QString out, err;
  EXPECT_EQ(run({QStringLiteral("--help")}, &out, &err), 0) << err.toStdString();
  EXPECT_TRUE(out.startsWith(QStringLiteral("usage: featurescope"))) << out.toStdString();
  EXPECT_EQ(run({QStringLiteral("--version")}, &out, &err), 0) << err.toStdString();
  EXPECT_TRUE(out.startsWith(QStringLiteral("featurescope "))) << out.toStdString();
  EXPECT_EQ(run({QStringLiteral("/no/such/image.png")}, &out, &err), 3);
  EXPECT_TRUE(err.contains(QStringLiteral("/no/such/image.png: no such file"))) << err.toStdString();
  EXPECT_EQ(run({QStringLiteral("--model"), QStringLiteral("no_such_model")}, &out, &err), 3);
  EXPECT_TRUE(err.contains(QStringLiteral("no_such_model"))) << err.toStdString();
  EXPECT_EQ(run({QStringLiteral("--frobnicate")}, &out, &err), 2);
  EXPECT_TRUE(err.contains(QStringLiteral("--frobnicate"))) << err.toStdString();
  // Good arguments without a display: the polite refusal (exit 1), after the checks passed.
  EXPECT_EQ(run({sample("coffee.png")}, &out, &err), 1);
  EXPECT_TRUE(err.contains(QStringLiteral("no display"))) << err.toStdString();
}

// ---- workspaces ---------------------------------------------------------------------------

TEST(SlotDrop, DroppedCheckpointLoadsIntoThatSlot) {
  QTemporaryDir dir;
  const QString ckpt = dir.filePath(QStringLiteral("dropped.safetensors"));
  ASSERT_TRUE(QFile::copy(source("resources/models/resnet_fmnist.safetensors"), ckpt));
  auto w = newWindow();
  AnalysisSession* s = w->session();
  s->addSlot(QStringLiteral("convmlp_fmnist"));
  const int slot = s->addSlot(QStringLiteral("resnet_fmnist"));
  w->inputPanel()->openFile(sample("coffee.png"));
  ASSERT_TRUE(waitIdle(s));
  QWidget* box = w->slotsPanel()->slotBox(slot);
  auto drop = [&](const QString& file) {
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(file)});
    QDragEnterEvent enter(QPoint(20, 20), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(box, &enter);
    EXPECT_TRUE(enter.isAccepted());
    QDropEvent event(QPointF(20, 20), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(box, &event);
    EXPECT_TRUE(event.isAccepted());
    EXPECT_TRUE(waitIdle(s));
  };
  drop(ckpt);
  EXPECT_EQ(QString::fromStdString(s->slot(slot).info.weightsPath), ckpt) << w->errorText().toStdString();
  EXPECT_EQ(s->slot(slot).info.modelId, "resnet_fmnist");
  EXPECT_TRUE(s->slot(slot).prediction.has_value());

  // A corrupt checkpoint: the same error as the Weights… button, and the slot keeps its model.
  const QString bad = dir.filePath(QStringLiteral("corrupt.pth"));
  writeFile(bad, "PK\x03\x04 definitely not a zip");
  drop(bad);
  EXPECT_TRUE(w->errorText().contains(QStringLiteral("corrupt.pth"))) << w->errorText().toStdString();
  EXPECT_EQ(QString::fromStdString(s->slot(slot).info.weightsPath), ckpt);
  EXPECT_TRUE(s->slot(slot).prediction.has_value());

  // Not a checkpoint: the slot leaves it to the window, which opens images; the slot is unchanged.
  drop(sample("rocket.jpg"));
  EXPECT_EQ(s->imageName(), QStringLiteral("rocket.jpg"));
  EXPECT_EQ(QString::fromStdString(s->slot(slot).info.weightsPath), ckpt);
}

// The window, as it opens with its default layout, fits a 1366x768 screen (less the panel), and
// the image dock shows its buttons and the model-input strip without a horizontal scrollbar.
TEST(WindowSize, FitsA1366x768Screen) {
  auto w = newWindow();
  AnalysisSession* s = w->session();
  for (const char* id : {"convmlp_fmnist", "resnet_fmnist", "mixer_fmnist", "resmlp_fmnist"}) s->addSlot(QLatin1String(id));
  w->inputPanel()->openFile(sample("coffee.png"));
  ASSERT_TRUE(waitIdle(s));
  w->resize(1366, 740);
  for (const char* view : {"compare", "features", "saliency", "stats"}) {
    ASSERT_TRUE(w->showView(QLatin1String(view)));
    ASSERT_TRUE(waitIdle(s));
    QApplication::processEvents();
    const QSize min = w->minimumSizeHint();
    EXPECT_LE(min.width(), 1366) << view;
    EXPECT_LE(min.height(), 740) << view;
    EXPECT_LE(w->width(), 1366) << view;
    EXPECT_LE(w->height(), 740) << view;
  }
  auto* dock = w->findChild<QDockWidget*>(QStringLiteral("imageDock"));
  ASSERT_NE(dock, nullptr);
  auto* area = dock->findChild<QScrollArea*>();
  ASSERT_NE(area, nullptr);
  QApplication::processEvents();
  EXPECT_EQ(area->horizontalScrollBar()->maximum(), 0);
  EXPECT_LE(w->inputPanel()->minimumSizeHint().width(), area->viewport()->width());
}

}  // namespace
