fb_unit(test_route tsrv)
fb_unit(test_resp tsrv)
fb_unit(test_config tsrv)
fb_integration(test_target_server 300)
