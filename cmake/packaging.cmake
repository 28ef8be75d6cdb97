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

# Man pages and the changelog go out compressed, as Debian policy asks:
# gzip -9n (no name or time stamp, so the bytes are the same every build).
set(supervent_gz_dir "${CMAKE_BINARY_DIR}/gz")
set(supervent_gz_files)
function(supervent_gzip source name)
  add_custom_command(OUTPUT "${supervent_gz_dir}/${name}.gz"
                     COMMAND ${CMAKE_COMMAND} -E make_directory "${supervent_gz_dir}"
                     COMMAND sh -c "gzip -9n -c '${source}' > '${supervent_gz_dir}/${name}.gz'"
                     DEPENDS "${source}" VERBATIM)
  set(supervent_gz_files ${supervent_gz_files} "${supervent_gz_dir}/${name}.gz" PARENT_SCOPE)
endfunction()
supervent_gzip(${PROJECT_SOURCE_DIR}/man/superventd.8 superventd.8)
supervent_gzip(${PROJECT_SOURCE_DIR}/man/supervent-ctl.1 supervent-ctl.1)
supervent_gzip(${PROJECT_SOURCE_DIR}/man/supervent-sink.1 supervent-sink.1)
supervent_gzip(${PROJECT_SOURCE_DIR}/packaging/changelog changelog)
add_custom_target(supervent_compressed_docs ALL DEPENDS ${supervent_gz_files})
install(FILES ${supervent_gz_dir}/superventd.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${supervent_gz_dir}/supervent-ctl.1.gz ${supervent_gz_dir}/supervent-sink.1.gz
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/configuration.md
              ${PROJECT_SOURCE_DIR}/docs/operations.md ${PROJECT_SOURCE_DIR}/docs/sink.md ${PROJECT_SOURCE_DIR}/docs/scenarios.md
              ${PROJECT_SOURCE_DIR}/packaging/copyright ${supervent_gz_dir}/changelog.gz
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
# Every file the help texts and the shipped config name as an example.
install(FILES ${PROJECT_SOURCE_DIR}/config/superventd.example.toml ${PROJECT_SOURCE_DIR}/config/scenario.example.toml
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
# Shell completions, where bash-completion and zsh look for them.
install(FILES ${PROJECT_SOURCE_DIR}/completions/superventd.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME superventd)
install(FILES ${PROJECT_SOURCE_DIR}/completions/supervent-ctl.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME supervent-ctl)
install(FILES ${PROJECT_SOURCE_DIR}/completions/supervent-sink.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME supervent-sink)
install(FILES ${PROJECT_SOURCE_DIR}/completions/_superventd ${PROJECT_SOURCE_DIR}/completions/_supervent-ctl
              ${PROJECT_SOURCE_DIR}/completions/_supervent-sink
        DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)

# The config and the unit, with ExecStart pointing at this prefix's superventd
# (the source unit says /usr/bin and /etc/supervent, where the package puts them).
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(conf_dir \"/etc/supervent\")
  else()
    set(conf_dir \"\${CMAKE_INSTALL_PREFIX}/etc/supervent\")
  endif()
  # file(INSTALL) adds DESTDIR itself; file(WRITE) below does not.
  file(INSTALL \"${PROJECT_SOURCE_DIR}/systemd/superventd.toml\" DESTINATION \"\${conf_dir}\"
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  file(READ \"${PROJECT_SOURCE_DIR}/systemd/superventd.service\" unit)
  string(REPLACE \"/usr/bin/superventd\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/superventd\" unit \"\${unit}\")
  string(REPLACE \"/etc/supervent/\" \"\${conf_dir}/\" unit \"\${unit}\")
  set(unit_dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
  file(MAKE_DIRECTORY \"\${unit_dir}\")
  file(WRITE \"\${unit_dir}/superventd.service\" \"\${unit}\")
  message(STATUS \"Installing: \${unit_dir}/superventd.service\")
  # superventd@NAME: one instance per /etc/supervent/NAME.toml.
  file(READ \"${PROJECT_SOURCE_DIR}/systemd/superventd@.service\" unit)
  string(REPLACE \"/usr/bin/superventd\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/superventd\" unit \"\${unit}\")
  string(REPLACE \"/etc/supervent/\" \"\${conf_dir}/\" unit \"\${unit}\")
  file(WRITE \"\${unit_dir}/superventd@.service\" \"\${unit}\")
  message(STATUS \"Installing: \${unit_dir}/superventd@.service\")
")

set(CPACK_PACKAGE_NAME "supervent")
set(CPACK_PACKAGE_VENDOR "supervent")
# The address the project's commits are made under.
set(CPACK_PACKAGE_CONTACT "supervent maintainers <maintainers@users.noreply.r-seed-1bda2090.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "synthetic log generator: superventd, supervent-ctl, supervent-sink")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
# Install with DESTDIR so the install code sees the real prefix, /usr.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX "/usr")
set(CPACK_GENERATOR "DEB")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "utils")
# dpkg-shlibdeps derives Depends from what the binaries link: liburing2,
# libssl3, libzstd1, libpq5 (postgresql:// sinks), ...; e2e.ops_package checks it.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Stripped binaries in the package; their debug symbols in
# supervent-dbgsym_<version>_<arch>.ddeb, under /usr/lib/debug/.build-id
# (CPack splits them off itself: stripping at install would leave none).
set(CPACK_DEBIAN_DEBUGINFO_PACKAGE ON)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "superventd generates realistic synthetic log streams and ships them to the\nAxiom ingest API as fast as the machine allows; supervent-ctl watches and\ncontrols it; supervent-sink is an Axiom-compatible test receiver.")
# /etc/supervent/superventd.toml is the operator's: dpkg keeps their edits.
set(supervent_deb_dir "${CMAKE_BINARY_DIR}/debian")
file(MAKE_DIRECTORY "${supervent_deb_dir}")
file(WRITE "${supervent_deb_dir}/conffiles" "/etc/supervent/superventd.toml\n")
# The group that may use the control socket (systemd/superventd.toml,
# the unit's SupplementaryGroups=). Left in place on purge: files may carry it.
# Not made in a scratch root (DPKG_ROOT), which has no group database.
file(WRITE "${supervent_deb_dir}/postinst" "#!/bin/sh\nset -e\nif [ -z \"\${DPKG_ROOT:-}\" ] && ! getent group supervent >/dev/null; then\n  groupadd --system supervent\nfi\nif [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n")
file(WRITE "${supervent_deb_dir}/postrm" "#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n")
file(CHMOD "${supervent_deb_dir}/postinst" "${supervent_deb_dir}/postrm" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${supervent_deb_dir}/conffiles;${supervent_deb_dir}/postinst;${supervent_deb_dir}/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
