// Default sanitizer options of an FS_SANITIZE build (cmake/Sanitizers.cmake explains why they
// are compiled in). The environment variables ASAN_OPTIONS, UBSAN_OPTIONS and LSAN_OPTIONS are
// applied after these and override them.
extern "C" {

// detect_stack_use_after_return: catches returned references to locals (cheap at -O1).
// strict_init_order / check_initialization_order: static-initialisation order bugs.
// detect_leaks stays on; third-party one-time allocations are suppressed in lsan.supp.
const char* __asan_default_options() {
  return "detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:"
         "strict_init_order=1:strict_string_checks=1:abort_on_error=0:halt_on_error=1";
}

const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }

const char* __lsan_default_options() { return "suppressions=" FS_LSAN_SUPPRESSIONS ":print_suppressions=0"; }

}  // extern "C"
