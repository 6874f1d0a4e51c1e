#include "ui/view_helpers.h"

#include "ui/analysis_session.h"
#include "ui/qcustomplot_include.h"

#include <QDir>
#include <QFileInfo>
#include <QGridLayout>
#include <QLabel>
#include <QScrollArea>

namespace fs::ui {

QScrollArea* scrollingGrid(QGridLayout** grid) {
  auto* scroll = new QScrollArea;
  scroll->setWidgetResizable(true);
  auto* content = new QWidget;
  *grid = new QGridLayout(content);
  (*grid)->setSpacing(6);
  scroll->setWidget(content);
  return scroll;
}

void legendAboveAxes(QCustomPlot* plot, int row, int perRow) {
  QCPLegend* legend = plot->legend;
  plot->axisRect()->insetLayout()->take(legend);
  plot->plotLayout()->insertRow(row);
  plot->plotLayout()->addElement(row, 0, legend);
  plot->plotLayout()->setRowStretchFactor(row, 0.001);  // as tall as its entries, the axes take the rest
  legend->setFillOrder(QCPLegend::foColumnsFirst);
  legend->setWrap(perRow);
  legend->setBorderPen(Qt::NoPen);
  legend->setMargins(QMargins(4, 0, 4, 0));
}

void clearGrid(QGridLayout* grid) {
  QLayoutItem* item;
  while ((item = grid->takeAt(0)) != nullptr) {
    delete item->widget();
    delete item;
  }
}

QLabel* columnHeader(const QString& text) {
  auto* l = new QLabel(QStringLiteral("<b>%1</b>").arg(text));
  l->setAlignment(Qt::AlignCenter);
  return l;
}

QString modelRowText(const SlotState& slot, const QString& extra) {
  return QStringLiteral("<b>%1</b><br><small>%2</small>%3")
      .arg(QString::fromStdString(slot.info.modelId), QString::fromStdString(slot.info.family), extra);
}

QLabel* modelRowLabel(const SlotState& slot, const QString& extra) {
  auto* name = new QLabel(modelRowText(slot, extra));
  name->setAlignment(Qt::AlignCenter);
  name->setMinimumWidth(110);
  return name;
}

QString modelIdLabel(const std::string& id) {
  const QFileInfo f(QString::fromStdString(id));
  return f.suffix() == QLatin1String("json") ? f.dir().dirName() : QString::fromStdString(id);
}

}  // namespace fs::ui
