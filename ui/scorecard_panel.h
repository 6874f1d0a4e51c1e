#pragma once
// The Evaluate view's result (EvaluationService, the same numbers as `featurescope-cli evaluate`):
// a table with a row per model x method and a column per metric key, "mean [lo, hi]" with the
// bootstrap 95% CI and the rank in the tooltip, the better direction in the header; a QCustomPlot
// chart of the selected column (bars with CI whiskers); and for a clicked cell the images where
// that method did worst on that metric, each of which opens in the session and in the Compare or
// the Saliency view. Reads the session's result; GUI thread only.
#include "service/evaluation_service.h"

#include <QWidget>

#include <utility>
#include <vector>

class QCustomPlot;
class QLabel;
class QListWidget;
class QTableWidget;

namespace fs::ui {

class AnalysisSession;

class ScorecardPanel : public QWidget {
  Q_OBJECT

 public:
  explicit ScorecardPanel(AnalysisSession* session, QWidget* parent = nullptr);

  void showResult(const fs::service::EvaluationResult& result);  // table, summary and the first column's chart
  void noteSaved(const QString& note);                           // after the summary, until the next result
  QTableWidget* table() const { return table_; }
  QCustomPlot* chart() const { return chart_; }
  QListWidget* worstList() const { return worst_; }
  void selectCell(int row, int column);
  // Opens worst image `i` in the session and asks for `view` ("compare" or "saliency").
  void openWorst(int i, const QString& view);

 Q_SIGNALS:
  void showViewRequested(const QString& name);

 private:
  QWidget* buildWorstBox();
  void drawChart(int column);
  void listWorst(int row, int column);

  AnalysisSession* session_;
  QLabel* summary_;
  QString summaryText_;  // the result's summary, before any note
  QTableWidget* table_;
  QCustomPlot* chart_;
  QLabel* worstTitle_;
  QListWidget* worst_;
  // Table row -> (model index in the result, method index).
  std::vector<std::pair<size_t, size_t>> rows_;
  std::vector<size_t> worstImages_;  // the listed images (indices into the row's model's images)
  size_t worstModel_ = 0, worstMethod_ = 0;
};

}  // namespace fs::ui
