# Deployment tests: deploy/ec2.sh against a stand-in `aws` and through
# Debian's real AWS CLI against a stand-in of the EC2 API on loopback
# (TestEc2WithRealCli; nothing reaches AWS), deploy/local-cluster.sh up/run/down on 127.0.0.x (and in network
# namespaces as root), the systemd units, and the .deb that `cpack -G DEB`
# builds from this build. The parts that need a tool or root have tests of
# their own, shown as skipped where the host lacks it.
set(deploy_parts TestStatic.test_shellcheck TestStatic.test_units_verify
                 TestLocalCluster.test_netns TestManPages.test_render TestDeb
                 TestEc2WithRealCli)
fb_integration(test_deploy 300 EXCLUDE ${deploy_parts})
set_property(TEST integration.test_deploy APPEND PROPERTY
  ENVIRONMENT "FB_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
foreach(part IN LISTS deploy_parts)
  fb_integration_part(test_deploy ${part} 300)
  set_property(TEST integration.test_deploy.${part} APPEND PROPERTY
    ENVIRONMENT "FB_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endforeach()
