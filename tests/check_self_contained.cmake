# The repository stands alone: no test, build file or script reads a folder beside the checkout
# (the reference fixtures live in tests/data/reference). Run as: cmake -DSRC=<source dir> -P this.
file(GLOB_RECURSE candidates
  ${SRC}/tests/*.cpp ${SRC}/tests/*.h ${SRC}/tests/*.py ${SRC}/tests/*.sh ${SRC}/tests/*.txt
  ${SRC}/packaging/*.sh ${SRC}/packaging/*.py ${SRC}/packaging/*.cmake ${SRC}/cmake/*.cmake
  ${SRC}/app/*.cpp ${SRC}/analysis/*.cpp ${SRC}/model/*.cpp ${SRC}/render/*.cpp ${SRC}/service/*.cpp ${SRC}/ui/*.cpp ${SRC}/CMakeLists.txt
  ${SRC}/CMakePresets.json ${SRC}/.ci/run)
set(bad "")
foreach(f ${candidates})
  # The one script that copies fixtures in from a shared folder, and this check itself.
  if(f MATCHES "packaging/sync_fixtures.sh$" OR f MATCHES "tests/check_self_contained.cmake$")
    continue()
  endif()
  file(READ ${f} text)
  if(text MATCHES "\\.\\./shared" OR text MATCHES "FS_SHARED_DIR")
    list(APPEND bad ${f})
  endif()
endforeach()
if(bad)
  message(FATAL_ERROR "files that read a folder beside the checkout:\n  ${bad}")
endif()
foreach(fixture convmlp_tiny mixer_tiny resmlp_tiny vit_tiny deit_tiny swin_tiny convnext_tiny)
  foreach(file config.json input.npy logits.npy weights.safetensors weights.pth)
    if(NOT EXISTS ${SRC}/tests/data/reference/${fixture}/${file})
      message(FATAL_ERROR "missing fixture file tests/data/reference/${fixture}/${file}")
    endif()
  endforeach()
endforeach()
list(LENGTH candidates n)
message(STATUS "self-contained: ${n} files checked, fixtures present")
