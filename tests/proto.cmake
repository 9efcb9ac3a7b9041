fb_unit(test_proto proto)
