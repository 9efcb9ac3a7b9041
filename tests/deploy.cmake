# Deployment tests: deploy/ec2.sh against a stand-in `aws` (nothing reaches
# AWS), deploy/local-cluster.sh up/run/down on 127.0.0.x (and in network
# namespaces as root), the systemd units, and the .deb that `cpack -G DEB`
# builds from this build (skipped where cpack or dpkg-deb is missing).
fb_integration(test_deploy 300)
set_property(TEST integration.test_deploy APPEND PROPERTY
  ENVIRONMENT "FB_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
