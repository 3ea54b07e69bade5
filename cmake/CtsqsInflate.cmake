# CTSQS_INFLATE: which library inflates gzip in the decoder (lib/gzip_inflate.cpp).
#   isal       ISA-L (Debian libisal-dev) for whole objects and streams: the fastest on x86
#   libdeflate libdeflate for whole objects, zlib for streams
#   zlib       zlib both ways: the portable fallback
# Default: isal when libisal is found, else libdeflate.
pkg_check_modules(ISAL IMPORTED_TARGET libisal)
set(CTSQS_INFLATE "" CACHE STRING "gzip inflate library: isal, libdeflate or zlib (empty: the fastest found)")
set_property(CACHE CTSQS_INFLATE PROPERTY STRINGS "" isal libdeflate zlib)
set(CTSQS_INFLATE_USED "${CTSQS_INFLATE}")
if(CTSQS_INFLATE_USED STREQUAL "")
  if(ISAL_FOUND)
    set(CTSQS_INFLATE_USED isal)
  else()
    set(CTSQS_INFLATE_USED libdeflate)
  endif()
endif()
if(CTSQS_INFLATE_USED STREQUAL "isal")
  if(NOT ISAL_FOUND)
    message(FATAL_ERROR "CTSQS_INFLATE=isal but libisal was not found (Debian: libisal-dev)")
  endif()
  set(_ctsqs_inflate_def CTSQS_INFLATE_ISAL=1)
  target_link_libraries(ctsqs PRIVATE PkgConfig::ISAL)
elseif(CTSQS_INFLATE_USED STREQUAL "libdeflate")
  set(_ctsqs_inflate_def CTSQS_INFLATE_LIBDEFLATE=1)
elseif(NOT CTSQS_INFLATE_USED STREQUAL "zlib")
  message(FATAL_ERROR "CTSQS_INFLATE must be isal, libdeflate or zlib, not '${CTSQS_INFLATE}'")
endif()
# Only the gzip layer sees the choice: the other sources do not recompile when it changes.
set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/lib/gzip_inflate.cpp
  PROPERTIES COMPILE_DEFINITIONS "${_ctsqs_inflate_def}")
message(STATUS "ctsqs: gzip inflate with ${CTSQS_INFLATE_USED}")
