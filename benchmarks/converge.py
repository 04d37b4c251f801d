#!/usr/bin/env python3
"""Converge benchmark for playbooks/site.yml.

Starts three fresh lab-style containers of its own (vigil-bench-monitor, -app,
-db on the Docker network vigil-bench) with playbooks/lab/up.yml, writes an
inventory for them in a temporary directory (the lab inventory with the
container names swapped), runs playbooks/site.yml twice and prints, for each
run, the wall time, the tasks run and the tasks changed. The second run must
change nothing; it is also compared with 40 % of the first run's time.

The containers and the network are removed at the end, also on failure or
interruption (playbooks/lab/destroy.yml), unless --keep is given. Each
container keeps its own apt cache in /var/cache/vigil/apt/ between runs, so
only the first benchmark on a machine downloads the package lists and .debs
in full.

Exit status: 0 when the unchanged run changed nothing, 1 when it changed
something, 2 when a playbook failed.

    make bench            (or: .venv/bin/python benchmarks/converge.py)
"""

import argparse
import datetime
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from benchlab import ROOT, environment, write_lab_inventory

PREFIX = "vigil-bench"
DISTRO = "debian12"
THRESHOLD_PERCENT = 40.0
RESULTS_DIR = os.path.join(ROOT, "benchmarks", "results")


class PlaybookFailed(Exception):
    pass


