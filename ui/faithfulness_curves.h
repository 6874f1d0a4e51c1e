#pragma once
// The deletion and insertion curves of the saliency matrix side by side (Petsiuk et al. 2018),
// with one key below both: colour = model (row), line style = method (column). GUI thread only.
#include "service/types.h"

#include <QString>
#include <QWidget>

#include <vector>

class QCustomPlot;
class QLabel;

namespace fs::ui {

class FaithfulnessCurves : public QWidget {
  Q_OBJECT

 public:
  explicit FaithfulnessCurves(QWidget* parent = nullptr);

  // One curve pair per result that has curves; row and column pick the colour and line style.
  struct Entry {
    int row = 0, column = 0;
    QString model, method;
    const fs::service::SaliencyMapResult* result = nullptr;
  };
  void plot(const std::vector<Entry>& entries);
  int curveCount() const;   // graphs in the deletion plot
  QString keyText() const;  // the key under both plots (plain text)

 private:
  QCustomPlot* deletion_;
  QCustomPlot* insertion_;
  QLabel* key_;
};

}  // namespace fs::ui
