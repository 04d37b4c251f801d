#!/usr/bin/env python3
"""Scale benchmark for the SLO rules generated from vigil_slos.

For 10, 100 and 1,000 declared SLOs (or the sizes given; a third each of
availability, latency and events SLIs, over as many services), times the
checks (plugins/filter/slo.py slo_problems), the rule generation
(slo_rules) and the YAML rendering the prometheus role does (Ansible's
to_nice_yaml), then
`promtool check rules` on the result, which the role runs before the file
goes live. It prints, per size, those seconds, the rule groups, recording
rules and alerts written, the file size, and microseconds per SLO for
checks + generation (best of three runs; promtool once).

It then checks that the checks and generation grow linearly (microseconds per
SLO at the largest size at most 1.5x that at the smallest) and that 1,000 SLOs
are checked, generated and rendered in under 5 seconds.

Exit status: 0 when both hold, 1 otherwise.

    .venv/bin/python benchmarks/slo_rules.py [--sizes 10 100 1000]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

from ansible.plugins.filter.core import to_nice_yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "plugins", "filter"))
import slo  # noqa: E402


def declarations(count):
    slos, services = [], {}
    for index in range(count):
        service = "svc-%04d" % (index // 3)
        services[service] = {"latency_buckets": None}
        kind = ("availability", "latency", "events")[index % 3]
        if kind == "availability":
            sli = {"availability": {"selector": 'route!="/healthz"'}}
        elif kind == "latency":
            sli = {"latency": {"threshold": 0.5}}
        else:
            sli = {"events": {"bad": 'memory_operations_total{job="%s", result="error"}' % service,
                              "total": 'memory_operations_total{job="%s"}' % service}}
        slos.append({"service": service, "objective": 99.5, "labels": {"team": "t%d" % (index % 7)}, "sli": sli})
    return slos, services


def measure(count, promtool):
    slos, services = declarations(count)
    started = time.perf_counter()
    problems = slo.slo_problems(slos, services, retention="30d")
    checked = time.perf_counter()
    groups = slo.slo_rules(slos)
    generated = time.perf_counter()
    text = to_nice_yaml({"groups": groups}, indent=2, width=160)  # as roles/prometheus/vars/main.yml renders it
    rendered = time.perf_counter()
    assert problems == [], problems[:3]
    row = {
        "slos": count,
        "check_s": checked - started,
        "generate_s": generated - checked,
        "render_s": rendered - generated,
        "groups": len(groups),
        "records": sum(1 for g in groups for r in g["rules"] if "record" in r),
        "alerts": sum(1 for g in groups for r in g["rules"] if "alert" in r),
        "kib": len(text) / 1024.0,
        "us_per_slo": (generated - started) / count * 1e6,
        "promtool_s": None,
    }
    if promtool:
        with tempfile.TemporaryDirectory() as work:
            path = os.path.join(work, "vigil-slos.yml")
            with open(path, "w") as handle:
                handle.write(text)
            before = time.perf_counter()
            proc = subprocess.run([promtool, "check", "rules", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, timeout=600)
            row["promtool_s"] = time.perf_counter() - before
            assert proc.returncode == 0, proc.stdout[-2000:]
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()
    promtool = shutil.which("promtool") or os.path.join(ROOT, ".cache", "tools", "bin", "promtool")
    promtool = promtool if os.path.exists(promtool) else None
    # Best of three for each size: the small sizes take milliseconds, and one busy moment of the machine would
    # decide the linearity check.
    rows = []
    for size in args.sizes:
        runs = [measure(size, promtool if attempt == 0 else None) for attempt in range(3)]
        best = min(runs, key=lambda r: r["check_s"] + r["generate_s"] + r["render_s"])
        rows.append(dict(best, promtool_s=runs[0]["promtool_s"]))
    print("SLO rules (plugins/filter/slo.py), promtool: %s" % (promtool or "not found, not timed"))
    print("%6s %9s %11s %9s %7s %8s %7s %9s %11s %11s" % ("slos", "check s", "generate s", "render s", "groups",
                                                         "records", "alerts", "KiB", "us/slo", "promtool s"))
    for row in rows:
        print("%6d %9.3f %11.3f %9.3f %7d %8d %7d %9.1f %11.1f %11s" % (
            row["slos"], row["check_s"], row["generate_s"], row["render_s"], row["groups"], row["records"],
            row["alerts"], row["kib"], row["us_per_slo"],
            "%.2f" % row["promtool_s"] if row["promtool_s"] is not None else "-"))
    linear = rows[-1]["us_per_slo"] <= 1.5 * rows[0]["us_per_slo"]
    largest = rows[-1]["check_s"] + rows[-1]["generate_s"] + rows[-1]["render_s"]
    fast = largest < 5.0
    print("linear (us per SLO at %d at most 1.5x that at %d): %s" % (rows[-1]["slos"], rows[0]["slos"], "yes" if linear else "NO"))
    print("%d SLOs checked, generated and rendered in %.2f s (< 5 s): %s" % (rows[-1]["slos"], largest, "yes" if fast else "NO"))
    return 0 if linear and fast else 1


if __name__ == "__main__":
    sys.exit(main())
