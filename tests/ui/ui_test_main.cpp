// GoogleTest main for the widget tests: one QApplication for the whole binary, offscreen unless
// the caller chose a platform, settings kept out of the user's profile and apart per process.
#include "model/threads.h"

#include <QApplication>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QStandardPaths::setTestModeEnabled(true);
  QApplication app(argc, argv);
  fs::model::configureThreads(0);  // as the desktop app does (app/main.cpp): the same kernels and threads
  // ctest runs the widget tests as parallel processes: each gets settings of its own, so one
  // test's saved slots never show up in another's.
  QTemporaryDir settingsDir;
  QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settingsDir.path());
  QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settingsDir.path());
  QCoreApplication::setOrganizationName(QStringLiteral("org.featurescope"));
  QCoreApplication::setApplicationName(QStringLiteral("FeatureScopeTests"));
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
