# The HTML report and the progress line: unit tests render to memory; the
# integration test runs a real coordinator with --report and, when Debian's
# chromium is installed, screenshots the page headless and checks that the
# charts were drawn (its own test, shown as skipped without chromium).
fb_unit(test_report coord)
# The charts' scales, ticks and axes alone.
fb_unit(test_svg coord)
fb_integration(test_report 300 EXCLUDE ReportTest.test_screenshot)
fb_integration_part(test_report ReportTest.test_screenshot 300)
