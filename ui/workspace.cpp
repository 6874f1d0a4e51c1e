#include "ui/workspace.h"

#include "ui/launch_options.h"

#include "analysis/colormap.h"
#include "model/errors.h"
#include "analysis/string_list.h"
#include "service/types.h"
#include "analysis/sha256.h"
#include "model/atomic_file.h"
#include "service/model_slots.h"
#include "service/saliency_service.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <cmath>

namespace fs::ui {

namespace {

constexpr qint64 kMaxWorkspaceBytes = 1 << 20;  // a workspace is a few KiB; refuse anything huge

QStringList toQStringList(const std::vector<std::string>& v) {
  QStringList out;
  for (const std::string& s : v) out << QString::fromStdString(s);
  return out;
}

bool isRegisteredId(const QString& model) {
  return toQStringList(fs::service::ModelSlots::registeredIds()).contains(model);
}

// Relative to the workspace's folder when the file lies inside it, absolute otherwise.
QString storedPath(const QString& path, const QDir& base) {
  if (path.isEmpty()) return path;
  const QString abs = QFileInfo(path).absoluteFilePath();
  const QString rel = base.relativeFilePath(abs);
  return rel.startsWith(QLatin1String("../")) || rel == QLatin1String("..") || QDir::isAbsolutePath(rel) ? abs : rel;
}

QString resolvedPath(const QString& path, const QDir& base) {
  if (path.isEmpty()) return path;
  return QDir::cleanPath(QDir::isAbsolutePath(path) ? path : base.absoluteFilePath(path));
}

// Typed field access: a missing field keeps the default, a field of the wrong type is an error.
class Reader {
 public:
  Reader(const QJsonObject& o, QString section, QString file) : o_(o), section_(std::move(section)), file_(std::move(file)) {}
  [[noreturn]] void fail(const QString& key, const QString& what) const {
    throw WorkspaceError((file_ + QStringLiteral(": ") + section_ + key + QLatin1Char(' ') + what).toStdString());
  }
  void get(const char* key, QString& out) const {
    const QJsonValue v = o_.value(QLatin1String(key));
    if (v.isUndefined()) return;
    if (v.isNull()) out.clear();
    else if (v.isString()) out = v.toString();
    else fail(QLatin1String(key), QStringLiteral("must be a string"));
  }
  void get(const char* key, double& out) const {
    const QJsonValue v = o_.value(QLatin1String(key));
    if (v.isUndefined()) return;
    if (!v.isDouble()) fail(QLatin1String(key), QStringLiteral("must be a number"));
    out = v.toDouble();
  }
  void get(const char* key, int& out) const {
    const QJsonValue v = o_.value(QLatin1String(key));
    if (v.isUndefined()) return;
    if (!v.isDouble() || v.toDouble() != std::floor(v.toDouble()) || std::abs(v.toDouble()) > 1e9)
      fail(QLatin1String(key), QStringLiteral("must be an integer"));
    out = v.toInt();
  }
  void get(const char* key, QStringList& out) const {
    const QJsonValue v = o_.value(QLatin1String(key));
    if (v.isUndefined()) return;
    if (!v.isArray()) fail(QLatin1String(key), QStringLiteral("must be a list of strings"));
    out.clear();
    for (const QJsonValue& e : v.toArray()) {
      if (!e.isString()) fail(QLatin1String(key), QStringLiteral("must be a list of strings"));
      out << e.toString();
    }
  }
  QJsonObject object(const char* key) const {
    const QJsonValue v = o_.value(QLatin1String(key));
    if (v.isUndefined()) return {};
    if (!v.isObject()) fail(QLatin1String(key), QStringLiteral("must be an object"));
    return v.toObject();
  }

