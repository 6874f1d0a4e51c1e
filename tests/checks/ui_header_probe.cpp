// The control for ui_torch_probe.cpp: the GUI's own headers compile with the same settings, so
// the probe fails for the torch include alone.
#include "ui/analysis_session.h"
#include "ui/main_window.h"

int uiHeaderProbe() { return fs::service::kMaxSlots; }
