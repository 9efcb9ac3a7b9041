fb_unit(test_stats coord)
fb_unit(test_summary coord)
fb_unit(test_export coord)
fb_unit(test_outfile coord)
fb_unit(test_journal coord)
fb_unit(test_vet coord)

# hyperfine's own scripts must read our JSON: test_export also writes a
# sample export, and the check reads it the way those scripts do (and runs
# them, when HYPERFINE_SCRIPTS names a checkout and numpy & co. are there).
set_tests_properties(unit.test_export PROPERTIES
  FIXTURES_SETUP export_sample
  ENVIRONMENT "FB_EXPORT_SAMPLE=${CMAKE_CURRENT_BINARY_DIR}/export_sample.json")
add_test(NAME integration.check_hyperfine_scripts
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/check_hyperfine_scripts.py
                 ${CMAKE_CURRENT_BINARY_DIR}/export_sample.json)
set_tests_properties(integration.check_hyperfine_scripts PROPERTIES
  FIXTURES_REQUIRED export_sample TIMEOUT 120 LABELS integration
  ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")

# The distributed path end to end: real agents, target-server and
# coordinators over real ZeroMQ on 127.0.0.x (and network namespaces as root).
fb_integration(test_coordinator 600)
fb_integration(test_durability 600)
fb_integration(test_files 300)
fb_integration(test_checks 300)
# Seeded random faults (about 2 minutes; FB_FAULTS_SCHEDULES=200 for the long mode).
fb_integration(test_faults 400)
set_tests_properties(integration.test_coordinator integration.test_durability
                     PROPERTIES LABELS "integration;tsan")
# The session's state table row by row, rogue agents (integration/rogue_agent.py,
# stdlib only: integration/fbwire.py speaks ZMTP and msgpack) and frozen,
# restarted and paused peers.
fb_integration(test_session 900)
