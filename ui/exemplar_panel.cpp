#include "ui/exemplar_panel.h"

#include "render/image_conversion.h"
#include "ui/analysis_session.h"
#include "ui/feature_vis_session.h"

#include <QComboBox>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPixmap>
#include <QPushButton>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace fs::ui {

using namespace fs::service;

namespace {
constexpr int kThumb = 52;
constexpr int kPerRow = 9;

QPixmap scaledUp(const QImage& image, int side) {  // small crops stay crisp (nearest neighbour)
  return QPixmap::fromImage(image.scaled(side, side, Qt::KeepAspectRatio, Qt::FastTransformation));
}
}  // namespace

ExemplarPanel::ExemplarPanel(AnalysisSession* session, QWidget* parent) : QWidget(parent), session_(session) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 2, 0, 2);
  layout->addLayout(createSearchBar());
  summary_ = new QLabel;
  summary_->setWordWrap(true);
  summary_->setStyleSheet(QStringLiteral("color: gray"));
  layout->addWidget(summary_);
  thumbsLayout_ = new QGridLayout;
  thumbsLayout_->setSpacing(2);
  layout->addLayout(thumbsLayout_);
  layout->addLayout(createVisualizationRow());

  connectControls();
  setChannel(-1, {}, -1);
}

// Where the exemplars come from (the test set or the open image's folder, the first N images),
// Find and Cancel.
QHBoxLayout* ExemplarPanel::createSearchBar() {
  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("<b>Exemplars</b> from")));
  source_ = new QComboBox;
  source_->addItem(tr("Fashion-MNIST test set"));
  source_->addItem(tr("the open image's folder"));
  bar->addWidget(source_);
  bar->addWidget(new QLabel(tr("first")));
  limit_ = new QSpinBox;
  limit_->setRange(10, 10000);
  limit_->setSingleStep(100);
  limit_->setValue(1000);
  limit_->setSuffix(tr(" images"));
  bar->addWidget(limit_);
  find_ = new QPushButton(tr("Find exemplars"));
  find_->setToolTip(tr("The top 9 images per channel of every tap by the channel's maximum activation, with the crop\n"
                       "of the theoretical receptive field around its argmax (one pass; kept in the cache folder\n"
                       "and reused for the same weights, images and taps)."));
  bar->addWidget(find_);
  cancel_ = new QPushButton(tr("Cancel"));
  bar->addWidget(cancel_);
  bar->addStretch(1);
  return bar;
}

// Visualize, the channel's activation-maximisation picture and its description.
QHBoxLayout* ExemplarPanel::createVisualizationRow() {
  auto* visRow = new QHBoxLayout;
  visualize_ = new QPushButton(tr("Visualize"));
  visualize_->setToolTip(tr("Activation maximisation (Olah et al. 2017, Lucid's parametrisation and transforms, 256 steps,\n"
                            "seed 0; greyscale for Fashion-MNIST models): an image that drives the channel's mean up."));
  visRow->addWidget(visualize_, 0, Qt::AlignTop);
  visPicture_ = new QLabel;
  visPicture_->setFixedSize(96, 96);
  visPicture_->setAlignment(Qt::AlignCenter);
  visRow->addWidget(visPicture_);
  visText_ = new QLabel;
  visText_->setWordWrap(true);
  visText_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  visRow->addWidget(visText_, 1);
  return visRow;
}

// Find, Visualize and Cancel; the session's exemplars, pictures and data set update the panel.
void ExemplarPanel::connectControls() {
  FeatureVisSession& fv = session_->featureVis();
  connect(find_, &QPushButton::clicked, this, [this] {
    if (source_->currentIndex() == 1 && session_->imagePath().isEmpty()) {
      summary_->setText(tr("The open image is not a file in a folder: open one, or use the test set."));
      return;
    }
    const QString folder = source_->currentIndex() == 1 ? QFileInfo(session_->imagePath()).absolutePath() : QString();
    findExemplars(folder, limit_->value());
  });
  connect(visualize_, &QPushButton::clicked, this, &ExemplarPanel::visualize);
  connect(cancel_, &QPushButton::clicked, session_, &AnalysisSession::cancel);
  connect(session_, &AnalysisSession::busyChanged, this, &ExemplarPanel::updateButtons);
  connect(&fv, &FeatureVisSession::exemplarsChanged, this, [this](int slot) {
    if (slot != slot_) return;
    session_->featureVis().requestChannelExemplars(slot_, tap_, channel_);
    refreshExemplars();
  });
  connect(&fv, &FeatureVisSession::channelExemplarsChanged, this, &ExemplarPanel::refreshExemplars);
  connect(&fv, &FeatureVisSession::visualizationChanged, this, &ExemplarPanel::refreshVisualization);
  connect(&fv, &FeatureVisSession::datasetChanged, this, [this] {  // one data set for exemplars, sort and ERF
    const auto& d = session_->featureVis().dataset();
    source_->setCurrentIndex(d.folder.empty() ? 0 : 1);
    if (d.limit > 0) limit_->setValue(d.limit);
  });
}

void ExemplarPanel::setChannel(int slot, const QString& tap, int channel) {
  const bool same = slot == slot_ && tap == tap_ && channel == channel_;
  slot_ = slot, tap_ = tap, channel_ = channel;
  if (!same && channel >= 0) session_->featureVis().requestChannelExemplars(slot, tap, channel);
  refreshExemplars();
  refreshVisualization();
}

