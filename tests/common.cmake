# common/: latency histograms, and the option parsing every program shares.
fb_unit(test_hist fbcommon m)
fb_unit(test_opt fbcommon)
