#pragma once
// The typed job API between the GUI thread and the worker (ui/worker.h): one request type per
// job, each naming its result type. A request is submitted as a JobRequest, and its answer comes
// back as the matching alternative of JobResult; AnalysisSession dispatches on the type, never on
// a message. Each request also says how it supersedes others (key) and what the progress bar
// shows (what).
#include "analysis/figure_layout.h"
#include "service/evaluation_service.h"
#include "service/feature_vis_types.h"
#include "service/image_source.h"
#include "service/sanity_service.h"
#include "service/types.h"

#include <QString>

#include <string>
#include <variant>
#include <vector>

namespace fs::ui::job {

struct LoadSlot {
  int slot = 0;
  std::string source, weights;  // registered id or JSON config; checkpoint (empty: bundled or random)
  using Result = fs::service::SlotInfo;
};

struct ClearSlot {
  int slot = 0;
  struct Result {
    int slot = 0;
  };
};

// Decoded on the worker: a file, bytes (paste, drop), an RGB image or a Fashion-MNIST test image.
struct OpenImage {
  fs::service::ImageRequest request;
  using Result = fs::service::OpenedImage;
};

struct Predict {
  int slot = 0, topK = 5;
  using Result = fs::service::SlotPrediction;
};

struct StageMaps {
  int slot = 0, k = 12;
  std::string rank = "first";
  using Result = fs::service::StageMaps;
};

struct TapMaps {
  int slot = 0;
  std::string tap, rank;
  using Result = fs::service::TapMaps;
};

// Which view asked: the compare view's saliency column or the saliency view's matrix.
enum class SaliencyUse { Compare, Matrix };

struct Saliency {
  int slot = 0;
  fs::service::SaliencyParams params;
  SaliencyUse use = SaliencyUse::Matrix;
  struct Result {
    SaliencyUse use = SaliencyUse::Matrix;
    fs::service::SaliencyMapResult map;
  };
};

struct Statistics {
  int slot = 0, bins = 40;
  using Result = fs::service::SlotStatistics;
};

struct Cka {
  int slotA = 0, slotB = 0;
  std::vector<std::string> images;
  using Result = fs::service::SessionCka;
};

struct PaperFigure {
  fs::analysis::FeatureFigureOptions options;
  using Result = fs::analysis::FigureLayout;
};

struct WriteManifest {
  std::string exportPath;
  fs::service::ExportRecord record;
  struct Result {
    std::string manifestPath;
  };
};

struct BatchExport {
  fs::service::SessionBatchExport request;
  using Result = fs::service::SessionBatchResult;
};

struct TestSet {
  int slot = 0, limit = 1000;
  using Result = fs::service::TestSetReport;
};

// One transformer block's attention probabilities (the Attention view).
struct Attention {
  int slot = 0;
  std::string unit;  // e.g. blocks.11.attn
  using Result = fs::service::AttentionMaps;
};

// A scorecard of saliency methods x metrics over a data set (the Evaluate view).
struct Evaluate {
  fs::service::EvaluationRequest request;
  using Result = fs::service::EvaluationResult;
};

// The sanity cascade of one slot and method on the current image (the Saliency view).
struct SanityCascade {
  fs::service::SanityCascadeRequest request;
  using Result = fs::service::SanityCascadeMaps;
};

// Feature visualisation (service/feature_vis_service.h): a slot's exemplar index over a data
// set, one channel's exemplars, a channel's activation maximisation, the stages' ERF, and the
// channels' selectivity at one tap.
struct Exemplars {
  fs::service::ExemplarsRequest request;
  using Result = fs::service::ExemplarsReady;
};
struct ChannelExemplars {
  int slot = 0, channel = 0;
  std::string tap;
  using Result = fs::service::ChannelExemplars;
};
struct VisualizeChannel {
  fs::service::ChannelVisRequest request;
  using Result = fs::service::ChannelVis;
};
struct Erf {
  fs::service::ErfRequest request;
  using Result = fs::service::SlotErf;
};
struct Selectivity {
  fs::service::SelectivityRequest request;
  using Result = fs::service::ChannelSelectivity;
};

}  // namespace fs::ui::job

namespace fs::ui {

using JobRequest = std::variant<job::LoadSlot, job::ClearSlot, job::OpenImage, job::Predict, job::StageMaps,
                                job::TapMaps, job::Saliency, job::Statistics, job::Cka, job::PaperFigure,
                                job::WriteManifest, job::BatchExport, job::TestSet, job::Attention, job::Evaluate,
                                job::SanityCascade, job::Exemplars, job::ChannelExemplars, job::VisualizeChannel,
                                job::Erf, job::Selectivity>;
using JobResult =
    std::variant<job::LoadSlot::Result, job::ClearSlot::Result, job::OpenImage::Result, job::Predict::Result,
                 job::StageMaps::Result, job::TapMaps::Result, job::Saliency::Result, job::Statistics::Result,
                 job::Cka::Result, job::PaperFigure::Result, job::WriteManifest::Result, job::BatchExport::Result,
                 job::TestSet::Result, job::Attention::Result, job::Evaluate::Result,
                 job::SanityCascade::Result, job::Exemplars::Result, job::ChannelExemplars::Result,
                 job::VisualizeChannel::Result, job::Erf::Result, job::Selectivity::Result>;

// A newer request with the same non-empty key supersedes a queued or running older one.
QString jobKey(const JobRequest& request);
// What the progress bar and error messages call the job, e.g. "gradcam saliency of resnet18".
QString jobTitle(const JobRequest& request);

// Overload set for std::visit.
template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace fs::ui