 private:
  QJsonObject o_;
  QString section_, file_;
};

void requireOneOf(const QString& file, const char* field, const QString& value, const QStringList& allowed) {
  if (!allowed.contains(value))
    throw WorkspaceError(QStringLiteral("%1: %2 is '%3'; expected one of %4")
                             .arg(file, QLatin1String(field), value, allowed.join(QStringLiteral(", ")))
                             .toStdString());
}

template <typename T>
void requireRange(const QString& file, const char* field, T value, T lo, T hi) {
  if (!(value >= lo && value <= hi))
    throw WorkspaceError(QStringLiteral("%1: %2 is %3; expected a value in [%4, %5]")
                             .arg(file, QLatin1String(field)).arg(value).arg(lo).arg(hi)
                             .toStdString());
}
// Every method parameter by its name in the one table (numbers, the baseline as text).
QJsonObject parametersJson(const fs::analysis::MethodParameters& p) {
  QJsonObject o;
  for (const auto& spec : fs::analysis::parameterSpecs()) {
    const QString key = QString::fromStdString(spec.name);
    if (!spec.choices.empty()) o[key] = QString::fromStdString(p.baseline);
    else o[key] = fs::analysis::parameterValue(p, spec.name);
  }
  return o;
}

// "saliency.parameters" (version 2) or the version-1 keys; ranges checked by the one table.
fs::analysis::MethodParameters readParameters(const QJsonObject& sal, const QString& file) {
  fs::analysis::MethodParameters p;
  QJsonObject values = sal.value(QStringLiteral("parameters")).toObject();
  if (sal.contains(QStringLiteral("parameters")) && !sal.value(QStringLiteral("parameters")).isObject())
    throw WorkspaceError((file + QStringLiteral(": saliency.parameters must be an object")).toStdString());
  static const std::pair<const char*, const char*> kVersion1[] = {
      {"smoothgrad_samples", "samples"}, {"smoothgrad_sigma", "sigma"}, {"ig_steps", "steps"},
      {"ig_baseline", "baseline"},       {"occlusion_window", "window"}, {"occlusion_stride", "stride"}};
  for (const auto& [old, name] : kVersion1)
    if (sal.contains(QLatin1String(old)) && !values.contains(QLatin1String(name)))
      values[QLatin1String(name)] = sal.value(QLatin1String(old));
  for (auto it = values.begin(); it != values.end(); ++it) {
    const QString where = file + QStringLiteral(": saliency.parameters.") + it.key();
    try {
      const auto& spec = fs::analysis::parameterSpec(it.key().toStdString());
      if (!spec.choices.empty()) {
        const std::string v = it.value().toString().toStdString();
        if (std::find(spec.choices.begin(), spec.choices.end(), v) == spec.choices.end())
          throw fs::model::InputError("must be one of " + fs::analysis::joinList(spec.choices));
        p.baseline = v;
      } else {
        if (!it.value().isDouble()) throw fs::model::InputError("must be a number");
        fs::analysis::setParameterValue(p, spec.name, it.value().toDouble());
      }
    } catch (const fs::model::InputError& e) {
      throw WorkspaceError((where + QStringLiteral(": ") + QString::fromUtf8(e.what())).toStdString());
    }
  }
  return p;
}


QJsonObject toJson(const Workspace& ws, const QDir& base) {
  QJsonArray models;
  for (const WorkspaceSlot& s : ws.slots) {
    QJsonObject m;
    m[QStringLiteral("model")] = isRegisteredId(s.model) ? s.model : storedPath(s.model, base);
    m[QStringLiteral("weights")] = s.weights.isEmpty() ? QJsonValue() : QJsonValue(storedPath(s.weights, base));
    m[QStringLiteral("sha256")] = s.sha256.isEmpty() ? QJsonValue() : QJsonValue(s.sha256);
    models.append(m);
  }
  auto orNull = [](const QString& s) { return s.isEmpty() ? QJsonValue() : QJsonValue(s); };
  QJsonObject root;
  root[QStringLiteral("format")] = QLatin1String(kWorkspaceFormat);
  root[QStringLiteral("version")] = kWorkspaceVersion;
  root[QStringLiteral("input")] = QJsonObject{{QStringLiteral("image"), orNull(storedPath(ws.image, base))},
                                              {QStringLiteral("folder"), orNull(storedPath(ws.folder, base))}};
  root[QStringLiteral("models")] = models;
  root[QStringLiteral("view")] = ws.view;
  root[QStringLiteral("display")] = QJsonObject{{QStringLiteral("colormap"), ws.colormap},
                                                {QStringLiteral("sign"), ws.sign},
                                                {QStringLiteral("normalise"), ws.norm},
                                                {QStringLiteral("clip_percentile"), ws.clipPercentile},
                                                {QStringLiteral("alpha"), ws.alpha}};
  root[QStringLiteral("compare")] = QJsonObject{{QStringLiteral("channels"), ws.compareChannels},
                                                {QStringLiteral("rank"), ws.compareRank},
                                                {QStringLiteral("method"), ws.compareMethod}};
  root[QStringLiteral("saliency")] = QJsonObject{{QStringLiteral("methods"), QJsonArray::fromStringList(ws.saliencyMethods)},
                                                 {QStringLiteral("target"), ws.saliencyTarget},
                                                 {QStringLiteral("tap"), ws.tap},
                                                 {QStringLiteral("parameters"), parametersJson(ws.parameters)}};
  return root;
}

std::vector<WorkspaceSlot> readSlots(const QJsonObject& root, const QDir& base, const QString& file) {
  const QJsonValue v = root.value(QStringLiteral("models"));
  if (!v.isArray()) throw WorkspaceError((file + QStringLiteral(": \"models\" must be a list")).toStdString());
  std::vector<WorkspaceSlot> slots;
  for (const QJsonValue& e : v.toArray()) {
    const QString section = QStringLiteral("models[%1].").arg(slots.size());
    if (!e.isObject()) throw WorkspaceError((file + QStringLiteral(": ") + section + QStringLiteral(" must be an object")).toStdString());
    const Reader r(e.toObject(), section, file);
    WorkspaceSlot s;
    r.get("model", s.model);
    r.get("weights", s.weights);
    r.get("sha256", s.sha256);
    if (!s.model.isEmpty() && !isRegisteredId(s.model)) s.model = resolvedPath(s.model, base);
    s.weights = resolvedPath(s.weights, base);
    slots.push_back(s);
  }
  return slots;
}

}  // namespace

bool Workspace::operator==(const Workspace& o) const {
  return image == o.image && folder == o.folder && slots == o.slots && view == o.view && colormap == o.colormap &&
         sign == o.sign && norm == o.norm && clipPercentile == o.clipPercentile && alpha == o.alpha &&
         compareChannels == o.compareChannels && compareRank == o.compareRank && compareMethod == o.compareMethod &&
         saliencyMethods == o.saliencyMethods && saliencyTarget == o.saliencyTarget && tap == o.tap &&
         parametersJson(parameters) == parametersJson(o.parameters);
}

const QStringList& workspaceSignNames() {
  static const QStringList names{QStringLiteral("signed"), QStringLiteral("absolute"), QStringLiteral("relu")};
  return names;
}

void validateWorkspace(const Workspace& ws, const QString& file) {
  const QStringList methods = toQStringList(fs::service::SaliencyService::methodNames());
  requireOneOf(file, "view", ws.view, viewNames());
  requireOneOf(file, "display.colormap", ws.colormap, toQStringList(fs::analysis::colormapNames()));
  requireOneOf(file, "display.sign", ws.sign, workspaceSignNames());
  requireOneOf(file, "display.normalise", ws.norm, {QStringLiteral("channel"), QStringLiteral("tap"), QStringLiteral("shared")});
  requireRange(file, "display.clip_percentile", ws.clipPercentile, 50.0, 100.0);
  requireRange(file, "display.alpha", ws.alpha, 0.0, 1.0);
  requireRange(file, "compare.channels", ws.compareChannels, 1, 64);
  requireOneOf(file, "compare.rank", ws.compareRank,
               {QStringLiteral("first"), QStringLiteral("mean"), QStringLiteral("max"), QStringLiteral("contribution")});
  requireOneOf(file, "compare.method", ws.compareMethod, methods);
  for (const QString& m : ws.saliencyMethods) requireOneOf(file, "saliency.methods[]", m, methods);
  readParameters(QJsonObject{{QStringLiteral("parameters"), parametersJson(ws.parameters)}}, file);  // ranges
  if (ws.slots.size() > size_t(fs::service::kMaxSlots))
    throw WorkspaceError(QStringLiteral("%1: %2 models; at most %3 slots").arg(file).arg(ws.slots.size()).arg(fs::service::kMaxSlots).toStdString());
  for (size_t i = 0; i < ws.slots.size(); ++i) {
    const WorkspaceSlot& s = ws.slots[i];
    const QString where = QStringLiteral("%1: models[%2]").arg(file).arg(i);
    if (s.model.isEmpty()) throw WorkspaceError((where + QStringLiteral(".model is missing")).toStdString());
    if (s.weights.isEmpty() != s.sha256.isEmpty())
      throw WorkspaceError((where + QStringLiteral(": weights and sha256 go together (one of them is missing)")).toStdString());
    static const QRegularExpression hex(QStringLiteral("^[0-9a-f]{64}$"));
    if (!s.sha256.isEmpty() && !hex.match(s.sha256).hasMatch())
      throw WorkspaceError((where + QStringLiteral(".sha256 is not 64 lowercase hex digits")).toStdString());
  }
}

namespace {

// The workspace file's JSON object, after refusing an unreadable or oversized file, invalid JSON,
// another format and a version this build does not read.
QJsonObject workspaceRoot(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) throw WorkspaceError((path + QStringLiteral(": cannot read (") + f.errorString() + QLatin1Char(')')).toStdString());
  if (f.size() > kMaxWorkspaceBytes)
    throw WorkspaceError(QStringLiteral("%1: %2 bytes; a workspace file is at most %3").arg(path).arg(f.size()).arg(kMaxWorkspaceBytes).toStdString());
  QJsonParseError err;
  const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &err);
  if (err.error != QJsonParseError::NoError)
    throw WorkspaceError(QStringLiteral("%1: not valid JSON (%2 at byte %3)").arg(path, err.errorString()).arg(err.offset).toStdString());
  if (!doc.isObject()) throw WorkspaceError((path + QStringLiteral(": not a FeatureScope workspace (no JSON object)")).toStdString());
  const QJsonObject root = doc.object();
  if (root.value(QStringLiteral("format")).toString() != QLatin1String(kWorkspaceFormat))
    throw WorkspaceError(QStringLiteral("%1: not a FeatureScope workspace (\"format\" is not \"%2\")").arg(path, QLatin1String(kWorkspaceFormat)).toStdString());
  const QJsonValue version = root.value(QStringLiteral("version"));
  if (!version.isDouble() || version.toInt() < 1)
    throw WorkspaceError((path + QStringLiteral(": \"version\" must be a positive integer")).toStdString());
  if (version.toInt() > kWorkspaceVersion)
    throw WorkspaceError(QStringLiteral("%1: workspace version %2 was written by a newer FeatureScope (this one reads version %3)")
                             .arg(path).arg(version.toInt()).arg(kWorkspaceVersion).toStdString());
  return root;
}

}  // namespace

