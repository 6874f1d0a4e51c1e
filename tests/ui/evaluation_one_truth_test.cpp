// One truth for the evaluation lab's GUI services: the same settings through `featurescope-cli
// evaluate` / `featurescope-cli sanity` and through EvaluationService / SanityService (what the
// Evaluate view and the Saliency view's sanity cascade run) give the same numbers: every mean, CI
// bound and rank of the scorecard (also with the Evaluate view's non-default settings: curve steps,
// substrate, seed), and every mean similarity of the cascade with its maps, in both modes.
#include "service/session.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

namespace {

// Runs featurescope-cli; its stdout, or a failure naming the command.
QByteArray cli(const QStringList& args) {
  QProcess p;
  p.start(QStringLiteral(FS_CLI_PATH), args);
  const bool ok = p.waitForFinished(600000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
  EXPECT_TRUE(ok) << "featurescope-cli " << args.join(' ').toStdString() << ": "
                  << p.readAllStandardError().toStdString();
  return p.readAllStandardOutput();
}

// The scorecard of resnet_fmnist's gradcam and gradient on 5 test images with the given settings,
// through EvaluationService and through featurescope-cli evaluate --json: equal statistics.
void expectScorecardEqualsCli(int curveSteps, const std::string& substrate, int seed) {
  fs::service::Session s;
  s.slots().load(0, "resnet_fmnist", "");
  fs::service::EvaluationRequest r;
  r.slots = {0};
  r.methods = {"gradcam", "gradient"};
  r.metrics = {"deletion", "insertion", "gini", "drop"};
  r.limit = 5;
  r.curveSteps = curveSteps;
  r.substrate = substrate;
  r.seed = uint64_t(seed);
  const auto res = s.evaluation().run(r);
  ASSERT_EQ(res.models.size(), 1u);
  const auto& m = res.models[0];

  QStringList args{"evaluate", "resnet_fmnist", "--dataset", "fashion-mnist", "--limit", "5", "--methods",
                   "gradcam,gradient", "--metrics", "deletion,insertion,gini,drop", "--curve-steps",
                   QString::number(curveSteps), "--seed", QString::number(seed), "--json"};
  if (substrate != "rise") args << "--substrate" << QString::fromStdString(substrate);
  const QByteArray out = cli(args);
  const QJsonObject stats = QJsonDocument::fromJson(out).object()[QStringLiteral("statistics")].toObject();
  ASSERT_FALSE(stats.isEmpty()) << out.toStdString();
  const QJsonArray keys = stats[QStringLiteral("metrics")].toArray();
  ASSERT_EQ(size_t(keys.size()), m.keys.size());
  int compared = 0;
  for (size_t k = 0; k < m.keys.size(); ++k) {
    ASSERT_EQ(keys[int(k)].toString().toStdString(), m.keys[k]);
    for (size_t i = 0; i < m.methods.size(); ++i) {
      const QJsonObject c = stats[QStringLiteral("methods")]
                                .toObject()[QString::fromStdString(m.methods[i])]
                                .toObject()[QString::fromStdString(m.keys[k])]
                                .toObject();
      const auto& st = m.stats[i][k];
      EXPECT_DOUBLE_EQ(c[QStringLiteral("mean")].toDouble(), st.mean) << m.methods[i] << " " << m.keys[k];
      EXPECT_DOUBLE_EQ(c[QStringLiteral("ci_low")].toDouble(), st.ciLow) << m.methods[i] << " " << m.keys[k];
      EXPECT_DOUBLE_EQ(c[QStringLiteral("ci_high")].toDouble(), st.ciHigh) << m.methods[i] << " " << m.keys[k];
      EXPECT_DOUBLE_EQ(c[QStringLiteral("rank")].toDouble(), st.rank) << m.methods[i] << " " << m.keys[k];
      EXPECT_EQ(c[QStringLiteral("n")].toInt(), st.n);
      ++compared;
    }
  }
  EXPECT_EQ(compared, 2 * 5);  // deletion_auc, drop, gini, increase, insertion_auc
}

TEST(EvaluationOneTruth, ServiceScorecardEqualsCliEvaluate) { expectScorecardEqualsCli(10, "rise", 3); }

// The Evaluate view's settings: 12 curve steps, the zero substrate (both curves differ from rise's)
// and seed 7 (the bootstrap CIs).
TEST(EvaluationOneTruth, ServiceScorecardEqualsCliEvaluateWithNonDefaultSettings) {
  expectScorecardEqualsCli(12, "zero", 7);
}

// The substrate reaches the scorecard: the same run with rise's substrates differs.
TEST(EvaluationOneTruth, SubstrateChangesTheCurves) {
  fs::service::Session s;
  s.slots().load(0, "resnet_fmnist", "");
  fs::service::EvaluationRequest r;
  r.slots = {0};
  r.methods = {"gradient"};
  r.metrics = {"deletion", "insertion"};
  r.limit = 3;
  r.curveSteps = 12;
  const auto rise = s.evaluation().run(r);
  r.substrate = "zero";
  const auto zero = s.evaluation().run(r);
  ASSERT_EQ(rise.models[0].keys, (std::vector<std::string>{"deletion_auc", "insertion_auc"}));
  for (size_t k = 0; k < 2; ++k)
    EXPECT_NE(rise.models[0].stats[0][k].mean, zero.models[0].stats[0][k].mean) << rise.models[0].keys[k];
  r.substrate = "grey";
  EXPECT_THROW(s.evaluation().run(r), std::exception);
}

// A .npy of float32 (the CLI's maps): its values, or empty.
std::vector<float> readNpy(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  const QByteArray all = f.readAll();
  const int headerLen = uchar(all[8]) | (uchar(all[9]) << 8);
  const QByteArray data = all.mid(10 + headerLen);
  std::vector<float> v(size_t(data.size()) / sizeof(float));
  std::memcpy(v.data(), data.constData(), v.size() * sizeof(float));
  return v;
}

// The cascade of gradcam on one sample in `mode` (cascading, independent) through SanityService and
// through featurescope-cli sanity --mode: equal means and maps.
void expectSanityEqualsCli(const std::string& mode) {
  QTemporaryDir dir;
  const QString images = dir.filePath(QStringLiteral("images"));
  ASSERT_TRUE(QDir().mkpath(images));
  const QString name = QStringLiteral("fmnist_0000_ankle-boot.png");
  const QString path = images + "/" + name;
  ASSERT_TRUE(QFile::copy(QStringLiteral(FS_SOURCE_DIR "/resources/samples/") + name, path));

  fs::service::Session s;
  s.slots().load(0, "resnet_fmnist", "");
  fs::service::ImageRequest open;
  open.path = path.toStdString();
  s.images().open(open);
  fs::service::SanityCascadeRequest r;
  r.slot = 0;
  r.method = "gradcam";
  r.seed = 2;
  r.mode = mode;
  const auto c = s.sanity().cascade(r);
  EXPECT_EQ(c.mode, mode);
  ASSERT_FALSE(c.units.empty());
  ASSERT_EQ(c.maps.size(), c.units.size() + 1);
  ASSERT_EQ(c.keys, (std::vector<std::string>{"spearman", "spearman_abs", "ssim", "hog"}));
  EXPECT_EQ(c.figure.rowCount(), 1);  // one method: the original, then one column per step
  EXPECT_GE(size_t(c.figure.columnCount()), c.maps.size());

  const QString fig = dir.filePath(QStringLiteral("sanity.png"));
  cli({"sanity", "resnet_fmnist", "--images", images, "--methods", "gradcam", "--limit", "1", "--seed", "2", "--mode",
       mode == "cascading" ? QStringLiteral("cascade") : QString::fromStdString(mode), "--out", fig});
  // FIG.csv: method,depth,unit,metric,mean,n[,mode] (the mode column: cascading or independent)
  QFile csv(dir.filePath(QStringLiteral("sanity.csv")));
  ASSERT_TRUE(csv.open(QIODevice::ReadOnly));
  int rows = 0;
  csv.readLine();
  while (!csv.atEnd()) {
    const QStringList f = QString::fromUtf8(csv.readLine()).trimmed().split(QLatin1Char(','));
    if (f.size() < 6 || f[0] != QLatin1String("gradcam") || (f.size() > 6 && f[6].toStdString() != mode)) continue;
    const int depth = f[1].toInt();
    ASSERT_GE(depth, 1);
    ASSERT_LE(size_t(depth), c.units.size());
    EXPECT_EQ(f[2].toStdString(), c.units[size_t(depth - 1)]);
    const auto key = std::find(c.keys.begin(), c.keys.end(), f[3].toStdString());
    ASSERT_NE(key, c.keys.end()) << f[3].toStdString();
    const double mine = c.similarity[size_t(key - c.keys.begin())][size_t(depth - 1)];
    if (f[4].isEmpty()) {
      EXPECT_TRUE(std::isnan(mine));
    } else {
      EXPECT_NEAR(f[4].toDouble(), mine, 1e-9 * std::max(1.0, std::abs(mine))) << f.join(',').toStdString();
    }
    ++rows;
  }
  EXPECT_EQ(size_t(rows), 4 * c.units.size());
  // The maps themselves, bit for bit (the CLI's FIG_STEM.maps/METHOD-STEP.npy).
  for (size_t k = 0; k < c.maps.size(); ++k) {
    const std::vector<float> v = readNpy(dir.filePath(QStringLiteral("sanity.maps/gradcam-%1.npy").arg(k)));
    ASSERT_EQ(v.size(), c.maps[k].total()) << "step " << k;
    EXPECT_EQ(0, std::memcmp(v.data(), c.maps[k].ptr<float>(), v.size() * sizeof(float))) << "step " << k;
  }
}

TEST(EvaluationOneTruth, ServiceSanityCascadeEqualsCliSanity) { expectSanityEqualsCli("cascading"); }
TEST(EvaluationOneTruth, ServiceIndependentRandomisationEqualsCliSanity) { expectSanityEqualsCli("independent"); }

}  // namespace
