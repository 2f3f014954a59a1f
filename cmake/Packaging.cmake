# Install rules and the Debian package (CPack).
#
#   cmake --install BUILD_DIR --prefix /usr/local     # after a full build
#   cpack --config BUILD_DIR/CPackConfig.cmake -G DEB # mlpack_<version>_<arch>.deb
#
# Layout under the prefix:
#   bin/mlpack
#   share/man/man1/*.1.gz, share/man/man5/*.5.gz        (from man/, gzipped at build time)
#   share/bash-completion/completions/mlpack              (completions/mlpack.bash)
#   share/zsh/vendor-completions/_mlpack                  (completions/_mlpack)
#   share/fish/vendor_completions.d/mlpack.fish           (completions/mlpack.fish)
#   share/doc/mlpack/README.md, CHANGELOG.md
# Only the mlpack target and these files are installed; the test binaries never are.

include(GNUInstallDirs)

install(TARGETS mlpack RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Man pages: every man/*.1 and man/*.5, found again whenever one is added, and
# gzipped (-n: no name or time stamp, so the bytes are reproducible) into the
# build folder, as Debian ships them. Part of the default build target.
file(GLOB MLPACK_MAN_PAGES CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/man/*.1 ${PROJECT_SOURCE_DIR}/man/*.5)
find_program(GZIP_EXECUTABLE gzip REQUIRED)
set(MLPACK_MAN_GZ)
foreach(page ${MLPACK_MAN_PAGES})
  get_filename_component(name ${page} NAME)
  string(REGEX REPLACE "^.*\\.([0-9])$" "\\1" section ${name})
  set(gz ${CMAKE_BINARY_DIR}/man/${name}.gz)
  add_custom_command(OUTPUT ${gz}
    COMMAND ${CMAKE_COMMAND} -E copy ${page} ${CMAKE_BINARY_DIR}/man/${name}
    COMMAND ${GZIP_EXECUTABLE} -9 -n -f ${CMAKE_BINARY_DIR}/man/${name}
    DEPENDS ${page}
    COMMENT "Compressing man page ${name}"
    VERBATIM)
  list(APPEND MLPACK_MAN_GZ ${gz})
  install(FILES ${gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
add_custom_target(man_pages ALL DEPENDS ${MLPACK_MAN_GZ})

# Shell completions, each where that shell looks under the prefix (Debian's
# bash-completion and fish read share/... of /usr and of XDG_DATA_DIRS; Debian's
# zsh has /usr/share/zsh/vendor-completions in its fpath, while a zsh built from
# source reads share/zsh/site-functions: set MLPACK_ZSH_COMPLETION_DIR for it).
# A file is installed only once it exists, so the build never waits on one.
set(MLPACK_BASH_COMPLETION_DIR "${CMAKE_INSTALL_DATADIR}/bash-completion/completions"
    CACHE STRING "Where bash-completion looks, relative to the prefix")
set(MLPACK_ZSH_COMPLETION_DIR "${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions"
    CACHE STRING "A folder in zsh's fpath, relative to the prefix")
set(MLPACK_FISH_COMPLETION_DIR "${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d"
    CACHE STRING "Where fish looks for vendor completions, relative to the prefix")
# (The glob is only there so that a completion file added later re-runs CMake.)
file(GLOB MLPACK_COMPLETION_FILES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/completions/*)
foreach(spec "mlpack.bash|${MLPACK_BASH_COMPLETION_DIR}|mlpack"
             "_mlpack|${MLPACK_ZSH_COMPLETION_DIR}|_mlpack"
             "mlpack.fish|${MLPACK_FISH_COMPLETION_DIR}|mlpack.fish")
  string(REPLACE "|" ";" spec "${spec}")
  list(GET spec 0 source)
  list(GET spec 1 destination)
  list(GET spec 2 installed_name)
  if(EXISTS ${PROJECT_SOURCE_DIR}/completions/${source})
    install(FILES ${PROJECT_SOURCE_DIR}/completions/${source}
            DESTINATION ${destination} RENAME ${installed_name})
  endif()
endforeach()

install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/CHANGELOG.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The .deb: mlpack_<version>_<arch>.deb, binary stripped, Depends worked out by
# dpkg-shlibdeps (dpkg-dev) from the libraries the binary links.
set(MLPACK_PACKAGE_MAINTAINER "mlpack maintainers <maintainers@mlpack.invalid>"
    CACHE STRING "The Maintainer field of the Debian package")
set(CPACK_PACKAGE_NAME mlpack)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "mlpack")
set(CPACK_PACKAGE_CONTACT "${MLPACK_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "pack, sign, version and ship machine-learning models")
# One paragraph, wrapped for `apt show` (CPackDeb indents each line).
string(JOIN "\n" CPACK_PACKAGE_DESCRIPTION
  "mlpack turns a trained model, the preprocessing its inputs go through and"
  "its metadata (training date, dataset version, parameters, metrics) into one"
  "content-addressed artifact signed with Ed25519 in minisign's format. It tags"
  "versions and stages like git, diffs metadata and metrics between versions"
  "with gates for CI, and pushes and pulls artifacts to S3, GCS, HTTP(S) and"
  "directory remotes, or exports them as one tar file.")
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${MLPACK_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# HTTPS, S3 and GCS remotes need the system's CA certificates; minisign is only
# for checking an exported artifact without mlpack (mlpack signs and verifies
# by itself and runs no other program).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "minisign")
include(CPack)
