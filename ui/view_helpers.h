#pragma once
// Small pieces the views share: emptying a grid, the bold column header and the model label at
// the head of a row (compare, saliency), a model's name in lists (evaluate), a plot's legend
// outside its axes (statistics, sanity cascade). GUI thread only.
#include <QString>

#include <string>

class QCustomPlot;
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
// Moves the plot's legend out of its axes into row `row` of the plot layout (the axes below it),
// its entries side by side, `perRow` to a line, so that it never hides a curve.
void legendAboveAxes(QCustomPlot* plot, int row, int perRow);
// A model's name in lists and tables: the id, or for a JSON config (whose id is its path) its folder.
QString modelIdLabel(const std::string& id);

}  // namespace fs::ui
