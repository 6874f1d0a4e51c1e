#include "ui/faithfulness_curves.h"

#include "ui/qcustomplot_include.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QTextDocument>
#include <QVBoxLayout>

#include <utility>

namespace fs::ui {

namespace {
const QColor kModelColours[] = {QColor(31, 119, 180), QColor(214, 39, 40), QColor(44, 160, 44), QColor(148, 103, 189)};
const Qt::PenStyle kMethodStyles[] = {Qt::SolidLine, Qt::DashLine, Qt::DotLine, Qt::DashDotLine, Qt::DashDotDotLine};
// The same styles as text, for the key: minus signs and no-break spaces, which a line never breaks
// after (it may break after an en dash, even before a no-break space).
const char* const kMethodGlyphs[] = {"\u2500\u2500\u2500", "\u2212\u00a0\u2212\u00a0\u2212",
                                     "\u00b7\u00a0\u00b7\u00a0\u00b7\u00a0\u00b7", "\u2212\u00b7\u2212\u00b7",
                                     "\u2212\u00b7\u00b7\u2212\u00b7\u00b7"};

QCustomPlot* curvePlot(const QString& title, const QString& y) {
  auto* p = new QCustomPlot;
  p->setMinimumHeight(160);
  p->plotLayout()->insertRow(0);
  p->plotLayout()->addElement(0, 0, new QCPTextElement(p, title, QFont(p->font().family(), 9, QFont::Bold)));
  p->xAxis->setLabel(QObject::tr("fraction of pixels"));
  p->yAxis->setLabel(y);
  p->xAxis->setRange(0, 1);
  p->yAxis->setRange(0, 1);
  return p;
}
}  // namespace

FaithfulnessCurves::FaithfulnessCurves(QWidget* parent) : QWidget(parent) {
  auto* pv = new QVBoxLayout(this);
  pv->setContentsMargins(0, 0, 0, 0);
  pv->setSpacing(2);
  auto* pl = new QHBoxLayout;
  setMinimumHeight(180);
  deletion_ = curvePlot(tr("Deletion\n(lower AUC = more faithful)"), tr("target probability"));
  insertion_ = curvePlot(tr("Insertion\n(higher AUC = more faithful)"), tr("target probability"));
  pl->addWidget(deletion_);
  pl->addWidget(insertion_);
  pv->addLayout(pl, 1);
  key_ = new QLabel;  // one key for both plots (an inset legend per plot covered most of the curves)
  key_->setWordWrap(true);
  key_->setTextFormat(Qt::RichText);
  pv->addWidget(key_);
}

int FaithfulnessCurves::curveCount() const { return deletion_->graphCount(); }

QString FaithfulnessCurves::keyText() const {
  QTextDocument doc;
  doc.setHtml(key_->text());
  return doc.toPlainText();
}

void FaithfulnessCurves::plot(const std::vector<Entry>& entries) {
  deletion_->clearGraphs();
  insertion_->clearGraphs();
  QStringList models, methods;
  for (const Entry& e : entries) {
    if (!e.result || !e.result->hasCurves) continue;
    const QPen pen(kModelColours[e.row % 4], 1.6, kMethodStyles[size_t(e.column) % 5]);
    const QString modelEntry =
        QStringLiteral("<span style=\"color:%1\">\u25a0&nbsp;%2</span>").arg(pen.color().name(), e.model.toHtmlEscaped());
    const QString methodEntry =
        QStringLiteral("%1&nbsp;%2").arg(QString::fromUtf8(kMethodGlyphs[size_t(e.column) % 5]), e.method.toHtmlEscaped());
    if (!models.contains(modelEntry)) models << modelEntry;
    if (!methods.contains(methodEntry)) methods << methodEntry;
    for (auto [plot, curve] : {std::pair{deletion_, &e.result->deletion}, std::pair{insertion_, &e.result->insertion}}) {
      QCPGraph* g = plot->addGraph();
      g->setPen(pen);
      g->setData(QVector<double>(curve->fractions.begin(), curve->fractions.end()),
                 QVector<double>(curve->probs.begin(), curve->probs.end()));
    }
  }
  const QString gap = QStringLiteral("&nbsp;&nbsp; ");
  key_->setText(models.isEmpty() ? QString()
                                 : tr("<b>Models</b>&nbsp;%1 &nbsp;&nbsp;&nbsp; <b>Methods</b>&nbsp;%2 &nbsp;&nbsp;&nbsp; "
                                      "<span style=\"color:gray\">AUCs:&nbsp;under&nbsp;each&nbsp;map</span>")
                                       .arg(models.join(gap), methods.join(gap)));
  deletion_->replot();
  insertion_->replot();
}

}  // namespace fs::ui
