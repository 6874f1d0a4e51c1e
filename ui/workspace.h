#pragma once
// Workspace files (.featurescope, JSON): what the window shows, saved so that it can be opened
// again: the image or folder, the model slots with their checkpoints' paths and SHA-256, the view,
// the display settings and the method parameters. A plain struct with read/write/validate, no
// widgets, so that it is testable on its own; MainWindow captures and applies it. Any thread.
//
// Paths: a file inside the workspace's folder (or below it) is written relative to that folder,
// any other file as an absolute path; relative paths are resolved against the workspace's folder
// when read, so a project folder keeps working when moved as a whole.
#include "analysis/saliency/method_parameters.h"

#include <QString>
#include <QStringList>

#include <stdexcept>
#include <vector>

namespace fs::ui {

inline constexpr char kWorkspaceFormat[] = "featurescope-workspace";
inline constexpr int kWorkspaceVersion = 2;  // 2: saliency.parameters (1: fixed keys, still read)
inline constexpr char kWorkspaceSuffix[] = "featurescope";  // file name suffix, without the dot

// A workspace file that cannot be read, parsed or written; the message names the file and why.
class WorkspaceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct WorkspaceSlot {
  QString model;    // registered id, or the path of a JSON config
  QString weights;  // checkpoint path; empty: random initialisation
  QString sha256;   // of `weights` (64 lowercase hex digits); empty iff weights is empty
  bool operator==(const WorkspaceSlot& o) const {
    return model == o.model && weights == o.weights && sha256 == o.sha256;
  }
};

struct Workspace {
  QString image;   // the image shown (empty: none, e.g. a pasted one)
  QString folder;  // the folder in the image strip (empty: none)
  std::vector<WorkspaceSlot> slots;  // display order, at most 4
  QString view = QStringLiteral("compare");  // compare | features | saliency | stats
  // Display settings (the Display panel).
  QString colormap = QStringLiteral("viridis");
  QString sign = QStringLiteral("signed");   // signed | absolute | relu
  QString norm = QStringLiteral("tap");      // channel | tap | shared
  double clipPercentile = 99.5;              // [50, 100]
  double alpha = 0.55;                       // [0, 1]
  // Compare view.
  int compareChannels = 12;                  // [1, 64]
  QString compareRank = QStringLiteral("first");
  QString compareMethod = QStringLiteral("gradcam");
  // Saliency view: methods, target class name ("" = each model's top-1), parameters.
  QStringList saliencyMethods{QStringLiteral("gradcam"), QStringLiteral("gradient"), QStringLiteral("layercam")};
  QString saliencyTarget;
  QString tap;                               // CAM tap; "" = each model's last stage
  // Method parameters: defaults, ranges and names from analysis/saliency/method_parameters.h, the
  // same as featurescope-cli's (saved as "saliency.parameters": {name: value}).
  fs::analysis::MethodParameters parameters;

  bool operator==(const Workspace& o) const;
  bool operator!=(const Workspace& o) const { return !(*this == o); }
};

// The sign modes by name, in DisplaySettingsPanel's order (index = fs::analysis::SignMode).
const QStringList& workspaceSignNames();

// Checks every field's value (WorkspaceError naming the field otherwise).
void validateWorkspace(const Workspace& ws, const QString& fileForMessages);
// Reads and validates `path`; paths in it come back absolute.
Workspace readWorkspace(const QString& path);
// Validates, then writes `path` atomically (temporary file + rename); nothing is left on failure.
void writeWorkspace(const QString& path, const Workspace& ws);

// The SHA-256 of a file (lowercase hex); WorkspaceError naming the file if it cannot be read.
QString checkpointSha256(const QString& path);
// Why a slot's checkpoint (or JSON config) cannot be loaded as the workspace recorded it: missing,
// or a different SHA-256 now. Empty when it can (or when the slot has no checkpoint).
QString checkpointProblem(const WorkspaceSlot& slot);

}  // namespace fs::ui
