#pragma once
// Registers the torch-free analysis result types with Qt's meta-type system so they can travel
// through queued signals from the worker thread to the GUI thread.
#include "analysis/figure_layout.h"
#include "analysis/session_service.h"

#include <QMetaType>

Q_DECLARE_METATYPE(fs::analysis::SlotInfo)
Q_DECLARE_METATYPE(fs::analysis::SlotPrediction)
Q_DECLARE_METATYPE(fs::analysis::TapMaps)
Q_DECLARE_METATYPE(fs::analysis::StageMaps)
Q_DECLARE_METATYPE(fs::analysis::SaliencyParams)
Q_DECLARE_METATYPE(fs::analysis::SaliencyMapResult)
Q_DECLARE_METATYPE(fs::analysis::SlotStatistics)
Q_DECLARE_METATYPE(fs::analysis::SessionCka)
Q_DECLARE_METATYPE(fs::analysis::TestSetReport)
Q_DECLARE_METATYPE(fs::analysis::FigureLayout)
Q_DECLARE_METATYPE(fs::analysis::SessionBatchResult)
Q_DECLARE_METATYPE(cv::Mat)

namespace fs::ui {
// Call once before the first queued connection (idempotent).
void registerSessionTypes();
}  // namespace fs::ui