Workspace readWorkspace(const QString& path) {
  const QJsonObject root = workspaceRoot(path);
  const QDir base = QFileInfo(path).absoluteDir();
  Workspace ws;
  const Reader top(root, QString(), path);
  const Reader input(top.object("input"), QStringLiteral("input."), path);
  input.get("image", ws.image);
  input.get("folder", ws.folder);
  ws.image = resolvedPath(ws.image, base);
  ws.folder = resolvedPath(ws.folder, base);
  ws.slots = readSlots(root, base, path);
  top.get("view", ws.view);
  const Reader display(top.object("display"), QStringLiteral("display."), path);
  display.get("colormap", ws.colormap);
  display.get("sign", ws.sign);
  display.get("normalise", ws.norm);
  display.get("clip_percentile", ws.clipPercentile);
  display.get("alpha", ws.alpha);
  const Reader compare(top.object("compare"), QStringLiteral("compare."), path);
  compare.get("channels", ws.compareChannels);
  compare.get("rank", ws.compareRank);
  compare.get("method", ws.compareMethod);
  const Reader sal(top.object("saliency"), QStringLiteral("saliency."), path);
  sal.get("methods", ws.saliencyMethods);
  sal.get("target", ws.saliencyTarget);
  sal.get("tap", ws.tap);
  ws.parameters = readParameters(top.object("saliency"), path);
  validateWorkspace(ws, path);
  return ws;
}

