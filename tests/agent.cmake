# agent: unit tests (no network) and the integration test that runs every
# strategy against the real target-server on 127.0.0.x.
fb_unit(test_agent_request agentcore)
fb_unit(test_agent_strategy agentcore)
fb_unit(test_agent_cli agentcore)
# Sanitized builds are several times slower; the test scales its own
# deadlines (fbtest.SLOW), this bounds the whole module.
fb_integration(test_agent_run 900 EXCLUDE TestThreadLimit)
# The threaded strategies also run under ThreadSanitizer (scripts/test.sh).
set_tests_properties(integration.test_agent_run PROPERTIES LABELS "integration;tsan")
# RLIMIT_AS leaves sanitizers no address space: skipped on sanitized builds.
fb_integration_part(test_agent_run TestThreadLimit 300)
