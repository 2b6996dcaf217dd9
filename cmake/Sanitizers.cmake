# EXODERM_SANITIZE: AddressSanitizer + UndefinedBehaviorSanitizer on every project target
# (preset "asan"; scripts/dev.sh test-sanitize). Included before any target is defined, so the
# flags reach the model, solver, io libraries, the app, the tests and the benchmarks alike.
# -O2 -g: the suite is dominated by Eigen and the transport kernels, which run about 3 times
# slower at -O1 under ASan (CI has 30 minutes on 2 cores); stack traces stay usable with
# -fno-omit-frame-pointer.
# -fno-sanitize-recover turns every UBSan finding into a stop, so nothing scrolls past.
# _GLIBCXX_ASSERTIONS adds bounds checks to std::vector/std::span indexing, which ASan alone
# misses when an index stays inside the allocation (capacity > size).
option(EXODERM_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)

if(EXODERM_SANITIZE)
  set(EXODERM_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined
                              -fno-omit-frame-pointer)
  add_compile_options(${EXODERM_SANITIZER_FLAGS} -O2 -g -D_GLIBCXX_ASSERTIONS)
  add_link_options(${EXODERM_SANITIZER_FLAGS})
  # detect_stack_use_after_return is off: its fake stacks doubled the suite's time, more than
  # CI's budget allows; ASan still catches stack buffer overflows and use after scope.
  # Every sanitizer report of a test run (including the exoderm processes the CLI tests start)
  # lands in this folder; the test sanitizer_reports fails when it is not empty.
  set(EXODERM_SANITIZER_LOG_DIR "${PROJECT_BINARY_DIR}/sanitizer-reports")
  set(EXODERM_SANITIZER_ENVIRONMENT
      "ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=0:check_initialization_order=1:log_path=${EXODERM_SANITIZER_LOG_DIR}/asan"
      "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=${EXODERM_SANITIZER_LOG_DIR}/ubsan"
      "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/sanitizer/lsan.supp:print_suppressions=0")
  message(STATUS "exoderm: ASan + UBSan build, reports go to ${EXODERM_SANITIZER_LOG_DIR}")
endif()
