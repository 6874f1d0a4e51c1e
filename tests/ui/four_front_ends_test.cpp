// One truth per map, through all four front ends: for every registered saliency method and every
// family (the bundled Fashion-MNIST demo models; the reference models of ViT, DeiT, Swin and
// ConvNeXt from their JSON configs and weights), the GUI's saliency cell, `featurescope-cli
// saliency --npy --png`, the paper figure's saliency column (as the GUI and `figure` build it)
// and `featurescope-cli export` give the same float map (byte-identical NPY) and the same overlay
// (byte-identical PNG, the same pixels in the figure) for the same method parameters and display.
#include "analysis/figure_layout.h"
#include "analysis/map_output.h"
#include "analysis/saliency/attention_rollout.h"
#include "analysis/saliency_overlay.h"
#include "service/export_service.h"
#include "service/saliency_service.h"
#include "ui/analysis_session.h"

#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <fstream>
#include <iterator>

namespace fs::ui {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Runs featurescope-cli; returns stderr when it fails.
QString cli(const QStringList& args) {
  QProcess p;
  p.start(QStringLiteral(FS_CLI_PATH), args);
  if (!p.waitForFinished(300000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
    return QStringLiteral("featurescope-cli %1: exit %2 (%3): %4")
        .arg(args.join(' '))
        .arg(p.exitCode())
        .arg(p.exitStatus() == QProcess::NormalExit ? p.errorString() : QStringLiteral("crashed"))
        .arg(QString::fromUtf8(p.readAllStandardError()));
  return {};
}

// Every family: the demo models, and the timm reference models of the transformer families
// (a JSON config with its weights, the way a user brings their own model). One test per family,
// so that ctest runs them side by side.
struct Family {
  QString name, model, weights;
  bool attention = false;  // has attention units: the attention methods apply
};

Family familyNamed(const std::string& name) {
  const QString n = QString::fromStdString(name);
  if (!n.endsWith(QLatin1String("_tiny"))) return {n, n, {}};
  const QString root = QStringLiteral(FS_SOURCE_DIR "/tests/data/reference/") + n;
  return {n, root + "/config.json", root + "/weights.safetensors", n.contains(QLatin1String("it_"))};
}

class FourFrontEnds : public ::testing::TestWithParam<std::string> {};

TEST_P(FourFrontEnds, EveryMethodGivesTheSameMapAndOverlay) {
  QTemporaryDir dir;
  const QString images = dir.filePath(QStringLiteral("images"));
  ASSERT_TRUE(QDir().mkpath(images));
  const QString image = QStringLiteral("fmnist_0000_ankle-boot.png");
  ASSERT_TRUE(QFile::copy(QStringLiteral(FS_SOURCE_DIR "/resources/samples/") + image, images + "/" + image));
  // Cheap settings, the same in every front end.
  fs::service::SaliencyParams params;
  params.samples = 3, params.steps = 6, params.window = 28, params.stride = 28;
  fs::analysis::setParameterValue(params, "masks", 200);
  const QStringList options{QStringLiteral("--samples"), QStringLiteral("3"),  QStringLiteral("--steps"),
                            QStringLiteral("6"),         QStringLiteral("--window"), QStringLiteral("28"),
                            QStringLiteral("--stride"),  QStringLiteral("28"), QStringLiteral("--param"),
                            QStringLiteral("masks=200")};
  QStringList allMethods;
  for (const std::string& m : fs::service::SaliencyService::methodNames()) allMethods << QString::fromStdString(m);
  ASSERT_GE(allMethods.size(), 15);

  AnalysisSession session;
  DisplayOptions display = session.display();
  display.alpha = 0.5;  // the CLI's, the export's and the figure's overlay opacity
  session.setDisplay(display);
  session.setSaliencyViewActive(true);
  const Family family = familyNamed(GetParam());
  int compared = 0;
  QStringList methods;  // the methods that apply to the family
  for (const QString& m : allMethods)
    if (family.attention || !fs::analysis::needsAttentionUnits(m.toStdString())) methods << m;
  const QString id = family.model;
  const std::string model = family.name.toStdString();  // the export's folder name for the model
  const QStringList weights = family.weights.isEmpty() ? QStringList() : QStringList{QStringLiteral("--weights"), family.weights};
  // Export: every method in one run.
  const QString out = dir.filePath(QStringLiteral("export_") + family.name);
  const QString spec = family.weights.isEmpty() ? id : id + ":" + family.weights;
  const QString exportError = cli(QStringList{QStringLiteral("export"), QStringLiteral("--model"), spec, QStringLiteral("--images"), images,
                            QStringLiteral("--out"), out, QStringLiteral("--methods"), methods.join(',')} +
                options);
  ASSERT_TRUE(exportError.isEmpty()) << exportError.toStdString();
  // The GUI: the saliency view's matrix for the model, every method.
  for (int i = 0; i < fs::service::kMaxSlots; ++i)
    if (session.slot(i).loaded) session.removeSlot(i);
  session.setSaliencyMethods(methods, {}, params);
  session.loadSlot(0, id, family.weights);
  session.openImageFile(images + "/" + image);
  ASSERT_TRUE(QTest::qWaitFor([&] { return !session.busy(); }, 300000));
  const SlotState& slot = session.slot(0);
  ASSERT_EQ(slot.saliency.size(), size_t(methods.size())) << model;
  for (const QString& method : methods) {
    const std::string tag = std::string(model) + " " + method.toStdString();
    const std::string base = dir.filePath(family.name + "_" + method).toStdString();
    // CLI saliency.
    const QString saliencyError = cli(QStringList{QStringLiteral("saliency"), id, QStringLiteral("--image"), images + "/" + image,
                              QStringLiteral("--method"), method, QStringLiteral("--npy"),
                              QString::fromStdString(base + ".npy"), QStringLiteral("--png"),
                              QString::fromStdString(base + ".png")} +
                  weights + options);
    ASSERT_TRUE(saliencyError.isEmpty()) << saliencyError.toStdString();
    const std::string exported = out.toStdString() + "/fmnist_0000_ankle-boot/" + model + "/saliency/" +
                                 method.toStdString();
    // The GUI cell, written by the GUI's own writers ("Save map as NPY"; the overlay it shows).
    const fs::service::SaliencyMapResult& cell = slot.saliency.at(method);
    fs::service::writeMapNpy(base + ".gui.npy", cell.map);
    const fs::analysis::DisplaySettings ds = session.display().saliencySettings(cell.display);
    const fs::analysis::SaliencyOverlay ov = fs::service::overlay(session.image(), cell.map, cell.crop, ds);
    fs::analysis::writePng(base + ".gui.png", fs::analysis::withColorBar(ov.rgb, ds.colormap, ov.range));
    // The figure's saliency column, as the GUI's export dialog (and `figure`) builds it.
    fs::analysis::FeatureFigureOptions fo;
    fo.saliency = method.toStdString();
    fo.saliencyParameters = params;
    QSignalSpy figure(&session, &AnalysisSession::figureReady);
    session.requestPaperFigure(fo);
    ASSERT_TRUE(QTest::qWaitFor([&] { return !figure.isEmpty(); }, 300000)) << tag;
    const auto layout = figure.front().at(0).value<fs::analysis::FigureLayout>();
    const fs::analysis::FigureCell& column = layout.cells.at(0).back();
    ASSERT_EQ(column.kind, fs::analysis::CellKind::Overlay) << tag;
    fs::analysis::writeMapNpy(base + ".figure.npy", column.overlay.map);

    const std::string npy = slurp(base + ".npy");
    ASSERT_FALSE(npy.empty()) << tag;
    EXPECT_TRUE(npy == slurp(exported + ".npy")) << tag << ": saliency and export NPYs differ";
    EXPECT_TRUE(npy == slurp(base + ".gui.npy")) << tag << ": the GUI's map differs";
    EXPECT_TRUE(npy == slurp(base + ".figure.npy")) << tag << ": the figure's map differs";
    const std::string png = slurp(base + ".png");
    EXPECT_TRUE(png == slurp(exported + ".png")) << tag << ": saliency and export PNGs differ";
    EXPECT_TRUE(png == slurp(base + ".gui.png")) << tag << ": the GUI's overlay differs";
    // The figure shows the part of the image the model saw (the crop rectangle), as the GUI does.
    const auto& c = cell.crop;
    const cv::Rect roi = cv::Rect(cvRound(c.x0), cvRound(c.y0), cvRound(c.width / c.scale), cvRound(c.height / c.scaleY)) &
                         cv::Rect(0, 0, ov.rgb.cols, ov.rgb.rows);
    ASSERT_EQ(column.overlay.rgb.size(), roi.size()) << tag;
    EXPECT_EQ(cv::norm(column.overlay.rgb, ov.rgb(roi), cv::NORM_INF), 0.0) << tag << ": the figure's overlay differs";
    ++compared;
  }
  EXPECT_EQ(compared, int(methods.size()));
}

INSTANTIATE_TEST_SUITE_P(Families, FourFrontEnds,
                         ::testing::Values("convmlp_fmnist", "puremlp_fmnist", "resnet_fmnist", "mixer_fmnist",
                                           "resmlp_fmnist", "vit_tiny", "deit_tiny", "swin_tiny", "convnext_tiny"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace fs::ui
