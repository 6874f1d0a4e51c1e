# The layering app -> ui -> (render, service) -> analysis -> model, checked on every include, angle
# or quoted:
#  - model/, analysis/ and service/ include no Qt and nothing from render/, ui/ or app/; service/'s
#    public headers (all but the private slot_store.h and evaluation_workers.h) include no LibTorch
#    header;
#  - the desktop app's main.cpp includes no LibTorch header;
#  - render/ and ui/ include no LibTorch header; render/ includes no Qt Widgets and nothing from ui/;
#  - featurescope-cli (app/cli_*) includes nothing from ui/ and no Qt Widgets (it links fs_render).
# (The link graph says the same: featurescope-cli links fs_render, not fs_ui; ctest cli_links_no_widgets.)
file(GLOB_RECURSE lower ${SRC}/model/*.h ${SRC}/model/*.cpp ${SRC}/analysis/*.h ${SRC}/analysis/*.cpp
     ${SRC}/service/*.h ${SRC}/service/*.cpp)
file(GLOB service_headers ${SRC}/service/*.h)
list(FILTER service_headers EXCLUDE REGEX "(slot_store|evaluation_workers)\\.h$")
file(GLOB_RECURSE render ${SRC}/render/*.h ${SRC}/render/*.cpp)
file(GLOB_RECURSE ui ${SRC}/ui/*.h ${SRC}/ui/*.cpp)
file(GLOB cli ${SRC}/app/cli_*.h ${SRC}/app/cli_*.cpp)
set(bad "")
function(forbid files regex why)
  foreach(f ${files})
    file(STRINGS ${f} hits REGEX "${regex}")
    if(hits)
      set(bad "${bad}\n${f} (${why}): ${hits}" PARENT_SCOPE)
    endif()
  endforeach()
endfunction()
set(widgets "#include[ \t]*[<\"](QtWidgets/|QApplication|QWidget|QDialog|QMainWindow|qcustomplot)")
forbid("${lower}" "#include[ \t]*[<\"](Q[A-Za-z]|ui/|render/|app/)" "Qt or an upper layer below render/")
forbid("${render};${ui};${service_headers};${SRC}/app/main.cpp" "#include[ \t]*[<\"](torch|ATen|c10)/"
       "LibTorch in render/, ui/, service/'s public headers or the app's main.cpp")
forbid("${render}" "${widgets}|#include[ \t]*\"ui/" "Widgets or ui/ in render/")
forbid("${cli}" "${widgets}|#include[ \t]*\"ui/" "Widgets or ui/ in featurescope-cli")
if(bad)
  message(FATAL_ERROR "Layering violated:${bad}")
endif()
message(STATUS "layering ok: ${SRC}")
