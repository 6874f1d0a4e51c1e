#include "analysis/features/exemplar_figure.h"

#include "analysis/counted.h"
#include "model/errors.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <sstream>

namespace fs::analysis {
namespace {

cv::Mat cropCell(const ImageSource& source, const fs::model::InputSpec& spec,
                 const Exemplar& e) {
  const cv::Mat seen = source.seen(e.image, spec);
  cv::Mat crop = seen(cv::Rect(e.box[0], e.box[1], e.box[2] - e.box[0], e.box[3] - e.box[1])).clone();
  const int zoom = std::max(1, 96 / std::max(crop.cols, crop.rows));
  cv::resize(crop, crop, cv::Size(), zoom, zoom, cv::INTER_NEAREST);
  return crop;
}

std::string scoreText(float s) {
  std::ostringstream o;
  o.precision(3);
  o << s;
  return o.str();
}

}  // namespace

FigureLayout exemplarFigure(const ExemplarIndex& index, const ImageSource& source, const fs::model::InputSpec& spec,
                            int channels) {
  if (source.contentHash != index.datasetSha256)
    throw fs::model::InputError("exemplar figure: the images given are not the index's data set (" + index.dataset + ")");
  FigureLayout f;
  f.title = "Dataset exemplars: " + index.model + " (" + exemplarScoreName(index.score) + " activation)";
  for (int r = 0; r < index.k; ++r) f.columnLabels.push_back("#" + std::to_string(r + 1));
  for (const auto& tap : index.taps) {
    const auto& list = index.channels.at(tap);
    for (int c = 0; c < std::min<int>(channels, int(list.size())); ++c) {
      f.rowLabels.push_back(tap + "\nchannel " + std::to_string(c));
      std::vector<FigureCell> row(size_t(index.k));
      for (size_t r = 0; r < list[size_t(c)].size(); ++r) {
        const Exemplar& e = list[size_t(c)][r];
        row[r].kind = CellKind::Overlay;
        row[r].overlay.rgb = cropCell(source, spec, e);
        row[r].overlay.colormap = Colormap::Gray;
        row[r].note = "img " + std::to_string(e.image) + ": " + scoreText(e.score);
      }
      f.cells.push_back(std::move(row));
    }
  }
  f.metrics.tileSize = 18.0;
  f.caption = "Top " + std::to_string(index.k) + " of " + counted(index.imageCount, "image") + " of the " +
              index.dataset + " per channel by its " + exemplarScoreName(index.score) +
              " activation; each crop is the theoretical receptive field around the channel's argmax position.";
  return f;
}

}  // namespace fs::analysis
