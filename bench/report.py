# SPDX-License-Identifier: MIT
"""bench/run's output: the figures table, the kubectl comparison and the targets."""

import math

MIB = 1024.0


def _vr(r, verb, resource):
    return r["by_verb_resource"].get("%s %s" % (verb, resource), 0)


def _pods(r):
    return sum(v for k, v in r["by_verb_resource"].items() if k.endswith(" pods"))


def _label_changes(r):
    return r.get("label_changes")


def _row(cells, widths):
    return "| " + " | ".join(str(c).rjust(w) for c, w in zip(cells, widths)) + " |"


def _table(head, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    out = [_row(head, widths), "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"]
    out += [_row(r, widths) for r in rows]
    return "\n".join(out)


def figures(results, args):
    head = ["nodes", "run", "exit", "wall s", "CPU s", "peak RSS MiB", "requests",
            "list nodes", "patch nodes", "create ds", "delete ds", "pods (list/watch)",
            "other", "writes", "label s", "tracker kB", "sim req/s", "sim CPU %"]
    rows = []
    for res in results:
        for kind in ("first", "steady"):
            r = res[kind]
            known = (_vr(r, "list", "nodes") + _vr(r, "patch", "nodes") +
                     _vr(r, "create", "daemonsets") + _vr(r, "delete", "daemonsets") + _pods(r))
            pods = "%d/%d" % (_vr(r, "list", "pods"), _vr(r, "watch", "pods"))
            rows.append([res["nodes"], kind, r["exit"], "%.1f" % r["wall"], "%.2f" % r["cpu"],
                         "%.1f" % (r["rss_kb"] / MIB), r["total"], _vr(r, "list", "nodes"),
                         _vr(r, "patch", "nodes"), _vr(r, "create", "daemonsets"),
                         _vr(r, "delete", "daemonsets"), pods, r["total"] - known, r["writes"],
                         "%.1f" % r["phases"].get("label", 0.0), r["tracker_bytes"] // 1024,
                         "%.0f" % r["sim_rate"],
                         "%.0f" % (100.0 * r["sim_cpu"] / r["wall"] if r["wall"] else 0)])
    return _table(head, rows)


def others(results):
    """The requests the table's 'other' column lumps together, per run."""
    lines = []
    for res in results:
        for kind in ("first", "steady"):
            r = res[kind]
            rest = {k: v for k, v in sorted(r["by_verb_resource"].items())
                    if not (k in ("list nodes", "patch nodes", "create daemonsets",
                                  "delete daemonsets") or k.endswith(" pods"))}
            lines.append("- %d %s: %s" % (res["nodes"], kind,
                                          ", ".join("%s %d" % kv for kv in rest.items()) or "-"))
    return "\n".join(lines)


def kubectl_table(res, args):
    k = res["kubectl"]
    first = res["first"]
    label_s = first["phases"].get("label", 0.0)
    patches = _vr(first, "patch", "nodes")
    head = ["how", "exit", "wall s", "CPU s", "requests", "patch nodes", "get nodes",
            "wall / clyde-seed", "requests / clyde-seed"]
    rows = [["clyde-seed label phase", first["exit"], "%.1f" % label_s, "-", patches, patches,
             _vr(first, "get", "nodes"), "1.00", "1.00"]]
    for name, title in (("one", "kubectl label node (one invocation)"),
                        ("xargs", "xargs -P %d kubectl label node" % args.xargs_parallel)):
        r = k[name]
        rows.append([title, r["exit"], "%.1f" % r["wall"], "%.2f" % r["cpu"], r["total"],
                     _vr(r, "patch", "nodes"), _vr(r, "get", "nodes"),
                     "%.2f" % (r["wall"] / label_s if label_s else 0),
                     "%.2f" % (r["total"] / patches if patches else 0)])
    return _table(head, rows)


def _check(ok, text):
    return "- [%s] %s" % ("x" if ok else " ", text)


def targets(results, args):
    by_n = {r["nodes"]: r for r in results}
    out = []
    n5 = by_n.get(5000)
    n1 = by_n.get(1000)
    if n5:
        f = n5["first"]
        rss = f["rss_kb"] / MIB
        out.append(_check(rss <= 32, "peak RSS at 5,000 nodes, first cycle: %.1f MiB (<= 32)" % rss))
        if n1:
            ratio = f["rss_kb"] / n1["first"]["rss_kb"]
            out.append(_check(ratio <= 1.2, "peak RSS 5,000 / 1,000 nodes: %.2f (<= 1.20; %.1f vs %.1f MiB)"
                              % (ratio, rss, n1["first"]["rss_kb"] / MIB)))
        out.append(_check(f["cpu"] <= 3.0, "CPU (user+sys) at 5,000 nodes, first cycle: %.2f s (<= 3)"
                          % f["cpu"]))
    batches = math.ceil(args.images / args.per_ds)
    for res in results:
        n = res["nodes"]
        f, s = res["first"], res["steady"]
        pages = math.ceil(n / 500)
        changes = _label_changes(f)
        out.append(_check(_vr(f, "list", "nodes") == pages,
                          "%d nodes, first: node list pages %d (= ceil(N/500) = %d)"
                          % (n, _vr(f, "list", "nodes"), pages)))
        out.append(_check(changes is not None and _vr(f, "patch", "nodes") == changes,
                          "%d nodes, first: label patches %d (= nodes changed, %s)"
                          % (n, _vr(f, "patch", "nodes"), changes)))
        # Seeders move through the batches one at a time (pods_per_seeder = 1): a batch
        # gets one DaemonSet per group of seeders done with the one before at about the
        # same time, each deleted once its seeders are done.
        out.append(_check(_vr(f, "create", "daemonsets") >= batches and
                          _vr(f, "delete", "daemonsets") == _vr(f, "create", "daemonsets"),
                          "%d nodes, first: DaemonSet creates %d, deletes %d (= creates, >= batches, %d)"
                          % (n, _vr(f, "create", "daemonsets"), _vr(f, "delete", "daemonsets"),
                             batches)))
        seeders = changes or 0
        out.append(_check(_pods(f) <= batches * (math.ceil(seeders / 500) + 3),
                          "%d nodes, first: pod requests %d (batches x (pages + 3) = %d; "
                          "seeders x images would be %d)"
                          % (n, _pods(f), batches * (math.ceil(seeders / 500) + 3),
                             seeders * args.images)))
        out.append(_check(s["writes"] == 0 and s["total"] <= pages + 3,
                          "%d nodes, nothing to do: %d writes (0), %d requests (<= %d)"
                          % (n, s["writes"], s["total"], pages + 3)))
    lab = by_n.get(args.label_at)
    if lab:
        f = lab["first"]
        changes = _label_changes(f) or 0
        ideal = changes / args.qps if args.qps else 0
        got = f["phases"].get("label", 0.0)
        if changes <= args.burst:
            out.append("- [-] label speed: %d changes fit in the burst (%d); measure at 5,000 nodes"
                       % (changes, args.burst))
            return "\n".join(out)
        out.append(_check(ideal and abs(got - ideal) <= 0.1 * ideal,
                          "%d label changes at qps=%g burst=%d: label phase %.1f s (%.1f s +- 10%%; "
                          "the burst alone allows %.1f s)"
                          % (changes, args.qps, args.burst, got, ideal,
                             max(changes - args.burst, 0) / args.qps if args.qps else 0)))
    return "\n".join(out)


def real_lines(results):
    """Real backend: the control plane's own cost per run (bench/README.md)."""
    lines = []
    for res in results:
        for kind in ("first", "steady"):
            real = res[kind].get("real")
            if not real:
                continue
            cpu = ", ".join("%s %.1f s" % (k, v) for k, v in sorted(real.items())
                            if k != "apiserver_request_total")
            lines.append("- %d %s: apiserver_request_total +%d (every client; the tool's own: %d); "
                         "CPU %s" % (res["nodes"], kind, real["apiserver_request_total"],
                                     res[kind]["total"], cpu))
    return "\n".join(lines)


def tracker_lines(tcost):
    return "\n".join(
        "- %d seeders x %d images (a run with its plan and results): %.1f MiB, save %.1f ms "
        "(x %d label batches = %.2f s), load %.0f ms"
        % (c["seeders"], c["images"], c["bytes"] / 1048576.0, c["save_ms"], c["saves"],
           c["save_ms"] * c["saves"] / 1000.0, c["load_ms"]) for c in tcost)


def render(results, info, args, tcost=()):
    parts = ["clyde-seed benchmark: %s" % info["command"],
             "machine: %s x %s, %s, kernel %s; commit %s; %s" % (
                 info["nproc"], info["model"], info["memory"], info["kernel"], info["commit"],
                 info["date"]),
             "setup: " + info["config"], "",
             figures(results, args), "",
             "other requests:", others(results), "",
             "%s start-up: " % ("realkube" if getattr(args, "backend", "sim") == "real" else "kube-sim")
             + ", ".join("%d nodes %.1f s" % (r["nodes"], r["sim_startup"]) for r in results)]
    if any(r["first"].get("real") for r in results):
        parts += ["", "the real control plane's own cost (CPU seconds per component over the "
                  "run and until the API server is idle again):", real_lines(results)]
    for res in results:
        if res.get("kubectl"):
            parts += ["", "labelling by hand at %d nodes, same names, same simulator:" % res["nodes"],
                      kubectl_table(res, args)]
    if tcost:
        parts += ["", "tracker cost (bench/tracker-cost.c: save = serialise + write + fsync + "
                  "rename):", tracker_lines(tcost)]
    parts += ["", "targets:", targets(results, args)]
    return "\n".join(parts)


def markdown(text, info):
    return ("# clyde-seed benchmark results\n\n"
            "Produced by `%s` (see bench/README.md for the columns). Machine: %s x %s, %s RAM, "
            "kernel %s, Python %s. Commit %s, %s.\n\n```\n%s\n```\n"
            % (info["command"], info["nproc"], info["model"], info["memory"], info["kernel"],
               info["python"], info["commit"], info["date"], text))
