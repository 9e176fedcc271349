# Every dependency comes from Debian's packages; see ../shared/PLATFORM.md for how each is found.
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBEVENT REQUIRED IMPORTED_TARGET libevent_core libevent_pthreads libevent_extra)
pkg_check_modules(NGHTTP2 REQUIRED IMPORTED_TARGET libnghttp2)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
# nettle-dev: sha256 of plugin files and etcd's base64 in the kernel, without libcrypto
# (docs/performance.md, "Memory of an idle sidecar").
pkg_check_modules(NETTLE REQUIRED IMPORTED_TARGET nettle)
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json REQUIRED)
# OpenSSL 3: the kernel's TLS transports (libssl), the auth filter (JWT signatures, hashed API
# keys) and their tests.
find_package(OpenSSL REQUIRED)
find_package(Threads REQUIRED)

# http_parser ships neither a .pc file nor a CMake package.
find_path(HTTP_PARSER_INCLUDE_DIR http_parser.h REQUIRED)
find_library(HTTP_PARSER_LIBRARY http_parser REQUIRED)
add_library(http_parser::http_parser UNKNOWN IMPORTED)
set_target_properties(http_parser::http_parser PROPERTIES
  IMPORTED_LOCATION ${HTTP_PARSER_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${HTTP_PARSER_INCLUDE_DIR})

if(REMORA_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
endif()
