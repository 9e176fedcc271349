"""Macros shared by Remora's BUILD files.

They carry what CMakeLists.txt and cmake/RemoraFilter.cmake set for every target, so the two
builds compile the same sources the same way: warnings as errors, C++20 (from .bazelrc), and for
plugins hidden visibility plus the version script that exports only the descriptor.
"""

# Compiled into the kernel as REMORA_VERSION. Keep it equal to project(remora VERSION ...) in
# CMakeLists.txt; bazel/test.sh checks that it is.
REMORA_VERSION = "0.1.0"

# CMakeLists.txt: add_compile_options(-Wall -Wextra -Werror).
REMORA_COPTS = ["-Wall", "-Wextra", "-Werror"]

# CMake's CXX_VISIBILITY_PRESET hidden + VISIBILITY_INLINES_HIDDEN: code linked into a plugin
# exports nothing of its own (inline statics with default visibility would also become
# STB_GNU_UNIQUE and pin the .so in memory).
HIDDEN_COPTS = ["-fvisibility=hidden", "-fvisibility-inlines-hidden"]

_VERSION_SCRIPT = "//cmake:remora_filter.map"

def string_define(name, value):
    """A define whose value is a C string literal, like CMake's NAME="value".

    Bazel splits `defines` like a shell command line, so the quotes need escaping to survive.
    """
    return '%s=\\"%s\\"' % (name, value)

def remora_cc_library(name, copts = [], **kwargs):
    native.cc_library(name = name, copts = REMORA_COPTS + copts, **kwargs)

def remora_cc_binary(name, copts = [], **kwargs):
    native.cc_binary(name = name, copts = REMORA_COPTS + copts, **kwargs)

def remora_cc_test(name, copts = [], **kwargs):
    # Static, like CMake's test executables: Bazel would otherwise link each test against one
    # shared library per cc_library, and the filters' logic libraries export nothing.
    native.cc_test(name = name, copts = REMORA_COPTS + copts, linkstatic = True, **kwargs)

def _check_filter_name(name):
    for c in name.elems():
        if c not in "abcdefghijklmnopqrstuvwxyz0123456789_":
            fail("remora_filter: name '%s' must match [a-z0-9_]+" % name)

def remora_filter(name, srcs, deps = [], output_directory = None, visibility = None, **kwargs):
    """One filter plugin, the twin of remora_add_filter() in cmake/RemoraFilter.cmake.

    Builds <name>.so (under <output_directory>/ inside the package when given) from `srcs` and the
    SDK, with hidden visibility and linked with cmake/remora_filter.map, so the only exported
    symbol is remora_plugin_descriptor. `deps` (a filter's static "core" library, a system
    library) are linked into the .so. `:<name>` is an alias of the .so.

    Unlike CMake, every plugin lands in its own package's output folder; remora_plugin_dir()
    gathers them into one folder the kernel can scan.
    """
    _check_filter_name(name)
    so = name + ".so"
    if output_directory:
        so = output_directory + "/" + so
    native.cc_binary(
        name = so,
        srcs = srcs,
        deps = ["//filters/sdk"] + deps,
        copts = REMORA_COPTS + HIDDEN_COPTS,
        linkshared = True,
        # The deps' objects go into the .so, not into shared libraries of their own.
        linkstatic = True,
        # A plugin may only call the kernel through the host table: an undefined symbol is a bug
        # to catch at link time, not at dlopen.
        linkopts = [
            "-Wl,--version-script=$(location %s)" % _VERSION_SCRIPT,
            "-Wl,--no-undefined",
        ],
        additional_linker_inputs = [_VERSION_SCRIPT],
        visibility = visibility,
        **kwargs
    )
    alias_kwargs = {"testonly": kwargs["testonly"]} if "testonly" in kwargs else {}
    native.alias(
        name = name,
        actual = so,
        visibility = visibility,
        **alias_kwargs
    )

def _plugin_file_name(label):
    """'//filters/headers' -> 'headers.so', '//x:test_filters/probe' -> 'probe.so'."""
    target = label.split(":")[-1] if ":" in label else label.split("/")[-1]
    target = target.split("/")[-1]
    if not target.endswith(".so"):
        target += ".so"
    return target

def remora_plugin_dir(name, plugins, dir = None, **kwargs):
    """Copies plugins (remora_filter targets) into one folder, <package>/<dir>/<name>.so.

    That folder is what a kernel's plugins.dir points at, like CMake's build/filters/; tests
    reach it through their runfiles. `dir` defaults to `name`.
    """
    dir = dir or name
    native.genrule(
        name = name,
        srcs = plugins,
        outs = [dir + "/" + _plugin_file_name(p) for p in plugins],
        cmd = "cp $(SRCS) $(RULEDIR)/" + dir + "/",
        **kwargs
    )
