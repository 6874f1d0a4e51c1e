#pragma once
// QCustomPlot's header uses Qt's lower-case keywords (signals, slots, emit, foreach), which this
// project disables with QT_NO_KEYWORDS (they clash with LibTorch). Include it through here.
#define signals Q_SIGNALS
#define slots Q_SLOTS
#define emit Q_EMIT
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef signals
#undef slots
#undef emit
#undef foreach