void writeWorkspace(const QString& path, const Workspace& ws) {
  validateWorkspace(ws, path);
  const QDir base = QFileInfo(path).absoluteDir();
  const QByteArray bytes = QJsonDocument(toJson(ws, base)).toJson(QJsonDocument::Indented);
  try {
    fs::model::writeFileAtomically(path.toStdString(), std::string_view(bytes.constData(), size_t(bytes.size())));
  } catch (const std::exception& e) {
    throw WorkspaceError(e.what());
  }
}

QString checkpointSha256(const QString& path) {
  try {
    return QString::fromStdString(fs::analysis::sha256File(path.toStdString()));
  } catch (const std::exception& e) {
    throw WorkspaceError(e.what());
  }
}

QString checkpointProblem(const WorkspaceSlot& slot) {
  if (!isRegisteredId(slot.model) && !QFileInfo(slot.model).isFile())
    return QStringLiteral("%1: not a registered model id, and no such JSON config (moved or deleted?)").arg(slot.model);
  if (slot.weights.isEmpty()) return {};
  if (!QFileInfo(slot.weights).isFile())
    return QStringLiteral("%1: the checkpoint is missing (moved or deleted); the workspace recorded SHA-256 %2")
        .arg(slot.weights, slot.sha256);
  QString now;
  try {
    now = checkpointSha256(slot.weights);
  } catch (const WorkspaceError& e) {
    return QString::fromStdString(e.what());
  }
  if (now != slot.sha256)
    return QStringLiteral("%1: the checkpoint has changed: its SHA-256 is %2, the workspace recorded %3")
        .arg(slot.weights, now, slot.sha256);
  return {};
}

}  // namespace fs::ui
