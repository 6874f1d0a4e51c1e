# fs_gtest_groups(<target> LABELS <label> [ENVIRONMENT <var=value>] [FILTER <gtest filter>]
#                 [ALONE <regex>] [SIZE <n>])
#
# Registers a GoogleTest binary's tests with ctest a suite at a time instead of a test at a time
# (tests/gtest_groups.py): each process start loads LibTorch, about 1 s (2.5 s under the
# sanitizers), and with one process per test start-up took a large share of the test stages. A
# suite runs in chunks of at most SIZE tests (default 8); tests whose "Suite.Test" name matches
# ALONE keep a ctest entry of their own under that name (long tests, tests that measure their own
# process).
# The listing happens when ctest reads the test list, as gtest_discover_tests' PRE_TEST mode does,
# and again whenever the binary is rebuilt. A binary that cannot list its tests becomes a failing
# test named <target>_listing, never a silently empty list.
function(fs_gtest_groups target)
  cmake_parse_arguments(arg "" "LABELS;ENVIRONMENT;FILTER;ALONE;SIZE" "" ${ARGN})
  if(NOT arg_SIZE)
    set(arg_SIZE 8)
  endif()
  set(base "${CMAKE_CURRENT_BINARY_DIR}/${target}_groups")
  set(exe "$<TARGET_FILE:${target}>")
  set(script "${CMAKE_SOURCE_DIR}/tests/gtest_groups.py")
  set(command "\"${FS_PYTHON}\" \"${script}\" --exe \"${exe}\" --out \"${base}_tests.cmake\"
      --runner \"${CMAKE_SOURCE_DIR}/tests/run_gtest_group.sh\" --size ${arg_SIZE}
      --property LABELS [==[${arg_LABELS}]==]")
  if(arg_ENVIRONMENT)
    string(APPEND command " --property ENVIRONMENT [==[${arg_ENVIRONMENT}]==]")
  endif()
  if(arg_FILTER)
    string(APPEND command " [==[--filter=${arg_FILTER}]==]")
  endif()
  if(arg_ALONE)
    string(APPEND command " [==[--alone=${arg_ALONE}]==]")
  endif()
  file(GENERATE OUTPUT "${base}_include.cmake" CONTENT
"if(NOT EXISTS \"${base}_tests.cmake\"
   OR \"${exe}\" IS_NEWER_THAN \"${base}_tests.cmake\"
   OR \"${script}\" IS_NEWER_THAN \"${base}_tests.cmake\"
   OR \"${base}_include.cmake\" IS_NEWER_THAN \"${base}_tests.cmake\")
  file(REMOVE \"${base}_tests.cmake\")
  execute_process(COMMAND ${command})
endif()
if(EXISTS \"${base}_tests.cmake\")
  include(\"${base}_tests.cmake\")
else()
  add_test(${target}_listing /bin/sh -c
    \"echo '${target}: its tests could not be listed (gtest_groups said why when ctest started)'; exit 1\")
  set_tests_properties(${target}_listing PROPERTIES LABELS [==[${arg_LABELS}]==])
endif()
")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${base}_include.cmake")
endfunction()
