#pragma once
// Registers the types that travel through queued signals from the worker thread to the GUI
// thread with Qt's meta-type system: the typed job results (ui/jobs.h) and what the views pass on.
#include "analysis/figure_layout.h"
#include "service/types.h"
#include "ui/jobs.h"

#include <QMetaType>

Q_DECLARE_METATYPE(fs::ui::JobResult)
Q_DECLARE_METATYPE(fs::analysis::FigureLayout)
Q_DECLARE_METATYPE(fs::service::SessionBatchResult)
Q_DECLARE_METATYPE(fs::service::TestSetReport)
Q_DECLARE_METATYPE(cv::Mat)

namespace fs::ui {
// Call once before the first queued connection (idempotent).
void registerSessionTypes();
}  // namespace fs::ui