def ansible_playbook(args, env):
    """Run ansible-playbook from the collection root; return (rc, stdout, stderr, seconds)."""
    exe = shutil.which("ansible-playbook", path=env["PATH"]) or "ansible-playbook"
    start = time.monotonic()
    proc = subprocess.run([exe, *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start


def lab_playbook(name):
    """Run playbooks/lab/<name> for the benchmark's containers; return its wall time."""
    rc, out, err, seconds = ansible_playbook(
        ["playbooks/lab/" + name, "-e", "vigil_lab_prefix=" + PREFIX, "-e", "vigil_lab_distro=" + DISTRO],
        environment())
    if rc != 0:
        sys.stdout.write(out[-6000:])
        sys.stderr.write(err[-3000:])
        raise PlaybookFailed("playbooks/lab/%s exited with %d" % (name, rc))
    return seconds


def write_inventory(directory):
    """The lab inventory with the benchmark's container names."""
    return write_lab_inventory(directory, PREFIX, "converge.py")


def parse_json_output(stdout):
    """The ansible.posix.json callback prints one JSON document; skip anything before it."""
    start = stdout.find("{")
    if start < 0:
        raise ValueError("no JSON document in ansible-playbook output")
    return json.JSONDecoder().raw_decode(stdout[start:])[0]


def seconds_between(duration):
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    try:
        start = datetime.datetime.strptime(duration["start"], fmt)
        end = datetime.datetime.strptime(duration["end"], fmt)
    except (KeyError, TypeError, ValueError):
        return 0.0
    return (end - start).total_seconds()


def summarize(doc):
    """Count tasks from the JSON callback's document.

    A task counts as run when at least one host did not skip it, and as
    changed when it changed at least one host. Host results are totals of the
    play recap (one per host and task).
    """
    tasks_run = tasks_changed = 0
    changed_names = []
    durations = []
    for play in doc.get("plays", []):
        for task in play.get("tasks", []):
            results = list(task.get("hosts", {}).values())
            if not results or all(r.get("skipped") for r in results):
                continue
            tasks_run += 1
            name = task.get("task", {}).get("name", "?")
            durations.append((seconds_between(task.get("task", {}).get("duration")), name))
            if any(r.get("changed") for r in results):
                tasks_changed += 1
                changed_names.append(name)
    stats = doc.get("stats", {})
    totals = {key: sum(host.get(key, 0) for host in stats.values())
              for key in ("ok", "changed", "skipped", "failures", "unreachable", "rescued", "ignored")}
    return {
        "hosts": len(stats),
        "tasks_run": tasks_run,
        "tasks_changed": tasks_changed,
        "changed_tasks": changed_names,
        "host_results": totals,
        "slowest_tasks": [{"name": n, "seconds": round(s, 2)} for s, n in sorted(durations, reverse=True)[:6]],
    }


def converge(inventory, label):
    env = environment(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    rc, out, err, seconds = ansible_playbook(["playbooks/site.yml", "-i", inventory], env)
    try:
        summary = summarize(parse_json_output(out))
    except ValueError as exc:
        sys.stdout.write(out[-6000:])
        sys.stderr.write(err[-3000:])
        raise PlaybookFailed("%s run: cannot read the JSON output: %s" % (label, exc))
    summary["seconds"] = round(seconds, 2)
    summary["rc"] = rc
    if rc != 0 or summary["host_results"]["failures"] or summary["host_results"]["unreachable"]:
        sys.stdout.write(json.dumps(parse_json_output(out).get("stats", {}), indent=2) + "\n")
        sys.stderr.write(err[-3000:])
        raise PlaybookFailed("%s run of playbooks/site.yml exited with %d" % (label, rc))
    return summary


def apt_cache_files():
    pattern = "/var/cache/vigil/apt/%s-%s-*/lists/*_Packages*" % (DISTRO, PREFIX)
    return len(glob.glob(pattern))


def on_sigterm(signum, frame):
    print("benchmark interrupted (signal %d); removing its containers" % signum, file=sys.stderr)
    raise SystemExit(128 + signum)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="leave the benchmark containers running at the end")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, on_sigterm)

    workdir = tempfile.mkdtemp(prefix="vigil-bench.")
    status = 2
    try:
        # Fresh containers: remove any left by an interrupted run first.
        lab_playbook("destroy.yml")
        cached = apt_cache_files()
        up_seconds = lab_playbook("up.yml")
        inventory = write_inventory(workdir)
        first = converge(inventory, "first")
        second = converge(inventory, "unchanged")
        ratio = 100.0 * second["seconds"] / first["seconds"]
        unchanged = second["host_results"]["changed"] == 0
        under = ratio < THRESHOLD_PERCENT

        print("converge benchmark: playbooks/site.yml on %d containers %s-{monitor,app,db} (vigil/%s:latest)"
              % (first["hosts"], PREFIX, DISTRO))
        print("container start (up.yml): %.1f s; apt package lists cached before the run: %d files"
              % (up_seconds, cached))
        print()
        print("%-10s %8s %10s %14s   %s" % ("run", "wall s", "tasks run", "tasks changed",
                                          "host results ok/changed/skipped/failed"))
        for label, run in (("first", first), ("unchanged", second)):
            h = run["host_results"]
            print("%-10s %8.1f %10d %14d   %d/%d/%d/%d" % (label, run["seconds"], run["tasks_run"],
                                                       run["tasks_changed"], h["ok"], h["changed"],
                                                       h["skipped"], h["failures"]))
        print()
        print("ratio unchanged/first: %.1f %%" % ratio)
        print("unchanged run changed nothing: %s (%d host results changed)"
              % ("yes" if unchanged else "no", second["host_results"]["changed"]))
        print("unchanged run under %.0f %% of first: %s" % (THRESHOLD_PERCENT, "yes" if under else "no"))
        if not unchanged:
            print("tasks changed in the unchanged run: %s" % "; ".join(second["changed_tasks"]))
        print()
        print("slowest tasks of the unchanged run (s, across all hosts):")
        for task in second["slowest_tasks"]:
            print("  %6.2f  %s" % (task["seconds"], task["name"]))

        os.makedirs(RESULTS_DIR, exist_ok=True)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        result_file = os.path.join(RESULTS_DIR, "converge-%s.json" % stamp)
        with open(result_file, "w", encoding="utf-8") as f:
            json.dump({"first": first, "unchanged": second, "ratio_percent": round(ratio, 1),
                       "container_start_seconds": round(up_seconds, 2), "apt_lists_cached": cached},
                      f, indent=2)
        print("results: %s" % os.path.relpath(result_file, ROOT))
        status = 0 if unchanged else 1
    except PlaybookFailed as exc:
        print("benchmark failed: %s" % exc, file=sys.stderr)
        status = 2
    except KeyboardInterrupt:
        print("benchmark interrupted; removing its containers", file=sys.stderr)
        status = 130
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if args.keep:
            print("containers kept; remove them with: ansible-playbook playbooks/lab/destroy.yml -e vigil_lab_prefix=%s"
                  % PREFIX)
        else:
            try:
                lab_playbook("destroy.yml")
            except PlaybookFailed as exc:
                print("cleanup failed: %s" % exc, file=sys.stderr)
                status = max(status, 2)
    return status


if __name__ == "__main__":
    sys.exit(main())
