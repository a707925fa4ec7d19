#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tools/include-graph: src/ has no include cycle between modules and no <...> include of
its own headers; the tool itself finds a cycle and a shadowed include in small fixtures."""
import os
import re
import subprocess
import sys

TOP = os.environ.get("top_srcdir") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TOOL = os.path.join(TOP, "tools", "include-graph")
DATA = os.path.join(TOP, "tests", "data", "include-graph")
n = 0
failed = 0


def ok(cond, what, detail=""):
    global n, failed
    n += 1
    print(f"{'ok' if cond else 'not ok'} {n} - {what}")
    if not cond:
        failed += 1
        for line in detail.splitlines():
            print(f"# {line}")


def run(*args):
    p = subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


rc, out, err = run(os.path.join(TOP, "src"))
ok(rc == 0 and "no cycle" in out, "src/: no module cycle, no <...> include of a src/ header", out + err)
layers = [l.split(": ", 1)[1].split() for l in out.splitlines() if l[:1].isdigit()]
pos = {m: i for i, layer in enumerate(layers) for m in layer}
ok(all(m in pos for m in ("run", "phase", "machine", "commands")) and
   pos.get("run", 99) < pos.get("phase", -1) < pos.get("machine", -1) < pos.get("commands", -1),
   "src/: run below the phases, the phases below the driver, the driver below the commands", out)
ok(all(pos.get(low, 99) < pos.get(m, -1) for low in ("json",) for m in ("tracker", "kube")),
   "src/: json (util, stream) below both the tracker and the API client", out)
rc, dot, err = run("--dot", os.path.join(TOP, "src"))
edges = {}
for line in dot.splitlines():
    if "->" in line:
        a, b = (x.strip(' ";') for x in line.split("->"))
        edges.setdefault(a, set()).add(b)


def reach(m):
    seen, todo = set(), [m]
    while todo:
        for v in edges.get(todo.pop(), ()):
            if v not in seen:
                seen.add(v)
                todo.append(v)
    return seen


ok(rc == 0 and edges, "src/: --dot prints the graph", dot + err)
for m in ("http", "json", "kube"):
    ok(m in pos and "config" not in reach(m), f"src/: {m} does not reach the configuration module",
       " ".join(sorted(reach(m))))
for f in ("commands.c", "release.c"):
    with open(os.path.join(TOP, "src", f), encoding="utf-8") as fh:
        text = re.sub(r"/\*.*?\*/", " ", fh.read(), flags=re.S)
    calls = sorted(set(re.findall(r"\b((?:kube|http)_[a-z0-9_]+)\s*\(", text)))
    ok(not calls, f"src/{f} does not call the HTTP/Kubernetes client directly (it goes through the session "
       "and the run context)", " ".join(calls))

rc, out, err = run(os.path.join(DATA, "cycle"))
ok(rc == 1 and "machine -> phase -> machine" in err, "a driver and a phase that include each other: cycle named",
   out + err)
rc, out, err = run(os.path.join(DATA, "angle"))
ok(rc == 1 and "http.c:1: <config.h>" in err, "<config.h> resolving to the folder's own config.h: refused",
   out + err)
rc, out, err = run(os.path.join(DATA, "layered"))
ok(rc == 0 and out.splitlines()[:4] == ["0: util", "1: run", "2: phase", "3: machine"],
   "a layered fixture: passes, printed bottom-up", out + err)
rc, out, err = run(os.path.join(DATA, "no-such-folder"))
ok(rc == 2, "a missing folder is an error, not a pass", out + err)

print(f"1..{n}")
sys.exit(1 if failed else 0)
