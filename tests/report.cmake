# The HTML report and the progress line: unit tests render to memory; the
# integration test runs a real coordinator with --report and, when Debian's
# chromium is installed, screenshots the page headless and checks that the
# charts were drawn. Without chromium ctest shows the test as skipped (only
# when everything else in it passed: unittest then ends with "OK (skipped=1)").
fb_unit(test_report coord)
fb_integration(test_report 300)
set_tests_properties(integration.test_report PROPERTIES
  SKIP_REGULAR_EXPRESSION "SKIPPED: chromium not installed.*OK \\(skipped=1\\)")
