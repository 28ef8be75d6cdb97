# Install layout and the Debian package.
#
#   cmake --install build --prefix /usr     binaries, unit, config, man pages, docs
#   (cd build && cpack -G DEB)              supervent_<version>_<arch>.deb
#
# With the prefix /usr (the package) the config goes to /etc/supervent, as the
# docs say; with any other prefix to PREFIX/etc/supervent, so a trial install
# never touches /etc. The unit's ExecStart and --config follow.
include(GNUInstallDirs)

# The programs install themselves (daemon/ and sink/ CMakeLists.txt).

install(FILES ${PROJECT_SOURCE_DIR}/man/superventd.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${PROJECT_SOURCE_DIR}/man/supervent-ctl.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/configuration.md
              ${PROJECT_SOURCE_DIR}/docs/operations.md ${PROJECT_SOURCE_DIR}/config/superventd.example.toml
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The config and the unit, with ExecStart pointing at this prefix's superventd
# (the source unit says /usr/bin and /etc/supervent, where the package puts them).
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(conf_dir \"/etc/supervent\")
  else()
    set(conf_dir \"\${CMAKE_INSTALL_PREFIX}/etc/supervent\")
  endif()
  # file(INSTALL) adds DESTDIR itself; file(WRITE) below does not.
  file(INSTALL \"${PROJECT_SOURCE_DIR}/config/superventd.example.toml\" DESTINATION \"\${conf_dir}\"
       RENAME superventd.toml PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  file(READ \"${PROJECT_SOURCE_DIR}/systemd/superventd.service\" unit)
  string(REPLACE \"/usr/bin/superventd\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/superventd\" unit \"\${unit}\")
  string(REPLACE \"/etc/supervent/\" \"\${conf_dir}/\" unit \"\${unit}\")
  set(unit_dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
  file(MAKE_DIRECTORY \"\${unit_dir}\")
  file(WRITE \"\${unit_dir}/superventd.service\" \"\${unit}\")
  message(STATUS \"Installing: \${unit_dir}/superventd.service\")
")

set(CPACK_PACKAGE_NAME "supervent")
set(CPACK_PACKAGE_VENDOR "supervent")
set(CPACK_PACKAGE_CONTACT "supervent maintainers <supervent@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "synthetic log generator: superventd, supervent-ctl, supervent-sink")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
# Install with DESTDIR so the install code sees the real prefix, /usr.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX "/usr")
set(CPACK_GENERATOR "DEB")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "utils")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "superventd generates realistic synthetic log streams and ships them to the\nAxiom ingest API as fast as the machine allows; supervent-ctl watches and\ncontrols it; supervent-sink is an Axiom-compatible test receiver.")
# /etc/supervent/superventd.toml is the operator's: dpkg keeps their edits.
set(supervent_deb_dir "${CMAKE_BINARY_DIR}/debian")
file(MAKE_DIRECTORY "${supervent_deb_dir}")
file(WRITE "${supervent_deb_dir}/conffiles" "/etc/supervent/superventd.toml\n")
file(WRITE "${supervent_deb_dir}/postinst" "#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n")
file(WRITE "${supervent_deb_dir}/postrm" "#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n")
file(CHMOD "${supervent_deb_dir}/postinst" "${supervent_deb_dir}/postrm" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${supervent_deb_dir}/conffiles;${supervent_deb_dir}/postinst;${supervent_deb_dir}/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
