#include "ui/display_settings_panel.h"

#include "ui/analysis_session.h"
#include "ui/settings_keys.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QSignalBlocker>
#include <QSlider>

#include <cmath>

namespace fs::ui {

using namespace fs::analysis;
using namespace fs::service;

DisplaySettingsPanel::DisplaySettingsPanel(AnalysisSession* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  auto* form = new QFormLayout(this);
  form->setContentsMargins(4, 4, 4, 4);
  colormap_ = new QComboBox;
  for (const std::string& n : colormapNames()) colormap_->addItem(QString::fromStdString(n));
  sign_ = new QComboBox;
  sign_->addItems({tr("signed"), tr("absolute"), tr("ReLU")});
  norm_ = new QComboBox;
  norm_->addItems({QStringLiteral("channel"), QStringLiteral("tap"), QStringLiteral("shared")});
  norm_->setToolTip(tr("channel: each tile its own range; tap: one range per cell; shared: one range for all models"));
  clip_ = new QDoubleSpinBox;
  clip_->setRange(50.0, 100.0);
  clip_->setSingleStep(0.5);
  clip_->setSuffix(QStringLiteral(" %"));
  alpha_ = new QSlider(Qt::Horizontal);
  alpha_->setRange(0, 100);
  const QString featureOnly = tr("Feature maps. Saliency overlays follow each method's convention (sign, clip,\n"
                                 "colormap), as featurescope-cli saliency, the figure and the export do.");
  for (QWidget* w : {static_cast<QWidget*>(colormap_), static_cast<QWidget*>(sign_), static_cast<QWidget*>(clip_)})
    w->setToolTip(featureOnly);
  alpha_->setToolTip(tr("Opacity of the saliency overlays"));
  form->addRow(tr("Colormap"), colormap_);
  form->addRow(tr("Sign"), sign_);
  form->addRow(tr("Normalise"), norm_);
  form->addRow(tr("Clip at"), clip_);
  form->addRow(tr("Overlay α"), alpha_);

  QSettings s;
  colormap_->setCurrentText(keys::kColormap.read(s));
  sign_->setCurrentIndex(std::clamp(keys::kSign.read(s), 0, 2));
  norm_->setCurrentText(keys::kNorm.read(s));
  clip_->setValue(keys::kClip.read(s));
  alpha_->setValue(int(keys::kAlpha.read(s) * 100));
  apply();
  connect(colormap_, &QComboBox::currentTextChanged, this, &DisplaySettingsPanel::apply);
  connect(sign_, &QComboBox::currentIndexChanged, this, &DisplaySettingsPanel::apply);
  connect(norm_, &QComboBox::currentTextChanged, this, &DisplaySettingsPanel::apply);
  connect(clip_, &QDoubleSpinBox::valueChanged, this, &DisplaySettingsPanel::apply);
  connect(alpha_, &QSlider::valueChanged, this, &DisplaySettingsPanel::apply);
}

void DisplaySettingsPanel::setSettings(const QString& colormap, int sign, const QString& norm, double clipPercentile,
                                       double alpha) {
  {
    const QSignalBlocker b1(colormap_), b2(sign_), b3(norm_), b4(clip_), b5(alpha_);
    colormap_->setCurrentText(colormap);
    sign_->setCurrentIndex(std::clamp(sign, 0, 2));
    norm_->setCurrentText(norm);
    clip_->setValue(clipPercentile);
    alpha_->setValue(int(std::lround(alpha * 100)));
  }
  apply();
}

void DisplaySettingsPanel::apply() {
  DisplayOptions d;
  try {
    d.colormap = parseColormap(colormap_->currentText().toStdString());
  } catch (const std::exception&) {
    d.colormap = Colormap::Viridis;
  }
  d.sign = static_cast<SignMode>(sign_->currentIndex());
  d.norm = norm_->currentText();
  d.clipPercentile = clip_->value();
  d.alpha = alpha_->value() / 100.0;
  QSettings s;
  keys::kColormap.write(s, colormap_->currentText());
  keys::kSign.write(s, sign_->currentIndex());
  keys::kNorm.write(s, d.norm);
  keys::kClip.write(s, d.clipPercentile);
  keys::kAlpha.write(s, d.alpha);
  session_->setDisplay(d);
}

}  // namespace fs::ui
