# common/: the error type, latency histograms, and the option parsing every
# program shares.
fb_unit(test_err fbcommon)
fb_unit(test_hist fbcommon m)
fb_unit(test_opt fbcommon)
# HdrHistogram_c's own output, compared byte for byte (unit/hdr/README.md).
target_compile_definitions(test_hist PRIVATE HDR_REF_DIR="${CMAKE_CURRENT_SOURCE_DIR}/unit/hdr")
