# Security and hostile-input tests: CURVE keys, --allow-target, junk on the
# agent's port (raw TCP and, through tests/hostile/zmq_junk, malformed
# ZeroMQ messages), and a second coordinator meeting a busy agent.
add_executable(zmq_junk hostile/zmq_junk.c)
target_link_libraries(zmq_junk PRIVATE proto PkgConfig::ZMQ)

fb_integration(test_security 600)
set_property(TEST integration.test_security APPEND PROPERTY
  ENVIRONMENT "FB_ZMQ_JUNK=$<TARGET_FILE:zmq_junk>")
