fb_unit(test_stats coord)
fb_unit(test_order coord)
fb_unit(test_summary coord)
fb_unit(test_export coord)
fb_unit(test_outfile coord)
fb_unit(test_journal coord)
fb_unit(test_vet coord)
fb_unit(test_agents_file coord)

# hyperfine's own scripts must read our JSON: test_export also writes a
# sample export; check_hyperfine_keys reads it the way those scripts do, and
# check_hyperfine_scripts runs them (skipped unless HYPERFINE_SCRIPTS names a
# checkout and numpy & co. are there).
set_tests_properties(unit.test_export PROPERTIES
  FIXTURES_SETUP export_sample
  ENVIRONMENT "FB_EXPORT_SAMPLE=${CMAKE_CURRENT_BINARY_DIR}/export_sample.json")
foreach(check keys:KeysTheScriptsRead scripts:HyperfineScriptsRun)
  string(REPLACE ":" ";" check "${check}")
  list(GET check 0 what)
  list(GET check 1 class)
  add_test(NAME integration.check_hyperfine_${what}
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/check_hyperfine_scripts.py
                   ${CMAKE_CURRENT_BINARY_DIR}/export_sample.json ${class})
  set_tests_properties(integration.check_hyperfine_${what} PROPERTIES
    FIXTURES_REQUIRED export_sample TIMEOUT 120 LABELS integration SKIP_RETURN_CODE 77
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endforeach()

# The distributed path end to end: real agents, target-server and
# coordinators over real ZeroMQ on 127.0.0.x (and network namespaces as root).
fb_integration(test_coordinator 600)
fb_integration(test_durability 600 EXCLUDE Partition)
# Network namespaces: skipped unless root with iproute2.
fb_integration_part(test_durability Partition 300)
# Comparisons: run order against a drifting target, the target's own view,
# interrupted exports read as hyperfine's scripts read them.
fb_integration(test_compare 600)
# Commands on agents (--allow-exec): a shell command and the seed's Python
# client on two agents in lockstep, mixed with strategies, -L, -i, refusals.
fb_integration(test_commands 300)

# Exports on odd paths, journals torn, locked and on a full disk; the full
# tmpfs needs root (a part of its own, skipped otherwise).
fb_integration(test_files 300 EXCLUDE JournalTests.test_full_disk_tmpfs)
fb_integration_part(test_files JournalTests.test_full_disk_tmpfs 120)
# Command-line and key-file checks; IPv6 known-agents needs ::1.
fb_integration(test_checks 300 EXCLUDE KeyFileTests.test_ipv6_known_agents)
fb_integration_part(test_checks KeyFileTests.test_ipv6_known_agents 120)
# Seeded random faults (about 75 s; FB_FAULTS_SCHEDULES=200 for the long mode).
fb_integration(test_faults 400)
set_tests_properties(integration.test_coordinator integration.test_durability
                     integration.test_compare PROPERTIES LABELS "integration;tsan")

# Rate mode through the coordinator (about 15 s): the rate shared and held
# by two agents, the JSON blocks, --export-hdr, --resume, a frozen target.
fb_integration(test_coordinator_rate 180)
set_tests_properties(integration.test_coordinator_rate PROPERTIES LABELS "integration;tsan")

# --agents-file with real agents (IPv4, IPv6, keys), the agent limit, and
# bench/simfleet against the real coordinator.
fb_integration(test_agents_file 300)
set_tests_properties(integration.test_agents_file PROPERTIES LABELS "integration;tsan")

# Layering: the coordinator gets the strategies' names from common/catalog.c
# and links neither libcurl nor libuv (the agent's); it does need libzmq.
add_test(NAME unit.coordinator_links_no_agent_libs
         COMMAND ${CMAKE_COMMAND} -DBINARY=$<TARGET_FILE:coordinator>
                 -DMUST=^libzmq -DMUST_NOT=^libcurl|^libuv -P ${CMAKE_CURRENT_SOURCE_DIR}/check_needed.cmake)
set_tests_properties(unit.coordinator_links_no_agent_libs PROPERTIES TIMEOUT 60 LABELS unit)

# The session's state table row by row, rogue agents (integration/rogue_agent.py,
# stdlib only: integration/fbwire.py speaks ZMTP and msgpack) and frozen,
# restarted and paused peers.
fb_integration(test_session 900)
