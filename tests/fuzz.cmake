# fuzz.smoke: fuzz/run.sh --smoke builds the libFuzzer targets in a clang
# build of their own (inside this build directory, or this one when it is
# that build) and runs each for 10 s over fuzz/corpus. Exit 77, no clang with
# its libFuzzer runtime: skipped.
if(FB_FUZZ)
  set(fuzz_build ${CMAKE_BINARY_DIR})
else()
  set(fuzz_build ${CMAKE_BINARY_DIR}/fuzz-build)
endif()
add_test(NAME fuzz.smoke COMMAND ${CMAKE_SOURCE_DIR}/fuzz/run.sh --smoke)
set_tests_properties(fuzz.smoke PROPERTIES
  TIMEOUT 300 LABELS fuzz SKIP_RETURN_CODE 77
  ENVIRONMENT "FB_FUZZ_BUILD=${fuzz_build}")
