# FS_SANITIZE: AddressSanitizer + UndefinedBehaviorSanitizer for FeatureScope's own code
# (model/, analysis/, ui/, app/, tests/). LibTorch, OpenCV and Qt are not instrumented: ASan
# still sees their heap (malloc is intercepted), but not their internal stack or global accesses.
# Use the "asan" preset (CMakePresets.json); packaging/setup.sh test runs the suites under it
# after the normal run.
#
# Run-time options are compiled into every executable (sanitizer_options.cpp) instead of being
# set as ctest ENVIRONMENT properties: cmake/GTestGroups.cmake runs each test binary at ctest time
# (--gtest_list_tests) outside any test's ENVIRONMENT, and the options must hold there too, and
# when a binary is run by hand. ASAN_OPTIONS / UBSAN_OPTIONS / LSAN_OPTIONS still override them.
option(FS_SANITIZE "Build with AddressSanitizer + UndefinedBehaviorSanitizer" OFF)
if(NOT FS_SANITIZE)
  return()
endif()

if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  message(FATAL_ERROR "FS_SANITIZE needs GCC or Clang")
endif()

# -fno-sanitize-recover=all: every UBSan report aborts the process, so a test that triggers one
# fails instead of printing a warning and passing. All UBSan checks are on, vptr included: it
# reports no false positives on LibTorch 1.13's (uninstrumented) classes in these suites.
# Precompiled headers work unchanged: these flags reach the PCH and every source alike.
set(FS_SANITIZE_COMPILE_FLAGS
  -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
set(FS_SANITIZE_LINK_FLAGS -fsanitize=address,undefined)
add_compile_options(${FS_SANITIZE_COMPILE_FLAGS})
add_link_options(${FS_SANITIZE_LINK_FLAGS})
message(STATUS "FS_SANITIZE: ${FS_SANITIZE_COMPILE_FLAGS}")

# Default run-time options, linked into every executable of the build (see the top comment).
add_library(fs_sanitizer_options OBJECT ${CMAKE_CURRENT_LIST_DIR}/sanitizer_options.cpp)
target_compile_definitions(fs_sanitizer_options PRIVATE
  FS_LSAN_SUPPRESSIONS="${CMAKE_CURRENT_LIST_DIR}/lsan.supp")

# Self-test: a deliberate heap overflow, signed overflow and leak must each be reported, and stop
# the process (label "sanitizer"; packaging/setup.sh test runs it with the sanitized suites).
function(fs_sanitizer_self_test)
  add_executable(sanitizer_canary ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/sanitizer_canary.cpp)
  foreach(check IN ITEMS "heap-overflow;AddressSanitizer: heap-buffer-overflow"
                         "signed-overflow;runtime error: signed integer overflow"
                         "leak;LeakSanitizer: detected memory leaks")
    list(GET check 0 name)
    list(GET check 1 report)
    add_test(NAME sanitizer_reports_${name} COMMAND sanitizer_canary ${name})
    set_tests_properties(sanitizer_reports_${name} PROPERTIES LABELS sanitizer
      PASS_REGULAR_EXPRESSION "${report}" FAIL_REGULAR_EXPRESSION "survived")
  endforeach()
endfunction()

# Links the default options into every executable under `dir`.
function(fs_sanitizer_attach_options dir)
  get_property(targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "EXECUTABLE")
      target_link_libraries(${target} PRIVATE fs_sanitizer_options)
    endif()
  endforeach()
  get_property(subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(subdir IN LISTS subdirs)
    fs_sanitizer_attach_options("${subdir}")
  endforeach()
endfunction()
function(fs_sanitizer_finish)
  if(FS_BUILD_TESTS)
    fs_sanitizer_self_test()
  endif()
  fs_sanitizer_attach_options("${CMAKE_SOURCE_DIR}")
endfunction()

# Runs once the top-level CMakeLists.txt is fully processed: every executable exists and
# enable_testing() has been called.
cmake_language(DEFER CALL fs_sanitizer_finish)
