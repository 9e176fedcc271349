#!/usr/bin/env python3
"""scripts/check_layers.py on small made-up trees: the real tree passes, and each kind of bad
include (up a floor, sideways on a floor, into no file, the ABI header including anything, a
filter reaching outside its folder or into the kernel) fails with a line naming it. Run by ctest
as layering.check."""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "check_layers.py")


def run(root=None):
    args = [sys.executable, SCRIPT] + (["--root", root] if root else [])
    p = subprocess.run(args, capture_output=True, text=True)
    return p.returncode, p.stdout


def tree(files):
    d = tempfile.mkdtemp()
    for path, text in files.items():
        full = os.path.join(d, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    return d


GOOD = {
    "proxy/common/result.h": "#pragma once\n",
    "proxy/event/dispatcher.h": '#include "common/result.h"\n',
    "proxy/http/stream.h": '#include "event/dispatcher.h"\n#include <vector>\n',
    "proxy/kernel/server.h": '#include "admin/admin.h"\n',
    "proxy/admin/admin.h": '#include "kernel/server.h"\n',  # the top floor may use itself
    "proxy/plugin/abi/remora_filter.h": "#include <stdint.h>\n",
    "filters/auth/auth.cc": '#include "auth.h"\n#include <remora/sdk/filter.h>\n',
    "filters/auth/auth.h": "#include <remora/remora_filter.h>\n",
}

BAD = [
    ({"proxy/event/bad.h": '#include "http/stream.h"\n'}, "runs up"),
    ({"proxy/config/bad.h": '#include "stats/s.h"\n', "proxy/stats/s.h": ""}, "runs sideways"),
    ({"proxy/codec/bad.h": '#include "codec/missing.h"\n'}, "is not a file"),
    ({"proxy/plugin/abi/extra.h": '#include "common/result.h"\n'}, "C library"),
    ({"filters/router/r.cc": '#include "../auth/auth.h"\n'}, "outside this filter"),
    ({"filters/router/r.cc": '#include "http/stream.h"\n'}, "outside this filter"),
    ({"filters/router/r.cc": "#include <remora/kernel/x.h>\n"}, "not part of the filter SDK"),
    ({"proxy/loose.h": ""}, "must live in a room"),
]


def main():
    failures = []
    code, out = run()
    if code != 0:
        failures.append("the repository itself fails:\n" + out)
    code, out = run(tree(GOOD))
    if code != 0:
        failures.append("a tree that keeps the floors fails:\n" + out)
    for extra, expected in BAD:
        files = dict(GOOD)
        files.update(extra)
        code, out = run(tree(files))
        if code != 1 or expected not in out:
            failures.append(f"{sorted(extra)}: expected exit 1 and '{expected}', got {code}:\n{out}")
    for f in failures:
        print("FAIL:", f)
    print(f"check_layers: {2 + len(BAD) - len(failures)} of {2 + len(BAD)} cases as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
