// GoogleTest main for the widget tests: one QApplication for the whole binary, offscreen unless
// the caller chose a platform, settings kept out of the user's profile.
#include <QApplication>
#include <QStandardPaths>

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QStandardPaths::setTestModeEnabled(true);
  QApplication app(argc, argv);
  QCoreApplication::setOrganizationName(QStringLiteral("org.featurescope"));
  QCoreApplication::setApplicationName(QStringLiteral("FeatureScopeTests"));
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
