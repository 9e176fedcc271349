# remora_add_filter(): builds one Remora filter plugin.
#
#   remora_add_filter(<name>
#     SOURCES <src>...
#     [LINK_LIBRARIES <lib>...]     # linked PRIVATE, e.g. OpenSSL::Crypto
#     [OUTPUT_DIRECTORY <dir>]      # default: ${CMAKE_BINARY_DIR}/filters
#     [NO_INSTALL])                 # default: installed to ${CMAKE_INSTALL_LIBDIR}/remora/filters
#
# Produces the MODULE target remora_filter_<name>, written as <name>.so into one directory per
# build so the kernel (and tests) can scan it. The plugin is compiled with hidden visibility and
# linked with a version script that exports only `remora_plugin_descriptor`. It links
# remora::filter_sdk, which an in-tree build defines in filters/sdk and an out-of-tree build gets
# from find_package(RemoraFilterSDK) (whose config file includes this one).
include_guard(GLOBAL)
include(GNUInstallDirs)

set(_REMORA_FILTER_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")

function(remora_add_filter name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "NO_INSTALL" "OUTPUT_DIRECTORY" "SOURCES;LINK_LIBRARIES")
  if(NOT name MATCHES "^[a-z0-9_]+$")
    message(FATAL_ERROR "remora_add_filter: name '${name}' must match [a-z0-9_]+")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "remora_add_filter(${name}): SOURCES is required")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "remora_add_filter(${name}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET remora::filter_sdk)
    message(FATAL_ERROR "remora_add_filter(${name}): remora::filter_sdk is not defined; "
                        "call find_package(RemoraFilterSDK) first")
  endif()
  if(NOT ARG_OUTPUT_DIRECTORY)
    set(ARG_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/filters")
  endif()

  set(target remora_filter_${name})
  set(version_script "${_REMORA_FILTER_CMAKE_DIR}/remora_filter.map")
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE remora::filter_sdk ${ARG_LINK_LIBRARIES})
  target_compile_features(${target} PRIVATE cxx_std_20)
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "${name}"
    SUFFIX ".so"
    # The empty generator expression stops multi-config generators adding a per-config subdir.
    LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}$<0:>"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS "${version_script}")
  target_link_options(${target} PRIVATE "LINKER:--version-script=${version_script}")
  # A plugin may only call the kernel through the host table: an undefined symbol is a bug to
  # catch at link time, not at dlopen. (Sanitizer runtimes are resolved from the executable.)
  if(NOT REMORA_SANITIZE AND NOT CMAKE_CXX_FLAGS MATCHES "-fsanitize")
    target_link_options(${target} PRIVATE "LINKER:--no-undefined")
  endif()
  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}/remora/filters"
            COMPONENT filters)
  endif()
  if(TARGET remora_filters)
    add_dependencies(remora_filters ${target})
  endif()
endfunction()
