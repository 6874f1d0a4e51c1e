# Fails if featurescope-cli (EXE) loads Qt Widgets or QCustomPlot (ldd): the CLI links fs_render
# (Qt Gui + Svg) for its figures, never the desktop app's fs_ui.
execute_process(COMMAND ldd ${EXE} OUTPUT_VARIABLE libs RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ldd ${EXE} failed (${rc})")
endif()
if(NOT libs MATCHES "libQt6Gui")
  message(FATAL_ERROR "${EXE}: ldd shows no libQt6Gui; is this the CLI?\n${libs}")
endif()
if(libs MATCHES "libQt6Widgets|libqcustomplot")
  message(FATAL_ERROR "${EXE} loads Qt Widgets or QCustomPlot:\n${libs}")
endif()
message(STATUS "${EXE}: no Qt Widgets, no QCustomPlot")
