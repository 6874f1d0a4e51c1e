#pragma once
// Small pieces the matrix views (compare, saliency) share: emptying a grid, the bold column
// header and the model label at the head of a row. GUI thread only.
#include <QString>

class QGridLayout;
class QLabel;
class QScrollArea;

namespace fs::ui {

struct SlotState;

// A scroll area around an empty grid (stored in *grid) for the matrix views.
QScrollArea* scrollingGrid(QGridLayout** grid);
// Deletes every item and widget of the layout.
void clearGrid(QGridLayout* grid);
QLabel* columnHeader(const QString& text);
// "<id> / <family>" plus optional rich-text lines, centred.
QString modelRowText(const SlotState& slot, const QString& extra = {});
QLabel* modelRowLabel(const SlotState& slot, const QString& extra = {});

}  // namespace fs::ui
