fb_unit(test_hist fbcommon m)
