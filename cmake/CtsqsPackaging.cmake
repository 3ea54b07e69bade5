# Debian packages with CPack (`cmake --build BUILD --target package`, or scripts/package):
#   ctsqs      the CLI, man pages made from its own help, bash completion, the ctsqs@.service
#              unit, the manual and example collector files; dependencies from dpkg-shlibdeps
#   ctsqs-dev  the library, headers and CMake package files (find_package(ctsqs))
# The install rules below are the runtime component; the library's are in CMakeLists.txt.

option(CTSQS_MAN_PAGES "Generate man pages from the CLI's help with help2man" ON)

if(CTSQS_BUILD_CLI)
  # Man pages: packaging/man_pages.sh runs help2man over `ctsqs --help` and each command's.
  if(CTSQS_MAN_PAGES)
    find_program(CTSQS_HELP2MAN help2man)
    if(CTSQS_HELP2MAN)
      set(man_dir ${CMAKE_CURRENT_BINARY_DIR}/man)
      add_custom_command(OUTPUT ${man_dir}/ctsqs.1.gz
        COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/packaging/man_pages.sh $<TARGET_FILE:ctsqs_cli> ${man_dir}
                ${PROJECT_VERSION} > /dev/null
        DEPENDS ctsqs_cli ${CMAKE_CURRENT_SOURCE_DIR}/packaging/man_pages.sh
        COMMENT "Generating man pages from the CLI's help")
      add_custom_target(ctsqs_man ALL DEPENDS ${man_dir}/ctsqs.1.gz)
      install(DIRECTORY ${man_dir}/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT runtime OPTIONAL
              FILES_MATCHING PATTERN "*.1.gz")
    else()
      message(STATUS "help2man not found: no man pages (scripts/deps installs it)")
    endif()
  endif()

  # The systemd unit: Type=notify with a watchdog when built with libsystemd, else Type=exec.
  if(CTSQS_HAVE_SYSTEMD)
    set(CTSQS_UNIT_TYPE notify)
    set(CTSQS_UNIT_WATCHDOG "# ctsqs pings the watchdog from its event loop; a hung loop is restarted.\nWatchdogSec=60s\nNotifyAccess=main")
  else()
    set(CTSQS_UNIT_TYPE exec)
    set(CTSQS_UNIT_WATCHDOG "# Built without libsystemd: no readiness notification or watchdog.")
  endif()
  configure_file(packaging/ctsqs@.service.in ${CMAKE_CURRENT_BINARY_DIR}/ctsqs@.service @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/ctsqs@.service DESTINATION lib/systemd/system COMPONENT runtime)
  install(FILES packaging/ctsqs.bash-completion DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
          RENAME ctsqs COMPONENT runtime)
  install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)
  # README.md, docs/ and examples/ keep their places relative to each other, so the manual's links work.
  install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs COMPONENT runtime FILES_MATCHING PATTERN "*.md")
  install(FILES examples/collector.json examples/collector-local.json
          DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT runtime)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ctsqs)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "ctsqs maintainers <ctsqs-maintainers@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime development)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME ctsqs)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SUGGESTS "bash-completion")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_CURRENT_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_CURRENT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION
    "Collect AWS CloudTrail logs from SQS and deliver them to Devo
ctsqs polls an SQS queue for CloudTrail (and GuardDuty) files, fetches them from
S3, tags every event and delivers it to stdout, files or Devo (TLS syslog or
HTTP), deleting a message only after its events were delivered. Includes the
hardened ctsqs@.service systemd unit, man pages and bash completion.")
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME ctsqs-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
# A consumer links the static library, so it needs what the library links (ctsqs-config.cmake).
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS
    "libboost1.81-dev, libboost-json1.81-dev, libboost-url1.81-dev, libssl-dev, zlib1g-dev, libdeflate-dev, pkg-config, cmake")
set(CPACK_DEBIAN_DEVELOPMENT_DESCRIPTION
    "ctsqs library: headers, static library and CMake package
Embed the ctsqs collector in a C++20 program: find_package(ctsqs), then link
ctsqs::ctsqs.")
include(CPack)
