# Installation of what deploy/ holds, and CPack settings for the .deb.
#
#   cmake -S . -B build && cmake --build build && (cd build && cpack -G DEB)
#
# gives build/fleetbench_<version>_<arch>.deb: the three programs in /usr/bin
# (their install(TARGETS) rules are in their own CMakeLists), the systemd
# units, their /etc/default option files (conffiles), the sysusers.d entry of
# the agent's user, the man pages (docs/man, gzipped), bash completions, the
# docs and the machine-readable copyright file. `cmake --install build --prefix DIR` installs
# the same tree under DIR (the units then point to DIR/bin, the option files
# go to DIR/etc/default). deploy/README.md tells how the pieces are used.
include_guard(GLOBAL)
include(GNUInstallDirs)

set(FB_DEPLOY_DIR ${PROJECT_SOURCE_DIR}/deploy)
set(FB_UNITS fleetbench-agent.service fleetbench-target-server.service)

# The units name /usr/bin/PROGRAM (the .deb's layout). They are rewritten at
# install time for the prefix actually used: CPack installs with the
# packaging prefix (/usr) under a DESTDIR, `cmake --install --prefix` with
# its own; a configure-time path would be wrong for one of them.
set(FB_UNIT_STAGE ${PROJECT_BINARY_DIR}/deploy/systemd)
foreach(unit IN LISTS FB_UNITS)
  install(CODE "
    file(READ \"${FB_DEPLOY_DIR}/systemd/${unit}\" fb_unit)
    string(REPLACE \"=/usr/bin/\" \"=\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/\" fb_unit \"\${fb_unit}\")
    file(WRITE \"${FB_UNIT_STAGE}/${unit}\" \"\${fb_unit}\")")
  install(FILES ${FB_UNIT_STAGE}/${unit} DESTINATION lib/systemd/system)
endforeach()

# /etc/default/fleetbench-*: /etc for the /usr prefix (the .deb), PREFIX/etc
# otherwise, decided at install time for the same reason.
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(fb_etc /etc)
  else()
    set(fb_etc \"\${CMAKE_INSTALL_PREFIX}/etc\")
  endif()
  file(INSTALL DESTINATION \"\${fb_etc}/default\" TYPE FILE
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       FILES \"${FB_DEPLOY_DIR}/default/fleetbench-agent\"
             \"${FB_DEPLOY_DIR}/default/fleetbench-target-server\")")

install(FILES ${FB_DEPLOY_DIR}/debian/sysusers.conf
        DESTINATION lib/sysusers.d RENAME fleetbench.conf)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/protocol.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${FB_DEPLOY_DIR}/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME deploy.md)
# Debian's /usr/share/doc/PACKAGE/copyright, in the machine-readable format.
install(FILES ${FB_DEPLOY_DIR}/debian/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Man pages, gzipped as Debian ships them (gzip -n: no name or time, so the
# build is reproducible).
set(FB_PROGRAMS agent coordinator target-server)
find_program(FB_GZIP gzip REQUIRED)
set(fb_man_gz)
foreach(program IN LISTS FB_PROGRAMS)
  set(src ${PROJECT_SOURCE_DIR}/docs/man/${program}.1)
  set(gz ${PROJECT_BINARY_DIR}/man/${program}.1.gz)
  add_custom_command(OUTPUT ${gz}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND ${FB_GZIP} -9nc ${src} > ${gz}
    DEPENDS ${src} COMMENT "Compressing docs/man/${program}.1")
  list(APPEND fb_man_gz ${gz})
  # bash-completion loads completions/COMMAND on first use: one file serves all three
  install(FILES ${FB_DEPLOY_DIR}/bash-completion/fleetbench
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME ${program})
endforeach()
add_custom_target(man ALL DEPENDS ${fb_man_gz})
install(FILES ${fb_man_gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# ---- CPack --------------------------------------------------------------------
set(CPACK_PACKAGE_NAME fleetbench)
set(CPACK_PACKAGE_VENDOR fleetbench)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "distributed HTTP client benchmark: thread pools vs event loops")
set(FB_MAINTAINER "fleetbench maintainers <fleetbench@example.org>"
    CACHE STRING "Maintainer field of the .deb")
set(CPACK_PACKAGE_CONTACT "${FB_MAINTAINER}")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_PACKAGE_NAME fleetbench)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # fleetbench_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${FB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# (CPack puts the summary on the Description line; this is the long text.)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"fleetbench compares a thread pool of blocking HTTP clients (pthreads +
libcurl) with an event loop of asynchronous ones (libuv + the libcurl multi
socket API), across several client machines.
.
This package holds target-server (the HTTP server under load), agent (runs
the strategies on a client host) and coordinator (drives agents over
ZeroMQ with CURVE authentication and exports hyperfine-compatible results),
with systemd units for the agent and the target server.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${FB_DEPLOY_DIR}/debian/postinst ${FB_DEPLOY_DIR}/debian/prerm
    ${FB_DEPLOY_DIR}/debian/postrm ${FB_DEPLOY_DIR}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# Depends: computed by dpkg-shlibdeps where it runs (CPack needs dpkg-dev and
# `file` for it), else the runtime libraries of the build deps named by hand
# (Debian 12 and Ubuntu 24.04 names; Ubuntu's t64 libraries provide the old names).
find_program(FB_DPKG_SHLIBDEPS dpkg-shlibdeps)
find_program(FB_FILE file)
if(FB_DPKG_SHLIBDEPS AND FB_FILE)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libc6, libuv1 (>= 1.44), libcurl4 (>= 7.88), libzmq5 (>= 4.3), libmsgpackc2, libhttp-parser2.9, libjansson4 (>= 2.13)")
endif()

# `cpack --config CPackSourceConfig.cmake`: a source tarball (for ec2.sh --source).
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_PACKAGE_FILE_NAME fleetbench-${PROJECT_VERSION})
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "__pycache__" "\\\\.pyc$"
    "/results\\\\.json$")

include(CPack)
