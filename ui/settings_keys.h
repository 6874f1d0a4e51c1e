#pragma once
// Every QSettings key the app uses, declared once with its type and default. The organisation and
// application names give QSettings the reverse-DNS id org.featurescope.FeatureScope.
#include <QSettings>
#include <QString>
#include <QStringList>
#include <QVariant>

namespace fs::ui {

inline constexpr char kOrganisationDomain[] = "featurescope.org";
inline constexpr char kOrganisationName[] = "org.featurescope";
inline constexpr char kApplicationName[] = "FeatureScope";
inline constexpr char kAppId[] = "org.featurescope.FeatureScope";

template <typename T>
struct SettingKey {
  const char* name;
  T fallback;
  T read(const QSettings& s) const { return s.value(QLatin1String(name), QVariant::fromValue(fallback)).template value<T>(); }
  void write(QSettings& s, const T& v) const { s.setValue(QLatin1String(name), QVariant::fromValue(v)); }
};

namespace keys {
inline const SettingKey<QByteArray> kGeometry{"window/geometry", {}};
inline const SettingKey<QByteArray> kState{"window/state", {}};
inline const SettingKey<QStringList> kRecentFiles{"input/recentFiles", {}};
inline const SettingKey<QString> kLastFolder{"input/lastFolder", {}};
inline const SettingKey<QStringList> kModelSlots{"models/slots", {}};
inline const SettingKey<QString> kColormap{"display/colormap", QStringLiteral("viridis")};
inline const SettingKey<int> kSign{"display/sign", 0};
inline const SettingKey<QString> kNorm{"display/norm", QStringLiteral("tap")};
inline const SettingKey<double> kClip{"display/clipPercentile", 99.5};
inline const SettingKey<double> kAlpha{"display/alpha", 0.55};
}  // namespace keys

}  // namespace fs::ui
