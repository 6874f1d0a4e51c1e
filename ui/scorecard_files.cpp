#include "ui/scorecard_files.h"

#include "model/errors.h"
#include "render/figure_renderer.h"
#include "render/scorecard_figure_file.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <string>
#include <vector>

namespace fs::ui {

QStringList saveScorecard(const fs::service::EvaluationResult& result, const QString& figurePath, double dpi) {
  const std::string figure = figurePath.toStdString();
  fs::render::figureFormatForPath(figure);  // InputError for an unknown extension, before any file
  fs::render::checkDpi(dpi, figure);  // before any file, too
  const QFileInfo fig(figurePath);
  const QString manifest = fig.absoluteDir().filePath(fig.completeBaseName() + QStringLiteral(".manifest.json"));
  const bool figureThere = QFileInfo::exists(figurePath), manifestThere = QFileInfo::exists(manifest);
  QStringList written;
  std::vector<std::string> scorecards;
  try {
    for (const auto& m : result.models) {
      if (m.scorecardPath.empty()) continue;  // no method applied to the model
      // scorecard.slotN.ID.json -> FIG_STEM.slotN.ID
      const QString name = QFileInfo(QString::fromStdString(m.scorecardPath)).completeBaseName();
      const QString stem = fig.absoluteDir().filePath(fig.completeBaseName() + name.mid(name.indexOf(QLatin1Char('.'))));
      const auto files = fs::service::copyScorecardFiles(m.scorecardPath, stem.toStdString());
      for (const std::string& f : files) written << QString::fromStdString(f);
      scorecards.push_back(files.front());
    }
    if (scorecards.empty())
      throw fs::model::InputError(figure + ": nothing to save: no method of the scorecard applied to its models");
    fs::render::writeScorecardFigure(scorecards, figure, dpi, "Saliency scorecard", "featurescope Evaluate view");
    written << figurePath << manifest;
  } catch (...) {
    for (const QString& f : written) QFile::remove(f);
    if (!figureThere) QFile::remove(figurePath);  // a figure written before its manifest failed
    if (!manifestThere) QFile::remove(manifest);
    throw;
  }
  return written;
}

}  // namespace fs::ui
