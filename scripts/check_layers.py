#!/usr/bin/env python3
"""Keeps the kernel's floors: reads every `#include "..."` under proxy/ and filters/ and fails on
an include that runs up or sideways (Chromium's checkdeps is the model).

  scripts/check_layers.py            # exit 0 when every include is allowed, 1 otherwise
  scripts/check_layers.py --root D   # check the tree at D instead (its own test uses this)

The table below is the whole rule. A kernel folder (a "room") may include its own files and the
rooms it lists; a room's list holds only rooms on lower floors, except on the top floor, whose
rooms (admin, etcd, discovery, kernel) assemble the process and may use each other. An include
must also name a file that exists, so a stale path fails here rather than in a later build.
Filters include only the SDK (<remora/sdk/...>, <remora/remora_filter.h>) and their own folder.
docs/architecture.md explains each floor.
"""
import os
import re
import sys

# Ground floor first. Each floor is a list of rooms; a room may include every room on a lower
# floor and nothing on its own floor but itself (the top floor excepted).
FLOORS = [
    ["common"],  # Result, asserts, logging, RAII for C handles
    ["event"],  # Dispatcher, posted work, timers, socket I/O helpers, listen sockets
    ["network"],  # Transport: the byte stream under every codec
    ["config", "stats"],  # plain config data + loader; per-worker metric slots + collector
    ["codec"],  # HTTP/1 parser and writer, HeaderMap
    ["plugin"],  # the C ABI, loader, generations, registry, plugin metrics, event bus
    ["upstream"],  # clusters, load balancing, pools, upstream connections, health checks
    ["http"],  # streams, filter manager, host side of the ABI, callouts, gRPC
    ["tcp"],  # protocol detection, the TCP proxy, TLS passthrough by SNI
    ["admin", "etcd", "discovery", "kernel"],  # the top: the process and its control plane
]
TOP_FLOOR = len(FLOORS) - 1
# Narrower than its floor: the C ABI header is standard C only, so it includes nothing quoted.
SEALED = {"plugin/abi"}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]')
SOURCE_SUFFIXES = (".h", ".hpp", ".cc", ".cpp", ".c")


def floor_of(room):
    for level, rooms in enumerate(FLOORS):
        if room in rooms:
            return level
    return None


def sources(top):
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(SOURCE_SUFFIXES):
                yield os.path.join(dirpath, name)


def includes(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                yield lineno, m.group(1), m.group(2)


def check_kernel(root, errors):
    proxy = os.path.join(root, "proxy")
    for path in sources(proxy):
        rel = os.path.relpath(path, proxy)
        parts = rel.split(os.sep)
        if len(parts) < 2:
            errors.append(f"proxy/{rel}: a kernel file must live in a room (proxy/<room>/)")
            continue
        room = parts[0]
        level = floor_of(room)
        if level is None:
            errors.append(f"proxy/{rel}: room '{room}' is on no floor of scripts/check_layers.py")
            continue
        sealed = any(rel.startswith(s + "/") for s in SEALED)
        for lineno, kind, target in includes(path):
            if kind != '"':
                continue
            where = f"proxy/{rel}:{lineno}"
            if sealed:
                errors.append(f'{where}: the C ABI header includes only the C library, not "{target}"')
                continue
            if not os.path.isfile(os.path.join(proxy, target)):
                errors.append(f'{where}: "{target}" is not a file under proxy/')
                continue
            to_room = target.split("/")[0]
            to_level = floor_of(to_room)
            if to_room == room:
                continue
            if to_level is None:
                errors.append(f'{where}: "{target}" is in no room')
            elif to_level > level:
                errors.append(f'{where}: "{target}" runs up, from {room} (floor {level + 1}) '
                              f'to {to_room} (floor {to_level + 1})')
            elif to_level == level and level != TOP_FLOOR:
                errors.append(f'{where}: "{target}" runs sideways, from {room} to {to_room} '
                              f'(both floor {level + 1})')


def check_filters(root, errors):
    filters = os.path.join(root, "filters")
    sdk = os.path.join(filters, "sdk")
    for path in sources(filters):
        rel = os.path.relpath(path, root)
        in_sdk = path.startswith(sdk + os.sep)
        here = os.path.dirname(path)
        for lineno, kind, target in includes(path):
            where = f"{rel}:{lineno}"
            if target.startswith("remora/"):
                if target != "remora/remora_filter.h" and not target.startswith("remora/sdk/"):
                    errors.append(f"{where}: <{target}> is not part of the filter SDK")
                continue
            if target == "remora_filter.h":
                continue
            if kind == "<":
                continue  # the C and C++ libraries, OpenSSL, ...
            resolved = os.path.normpath(os.path.join(here, target))
            if in_sdk:
                errors.append(f'{where}: the SDK includes only itself and the ABI, not "{target}"')
            elif os.path.dirname(resolved) != here or not os.path.isfile(resolved):
                errors.append(f'{where}: "{target}" is outside this filter\'s folder; '
                              "filters include only the SDK and their own files")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if len(sys.argv) == 3 and sys.argv[1] == "--root":
        root = os.path.abspath(sys.argv[2])
    elif len(sys.argv) != 1:
        print("usage: check_layers.py [--root DIR]")
        return 2
    errors = []
    check_kernel(root, errors)
    check_filters(root, errors)
    for e in errors:
        print(e)
    if errors:
        print(f"layering: {len(errors)} include(s) break the floors (scripts/check_layers.py)")
        return 1
    print("layering: every include under proxy/ and filters/ keeps the floors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
