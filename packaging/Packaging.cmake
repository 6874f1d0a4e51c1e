# Installation layout and the Debian package (CPack).
#
#   <prefix>/bin/featurescope, featurescope-cli           (app/CMakeLists.txt)
#   <prefix>/share/featurescope/{labels,models,samples}    read-only resources
#   <prefix>/share/doc/featurescope/{copyright,changelog.gz}, <prefix>/share/man/man1/*.1.gz
#   <prefix>/share/applications/<app id>.desktop
#   <prefix>/share/metainfo/<app id>.metainfo.xml
#   <prefix>/share/mime/packages/<app id>.xml
#   <prefix>/share/icons/hicolor/{scalable,NxN}/apps/<app id>.{svg,png}
#
# The executables find the resources at <exe dir>/../share/featurescope (analysis/resources.cpp),
# so "bin" and "share" stay literal here rather than following GNUInstallDirs overrides.
#
#   cmake --build build --target package    (or: cd build && cpack)
#   -> build/featurescope_<version>_amd64.deb; runtime dependencies come from dpkg-shlibdeps.

set(FS_APP_ID "org.featurescope.FeatureScope")
set(FS_PACKAGING_DIR "${CMAKE_CURRENT_LIST_DIR}")

# The whole resources folder: demo models are added over time, install() globs it at install time.
# Temporary files of atomic writes (*.tmp-*) never ship.
install(DIRECTORY "${FS_RESOURCE_DIR}/"
        DESTINATION share/featurescope
        FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                              WORLD_READ WORLD_EXECUTE
        PATTERN "*.tmp-*" EXCLUDE
        PATTERN ".*" EXCLUDE)

# Debian's documentation files: the machine-readable copyright file (every shipped part and its
# licence; packaging/debian/copyright), the changelog (gzip -9n, as Debian wants it: no name or
# time stamp in the header, so the package is reproducible) and the man pages (help2man, from the
# programs' own --help; packaging/make_manpages.sh).
install(FILES "${FS_PACKAGING_DIR}/debian/copyright" DESTINATION share/doc/featurescope)
set(FS_DOC_BUILD_DIR "${CMAKE_BINARY_DIR}/packaging")
add_custom_command(
  OUTPUT "${FS_DOC_BUILD_DIR}/changelog.gz"
  COMMAND ${CMAKE_COMMAND} -E make_directory "${FS_DOC_BUILD_DIR}"
  COMMAND sh -c "gzip -9n < '${FS_PACKAGING_DIR}/debian/changelog' > '${FS_DOC_BUILD_DIR}/changelog.gz'"
  DEPENDS "${FS_PACKAGING_DIR}/debian/changelog"
  COMMENT "Compressing the changelog" VERBATIM)
add_custom_command(
  OUTPUT "${FS_DOC_BUILD_DIR}/man/featurescope.1.gz" "${FS_DOC_BUILD_DIR}/man/featurescope-cli.1.gz"
  COMMAND bash "${FS_PACKAGING_DIR}/make_manpages.sh" "$<TARGET_FILE_DIR:featurescope-cli>"
          "${FS_DOC_BUILD_DIR}/man" "${PROJECT_VERSION}"
  DEPENDS featurescope featurescope-cli "${FS_PACKAGING_DIR}/make_manpages.sh"
  COMMENT "Generating the man pages with help2man" VERBATIM)
# help2man comes with packaging/setup.sh. Without it the programs still build; the package refuses.
find_program(FS_HELP2MAN help2man)
if(FS_HELP2MAN)
  set(FS_DOCS_IN_ALL ALL)
else()
  message(WARNING "help2man not found: the man pages are not built and 'cpack' will refuse "
                  "(apt-get install help2man; packaging/setup.sh installs it)")
endif()
add_custom_target(package_docs ${FS_DOCS_IN_ALL} DEPENDS "${FS_DOC_BUILD_DIR}/changelog.gz"
                  "${FS_DOC_BUILD_DIR}/man/featurescope.1.gz" "${FS_DOC_BUILD_DIR}/man/featurescope-cli.1.gz")
install(CODE "if(NOT EXISTS \"${FS_DOC_BUILD_DIR}/man/featurescope.1.gz\")
  message(FATAL_ERROR \"featurescope: the man pages were not built (help2man missing?); \"
                      \"install help2man and rebuild\")
endif()")
install(FILES "${FS_DOC_BUILD_DIR}/changelog.gz" DESTINATION share/doc/featurescope)
install(FILES "${FS_DOC_BUILD_DIR}/man/featurescope.1.gz" "${FS_DOC_BUILD_DIR}/man/featurescope-cli.1.gz"
        DESTINATION share/man/man1)
install(FILES "${FS_PACKAGING_DIR}/${FS_APP_ID}.desktop" DESTINATION share/applications)
install(FILES "${FS_PACKAGING_DIR}/${FS_APP_ID}.metainfo.xml" DESTINATION share/metainfo)
# The workspace file type (application/x-featurescope-workspace, *.featurescope) for file managers.
install(FILES "${FS_PACKAGING_DIR}/${FS_APP_ID}.mime.xml" DESTINATION share/mime/packages RENAME ${FS_APP_ID}.xml)
install(FILES "${FS_PACKAGING_DIR}/icons/${FS_APP_ID}.svg" DESTINATION share/icons/hicolor/scalable/apps)
# The PNG sizes are rendered once from the SVG and kept in packaging/icons/.
foreach(size 16 24 32 48 64 128 256)
  install(FILES "${FS_PACKAGING_DIR}/icons/${FS_APP_ID}-${size}.png"
          DESTINATION share/icons/hicolor/${size}x${size}/apps
          RENAME "${FS_APP_ID}.png")
endforeach()

# ---- CPack: one Debian package ------------------------------------------------------------------
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "featurescope")
set(CPACK_PACKAGE_VENDOR "FeatureScope")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "compare the feature maps of vision models side by side")
# Debian wants description lines under 80 columns.
string(CONCAT CPACK_PACKAGE_DESCRIPTION
    "FeatureScope loads ConvMLP, ResNet, MLP-Mixer and ResMLP image classifiers,\n"
    "runs images through them and shows their intermediate feature maps and\n"
    "saliency maps side by side. The package contains the desktop app\n"
    "(featurescope), the command-line tool (featurescope-cli), small demo models\n"
    "trained on Fashion-MNIST, sample images and class labels.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_PACKAGE_MAINTAINER "FeatureScope developers <maintainers@featurescope.org>")
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# featurescope_<version>_<arch>.deb (Debian's naming; the architecture comes from dpkg).
set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")
# Library dependencies: dpkg-shlibdeps reads them from the ELF files (LibTorch, OpenCV, Qt, ...).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Only what no ELF file names: Qt loads its platform plugins (xcb, wayland, offscreen) with
# dlopen, so dpkg-shlibdeps cannot see them; libqt6gui6 merely recommends them.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "qt6-qpa-plugins")
# LibTorch is fast with the OpenMP build of OpenBLAS (see README, "Threads").
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libopenblas0-openmp")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Refuse to package when the dependency tools are missing (CPack alone would carry on without).
set(CPACK_PRE_BUILD_SCRIPTS "${FS_PACKAGING_DIR}/cpack_checks.cmake")
# "package_source": the source tree without .git, build folders or temporary files.
set(CPACK_SOURCE_GENERATOR "TGZ")
set(CPACK_SOURCE_IGNORE_FILES "/\\.git/" "/build[^/]*/" "\\.tmp-")

include(CPack)
