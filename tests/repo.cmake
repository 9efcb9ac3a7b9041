# The repository itself: .gitignore covers what README's commands leave.
fb_integration(test_repo 60)
set_property(TEST integration.test_repo APPEND PROPERTY
  ENVIRONMENT "FB_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