void ExemplarPanel::findExemplars(const QString& folder, int limit) {
  if (slot_ < 0) return;
  source_->setCurrentIndex(folder.isEmpty() ? 0 : 1);
  limit_->setValue(limit);
  session_->featureVis().setDataset(folder, limit);
  session_->featureVis().computeExemplars(slot_);
}

void ExemplarPanel::visualize() {
  if (slot_ >= 0 && channel_ >= 0) session_->featureVis().visualize(slot_, tap_, channel_);
}

QString ExemplarPanel::summary() const { return summary_->text(); }
QString ExemplarPanel::visualizationText() const { return visText_->text(); }

void ExemplarPanel::updateButtons() {
  const bool channel = slot_ >= 0 && channel_ >= 0;
  find_->setEnabled(channel);
  visualize_->setEnabled(channel);
  cancel_->setEnabled(session_->busy());
}

namespace {
// An exemplar's tooltip: its rank, image, score, cell and receptive field.
QString exemplarTip(const ChannelExemplar& e) {
  return ExemplarPanel::tr("#%1  %2\nscore %3 at cell (%4, %5), field x %6–%7, y %8–%9")
      .arg(e.rank)
      .arg(QString::fromStdString(e.name))
      .arg(double(e.score), 0, 'g', 4)
      .arg(e.cellY)
      .arg(e.cellX)
      .arg(e.box[0])
      .arg(e.box[2])
      .arg(e.box[1])
      .arg(e.box[3]);
}
}  // namespace

void ExemplarPanel::refreshExemplars() {
  for (QToolButton* b : thumbs_) delete b;
  thumbs_.clear();
  updateButtons();
  const FeatureVisSession& fv = session_->featureVis();
  if (slot_ < 0 || channel_ < 0) {
    summary_->setText(tr("Click a channel to see its exemplars."));
    return;
  }
  const ExemplarsReady* ready = fv.exemplars(slot_);
  if (!ready) {
    summary_->setText(tr("Find exemplars: the images of a data set that drive this channel most."));
    return;
  }
  const auto& ce = fv.channelExemplars();
  if (!ce || ce->slot != slot_ || ce->tap != tap_.toStdString() || ce->channel != channel_) {
    summary_->setText(tr("Loading the exemplars of channel %1…").arg(channel_));
    return;
  }
  summary_->setText(tr("Top %1 of %2 images (%3) by the channel's %4 activation%5; each crop is the receptive field "
                       "around the argmax. Click one to open it.")
                        .arg(ce->exemplars.size())
                        .arg(ready->images)
                        .arg(QString::fromStdString(ready->dataset), QString::fromStdString(ce->score),
                             ready->reused ? tr(", index read from the cache") : QString()));
  for (size_t i = 0; i < ce->exemplars.size(); ++i) {
    const ChannelExemplar& e = ce->exemplars[i];
    auto* b = new QToolButton;
    b->setIcon(scaledUp(fs::render::toQImage(e.crop), kThumb));
    b->setIconSize(QSize(kThumb, kThumb));
    b->setAutoRaise(true);
    b->setToolTip(exemplarTip(e));
    connect(b, &QToolButton::clicked, this, [this, e] { session_->featureVis().openExemplar(e); });
    thumbsLayout_->addWidget(b, int(i) / kPerRow, int(i) % kPerRow);
    thumbs_.push_back(b);
  }
}

void ExemplarPanel::refreshVisualization() {
  const auto& v = session_->featureVis().visualization();
  if (!v || v->slot != slot_ || v->tap != tap_.toStdString() || v->channel != channel_) {
    visImage_ = QImage();
    visPicture_->clear();
    visText_->setText(slot_ >= 0 && channel_ >= 0 ? tr("Visualize computes an image that maximises this channel.")
                                                  : QString());
    return;
  }
  visImage_ = fs::render::toQImage(v->image);
  visPicture_->setPixmap(scaledUp(visImage_, 96));
  QString text = tr("Optimised image (%1 steps%2, %3 s): channel mean %4 (start %5), max %6.")
                     .arg(v->steps)
                     .arg(v->greyscale ? tr(", greyscale") : QString())
                     .arg(v->seconds, 0, 'f', 1)
                     .arg(v->activation, 0, 'g', 4)
                     .arg(v->initial, 0, 'g', 4)
                     .arg(v->peak, 0, 'g', 4);
  if (v->initial == 0.0 && v->activation == 0.0)  // a rectified channel silent on the start image: no gradient
    text += tr("\nThe channel is 0 on the start image, so its gradient is 0 too and the image cannot move.");
  const auto& ce = session_->featureVis().channelExemplars();
  if (ce && ce->slot == slot_ && ce->tap == v->tap && ce->channel == channel_ && !ce->exemplars.empty()) {
    const bool byMax = ce->score == "max";
    const double mine = byMax ? v->peak : v->activation, top = ce->exemplars.front().score;
    text += tr("\nTop exemplar's %1: %2, so the image reaches %3% of it.")
                .arg(QString::fromStdString(ce->score))
                .arg(top, 0, 'g', 4)
                .arg(top != 0.0 ? 100.0 * mine / top : 0.0, 0, 'f', 0);
  }
  visText_->setText(text);
}

}  // namespace fs::ui
