#!/usr/bin/env python3
"""Before/after converge benchmark of the role core (roles/_common), side by side with prometheus.prometheus.

Three variants deploy the same thing to three fresh Debian 12 containers each:
node_exporter on all three hosts, Alertmanager and Prometheus on the first,
installed from release archives, over the community.docker.docker connection
with pipelining off; then the same playbook runs again unchanged.

  before  this collection at git revision bdc1679, the tree before the core
          existed (a `git worktree`, resolved as vigil.observability through
          a temporary collections directory)
  after   this collection as it is now: the working tree, or --after REV
  peer    prometheus.prometheus (the best-known peer collection), found in the
          `ansible` package of .venv, on ANSIBLE_COLLECTIONS_PATH, in
          .cache/peer/ or at --peer-path

All three install the same binaries: release archives in the upstream layout
(<component>-<version>.linux-amd64.tar.gz and sha256sums.txt under
github.com/prometheus/<component>/releases/download/v<version>/), made from
Debian 12's packages (node_exporter 1.5.0, Prometheus 2.42.0, Alertmanager
0.25.0) as molecule/shared/tasks/release_mirror.yml does, and served on
loopback by this process. Each variant points its own URL variables at it.

For each run the ansible.posix.json callback gives the tasks run, the host
results and each task's time, and a `docker` wrapper first on PATH counts the
`docker exec` calls the connection makes per container (every command, file
transfer and temporary directory is one; these are the round trips).

The variants run one after the other, three rounds by default (--rounds),
alternating, and the table shows the median wall times: on a busy 2-core
machine one run of a variant can take twice as long as the next. Each round
of a variant gets fresh containers (vigil-bcore-<variant>-{1,2,3}, network
vigil-bcore) and an empty controller cache; the containers are removed when
the round is done, also on failure or interruption, unless --keep is given.
The table compares after/before (targets: first converge <= 0.75, unchanged
re-run <= 0.5) and ours against the peer. A JSON result is written under
benchmarks/results/ (not committed).

Exit status: 0 when every unchanged run changed nothing and both targets are
met, 1 when an unchanged run changed something or a target is missed, 2 when
a playbook or the setup failed.

    make bench            (or: .venv/bin/python benchmarks/core_converge.py)
    .venv/bin/python benchmarks/core_converge.py --after HEAD     (a commit instead of the working tree)
    .venv/bin/python benchmarks/core_converge.py --rounds 1       (one round, about 12 minutes)
"""

import argparse
import datetime
import functools
import glob
import hashlib
import http.server
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import yaml
from benchlab import ROOT, environment
from converge import parse_json_output, seconds_between

BEFORE_REV = "bdc1679"
PREFIX = "vigil-bcore"
LABEL = "vigil.bench=core-converge"
IMAGE = "vigil/debian12:latest"
HOSTS = 3
TARGET_FIRST = 0.75
TARGET_UNCHANGED = 0.5
RESULTS_DIR = os.path.join(ROOT, "benchmarks", "results")
MIRROR_CACHE = os.path.join(ROOT, ".cache", "bench-mirror")
APT_CACHE = "/var/cache/vigil/apt"
PEER_CACHE = os.path.join(ROOT, ".cache", "peer")

# What the mirror serves: Debian 12's packages repacked as upstream releases.
# Archive member -> path in the package. Prometheus 2.x releases also carry
# the console templates, which the peer copies to the host.
COMPONENTS = {
    "node_exporter": {"package": "prometheus-node-exporter",
                      "files": {"node_exporter": "usr/bin/prometheus-node-exporter"}},
    "prometheus": {"package": "prometheus",
                   "files": {"prometheus": "usr/bin/prometheus", "promtool": "usr/bin/promtool",
                             "prometheus.yml": "etc/prometheus/prometheus.yml",
                             "consoles": "etc/prometheus/consoles",
                             "console_libraries": "etc/prometheus/console_libraries"}},
    "alertmanager": {"package": "prometheus-alertmanager",
                     "files": {"alertmanager": "usr/bin/prometheus-alertmanager", "amtool": "usr/bin/amtool",
                               "alertmanager.yml": "etc/prometheus/alertmanager.yml"}},
}
# Debian builds Alertmanager to read its default notification templates from
# here instead of embedding them as upstream releases do; every variant's
# first host gets them before its run (as molecule/alertmanager does).
AM_TEMPLATES = "usr/share/prometheus/alertmanager"

DOCKER_WRAPPER = """#!/bin/sh
# Written by benchmarks/core_converge.py: counts the docker CLI calls of the
# community.docker.docker connection (one line per call, the container for exec).
__log() {
  if [ "$1" = exec ]; then
    shift
    while [ $# -gt 0 ]; do
      case "$1" in -u|-e|-w|--user|--env|--workdir) shift 2 ;; -*) shift ;; *) break ;; esac
    done
    echo "exec $1"
  else
    echo "$1"
  fi
}
__log "$@" >> "$VIGIL_BCORE_DOCKER_LOG"
exec %(docker)s "$@"
"""

ANSIBLE_CFG = """[defaults]
interpreter_python = auto_silent
gathering = smart
forks = 10
nocows = true
retry_files_enabled = false

[connection]
pipelining = false
"""


class BenchFailed(Exception):
    pass


def log(msg):
    print("[core_converge %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def run(cmd, **kwargs):
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, **kwargs)
    if proc.returncode != 0:
        raise BenchFailed("%s exited with %d: %s" % (" ".join(cmd), proc.returncode,
                                                      (proc.stderr or proc.stdout or "").strip()[-2000:]))
    return proc.stdout


# --- the release mirror ------------------------------------------------------

def deb_path(package):
    """The package's .deb in the benchmark's cache, downloaded with apt-get the first time."""
    debs = os.path.join(MIRROR_CACHE, "debs")
    os.makedirs(debs, exist_ok=True)
    found = sorted(glob.glob(os.path.join(debs, package + "_*.deb")))
    if not found:
        log("downloading the Debian package %s" % package)
        proc = subprocess.run(["apt-get", "download", package], cwd=debs, capture_output=True, text=True)
        if proc.returncode != 0:
            run(["apt-get", "update", "-qq"])
            run(["apt-get", "download", package], cwd=debs)
        found = sorted(glob.glob(os.path.join(debs, package + "_*.deb")))
    if not found:
        raise BenchFailed("no .deb for %s in %s" % (package, debs))
    return found[-1]


def build_mirror():
    """Lay out upstream-style releases from the Debian packages; return the served root, versions and extracted trees.

    The result is kept in .cache/bench-mirror/ under a key made of the .deb
    names and the layout above, so later runs only start the server.
    """
    debs = {component: deb_path(spec["package"]) for component, spec in COMPONENTS.items()}
    key = hashlib.sha256(json.dumps([sorted(map(os.path.basename, debs.values())), COMPONENTS],
                                    sort_keys=True).encode()).hexdigest()[:16]
    root = os.path.join(MIRROR_CACHE, "releases-" + key)
    versions = {}
    extracted = {}
    for component, deb in debs.items():
        raw = run(["dpkg-deb", "-f", deb, "Version"]).strip()
        match = re.match(r"^(?:[0-9]+:)?([0-9]+\.[0-9]+\.[0-9]+)", raw)
        if not match:
            raise BenchFailed("cannot read an upstream version from %s (%s)" % (deb, raw))
        versions[component] = match.group(1)
        tree = os.path.join(MIRROR_CACHE, "extract", os.path.basename(deb)[:-len(".deb")])
        if not os.path.exists(os.path.join(tree, ".done")):
            shutil.rmtree(tree, ignore_errors=True)
            os.makedirs(tree)
            run(["dpkg-deb", "-x", deb, tree])
            open(os.path.join(tree, ".done"), "w").close()
        extracted[component] = tree
    if os.path.exists(os.path.join(root, ".done")):
        return root, versions, extracted
    log("building the release mirror in %s" % os.path.relpath(root, ROOT))
    shutil.rmtree(root, ignore_errors=True)
    for component, spec in COMPONENTS.items():
        version, tree = versions[component], extracted[component]
        stem = "%s-%s.linux-amd64" % (component, version)
        release = os.path.join(root, "github.com", "prometheus", component, "releases", "download", "v" + version)
        os.makedirs(os.path.join(release, stem))
        for member, source in spec["files"].items():
            src = os.path.join(tree, source)
            dest = os.path.join(release, stem, member)
            if os.path.isdir(src):
                shutil.copytree(src, dest)
            else:
                shutil.copy2(src, dest)
        copyright_file = os.path.join(tree, "usr", "share", "doc", spec["package"], "copyright")
        if os.path.exists(copyright_file):
            shutil.copy2(copyright_file, os.path.join(release, stem, "LICENSE"))
        run(["tar", "-czf", stem + ".tar.gz", "--owner=0", "--group=0", stem], cwd=release)
        shutil.rmtree(os.path.join(release, stem))
        with open(os.path.join(release, stem + ".tar.gz"), "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        with open(os.path.join(release, "sha256sums.txt"), "w", encoding="utf-8") as f:
            f.write("%s  %s.tar.gz\n" % (digest, stem))
    open(os.path.join(root, ".done"), "w").close()
    return root, versions, extracted


class Mirror:
    """Serves a directory on 127.0.0.1 from a thread of this process and counts the requests."""

    def __init__(self, directory):
        self.requests = []
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, fmt, *args):
                pass

            def do_GET(self):
                requests.append(self.path)
                super().do_GET()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=directory))
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def take_requests(self):
        taken = list(self.requests)
        del self.requests[:]
        return taken

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --- the variants -----------------------------------------------------------

def find_peer(explicit):
    """The prometheus.prometheus collection directory, or None."""
    candidates = []
    if explicit:
        candidates.append(explicit)
    for site in glob.glob(os.path.join(ROOT, ".venv", "lib", "python3*", "site-packages")):
        candidates.append(os.path.join(site, "ansible_collections", "prometheus", "prometheus"))
    for base in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) + [
            os.path.expanduser("~/.ansible/collections"), PEER_CACHE]:
        if base:
            candidates.append(os.path.join(base, "ansible_collections", "prometheus", "prometheus"))
    for candidate in candidates:
        if os.path.isdir(os.path.join(candidate, "roles", "node_exporter")):
            return os.path.abspath(candidate)
    return None


def collection_version(path):
    """The version in a collection's MANIFEST.json (installed) or galaxy.yml (source tree)."""
    manifest = os.path.join(path, "MANIFEST.json")
    if os.path.exists(manifest):
        with open(manifest, encoding="utf-8") as f:
            return str(json.load(f)["collection_info"].get("version", "?"))
    galaxy = os.path.join(path, "galaxy.yml")
    if os.path.exists(galaxy):
        with open(galaxy, encoding="utf-8") as f:
            return str((yaml.safe_load(f) or {}).get("version", "?"))
    return "?"


def git(*args, cwd=ROOT):
    return run(["git", *args], cwd=cwd).strip()


def add_worktree(rev, path):
    commit = git("rev-parse", "--verify", rev + "^{commit}")
    git("worktree", "add", "--detach", path, commit)
    return commit


def remove_worktree(path):
    subprocess.run(["git", "worktree", "remove", "--force", path], cwd=ROOT, capture_output=True)
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)


def link_collection(collections, namespace, name, source):
    parent = os.path.join(collections, "ansible_collections", namespace)
    os.makedirs(parent, exist_ok=True)
    os.symlink(source, os.path.join(parent, name))


def containers_of(variant):
    return ["%s-%s-%d" % (PREFIX, variant, i) for i in range(1, HOSTS + 1)]


def vigil_vars(mirror_url, versions, cache):
    """Variables for this collection's roles, as both bdc1679 and the core understand them."""
    out = {}
    for component in ("node_exporter", "prometheus", "alertmanager"):
        out.update({
            component + "_install_method": "archive",
            component + "_version": versions[component],
            component + "_archive_base_url": "%s/github.com/prometheus/%s/releases/download" % (mirror_url, component),
            component + "_cache_dir": cache,
        })
    out.update({
        # No TLS, no basic auth anywhere (the peer's defaults); Alertmanager
        # has to be told that it may listen without authentication.
        "alertmanager_allow_unauthenticated": True,
        "alertmanager_receivers": {"bench-webhook": [{"type": "webhook", "url": "http://127.0.0.1:8080/webhook/bench"}]},
        "alertmanager_default_receiver": "bench-webhook",
    })
    return out


def peer_vars(mirror_url, versions, cache, names):
    """Variables for prometheus.prometheus: the same binaries, scrape targets and receiver."""
    out = {}
    for component in ("node_exporter", "prometheus", "alertmanager"):
        version = versions[component]
        release = "%s/github.com/prometheus/%s/releases/download/v%s" % (mirror_url, component, version)
        out.update({
            component + "_version": version,
            component + "_binary_url": "%s/%s-%s.linux-amd64.tar.gz" % (release, component, version),
            component + "_checksums_url": release + "/sha256sums.txt",
            component + "_local_cache_path": os.path.join(cache, component, version),
        })
    first = names[0]
    out.update({
        # The jobs this collection's prometheus role derives from the
        # inventory: node on every host, Prometheus and Alertmanager.
        "prometheus_targets": {"node": [{"targets": ["%s:9100" % n for n in names]}]},
        "prometheus_scrape_configs": [
            {"job_name": "prometheus", "static_configs": [{"targets": ["%s:9090" % first]}]},
            {"job_name": "alertmanager", "static_configs": [{"targets": ["%s:9093" % first]}]},
            {"job_name": "node", "file_sd_configs": [{"files": ["/etc/prometheus/file_sd/node.yml"]}]},
        ],
        "prometheus_alertmanager_config": [{"static_configs": [{"targets": ["%s:9093" % first]}]}],
        "alertmanager_receivers": [{"name": "bench-webhook",
                                    "webhook_configs": [{"url": "http://127.0.0.1:8080/webhook/bench"}]}],
        "alertmanager_route": {"receiver": "bench-webhook", "group_by": ["alertname", "job"]},
    })
    return out


def write_inventory(directory, names, role_vars):
    hosts = {"bench%d" % i: {"ansible_host": name} for i, name in enumerate(names, 1)}
    inventory = {"all": {
        "vars": role_vars,
        "children": {
            # Connection settings on a child group, not on all: the roles'
            # controller steps run on the implicit localhost, which takes the
            # variables of all and must keep its local connection.
            "bench": {"hosts": hosts, "vars": {"ansible_connection": "community.docker.docker",
                                               "ansible_python_interpreter": "/usr/bin/python3"}},
            "prometheus": {"hosts": {"bench1": None}},
            "alertmanager": {"hosts": {"bench1": None}},
        }}}
    path = os.path.join(directory, "hosts.yml")
    with open(path, "w", encoding="utf-8") as f:
        f.write("---\n# Generated by benchmarks/core_converge.py.\n")
        yaml.safe_dump(inventory, f, default_flow_style=False, sort_keys=False)
    return path


def write_playbook(directory, namespace):
    """The same three plays for every variant, in site.yml's order and with its fact subsets.

    Only the collection differs, and the facts where the peer needs more: its
    node_exporter unit template reads the mounts.
    """
    node_facts = ["min", "network"] + (["mounts"] if namespace == "prometheus.prometheus" else [])
    plays = [
        {"name": "Deploy node_exporter on every host", "hosts": "bench", "gather_facts": True,
         "gather_subset": node_facts, "roles": [{"role": namespace + ".node_exporter"}]},
        {"name": "Deploy Alertmanager on the alertmanager group", "hosts": "alertmanager", "gather_facts": True,
         "gather_subset": ["min", "network"], "roles": [{"role": namespace + ".alertmanager"}]},
        {"name": "Deploy Prometheus on the prometheus group", "hosts": "prometheus", "gather_facts": True,
         "gather_subset": ["min", "network", "mounts"], "roles": [{"role": namespace + ".prometheus"}]},
    ]
    path = os.path.join(directory, "converge.yml")
    with open(path, "w", encoding="utf-8") as f:
        f.write("---\n# Generated by benchmarks/core_converge.py.\n")
        yaml.safe_dump(plays, f, default_flow_style=False, sort_keys=False)
    return path


# --- containers ---------------------------------------------------------------

class Docker:
    def __init__(self):
        self.exe = shutil.which("docker")
        if not self.exe:
            raise BenchFailed("docker is not on PATH")

    def __call__(self, *args, check=True):
        cmd = [self.exe, *args]
        if check:
            return run(cmd)
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)

    def remove_ours(self, names=None):
        """Remove the benchmark's containers (only those with its label)."""
        listed = self("ps", "-a", "--filter", "label=" + LABEL, "--format", "{{.Names}}").split()
        doomed = [n for n in listed if names is None or n in names]
        if doomed:
            self("rm", "-f", "-v", *doomed, check=False)

    def network(self):
        if self("network", "inspect", PREFIX, check=False).returncode != 0:
            self("network", "create", "--label", LABEL, PREFIX)

    def remove_network(self):
        info = self("network", "inspect", PREFIX, "--format", "{{json .Labels}}", check=False)
        if info.returncode == 0 and "core-converge" in info.stdout:
            self("network", "rm", PREFIX, check=False)

    def start(self, names):
        for name in names:
            cache = os.path.join(APT_CACHE, "debian12-" + name)
            for sub in ("archives", "lists"):
                os.makedirs(os.path.join(cache, sub), exist_ok=True)
            self("run", "-d", "--name", name, "--hostname", name, "--network", PREFIX, "--label", LABEL,
                 "--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined", "--cgroupns=host",
                 "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp",
                 "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
                 "-v", cache + "/archives:/var/cache/apt/archives:rw",
                 "-v", cache + "/lists:/var/lib/apt/lists:rw",
                 IMAGE, "/lib/systemd/systemd")
        for name in names:
            for _ in range(30):
                out = self("exec", name, "timeout", "120", "systemctl", "is-system-running", "--wait",
                           check=False).stdout.strip()
                if out in ("running", "degraded"):
                    break
                time.sleep(2)
            else:
                raise BenchFailed("%s did not finish booting" % name)


# --- running and reading a converge -----------------------------------------

def summarize(doc, docker_calls, names):
    """Tasks, host results, per-task time and round trips of one run."""
    tasks_run = tasks_changed = 0
    changed_names = []
    durations = []
    for play in doc.get("plays", []):
        play_name = play.get("play", {}).get("name", "")
        for task in play.get("tasks", []):
            results = task.get("hosts", {})
            if not results or all(r.get("skipped") for r in results.values()):
                continue
            tasks_run += 1
            info = task.get("task", {})
            name = info.get("name", "?")
            durations.append({"name": name, "seconds": round(seconds_between(info.get("duration")), 2),
                              "play": play_name, "path": info.get("path", ""),
                              "hosts_run": len([r for r in results.values() if not r.get("skipped")]),
                              "action": next((r.get("action") for r in results.values() if not r.get("skipped")), ""),
                              "changed": len([r for r in results.values() if r.get("changed")])})
            if any(r.get("changed") for r in results.values()):
                tasks_changed += 1
                changed_names.append(name)
    stats = doc.get("stats", {})
    totals = {key: sum(host.get(key, 0) for host in stats.values())
              for key in ("ok", "changed", "skipped", "failures", "unreachable", "rescued", "ignored")}
    per_container = {n: docker_calls.count("exec " + n) for n in names}
    return {
        "hosts": len([h for h in stats if h != "localhost"]),
        "tasks_run": tasks_run,
        "tasks_changed": tasks_changed,
        "changed_tasks": changed_names,
        "host_results": totals,
        "per_host": stats,
        "docker_exec_per_container": per_container,
        "docker_exec": sum(per_container.values()),
        "docker_other_calls": len([c for c in docker_calls if not c.startswith("exec ")]),
        "tasks": sorted(durations, key=lambda t: -t["seconds"]),
    }


def converge(label, variant, workdir, env, names, mirror):
    docker_log = os.path.join(workdir, "docker-%s.log" % label)
    open(docker_log, "w").close()
    env = dict(env, VIGIL_BCORE_DOCKER_LOG=docker_log)
    exe = shutil.which("ansible-playbook", path=env["PATH"]) or "ansible-playbook"
    log("%s: %s run" % (variant, label))
    start = time.monotonic()
    load_before = os.getloadavg()[0]
    proc = subprocess.run([exe, "converge.yml", "-i", "hosts.yml"], cwd=workdir, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True)
    seconds = time.monotonic() - start
    with open(os.path.join(workdir, "%s.json" % label), "w", encoding="utf-8") as f:
        f.write(proc.stdout)
    if proc.stderr.strip():
        with open(os.path.join(workdir, "%s.stderr" % label), "w", encoding="utf-8") as f:
            f.write(proc.stderr)
    try:
        doc = parse_json_output(proc.stdout)
    except ValueError as exc:
        sys.stdout.write(proc.stdout[-6000:])
        sys.stderr.write(proc.stderr[-3000:])
        raise BenchFailed("%s %s run: cannot read the JSON output: %s" % (variant, label, exc))
    with open(docker_log, encoding="utf-8") as f:
        calls = f.read().splitlines()
    summary = summarize(doc, calls, names)
    summary.update(seconds=round(seconds, 2), rc=proc.returncode, load_before=round(load_before, 2),
                   load_after=round(os.getloadavg()[0], 2), mirror_requests=len(mirror.take_requests()))
    h = summary["host_results"]
    if proc.returncode != 0 or h["failures"] or h["unreachable"]:
        for play in doc.get("plays", []):
            for task in play.get("tasks", []):
                for host, result in task.get("hosts", {}).items():
                    if (result.get("failed") or result.get("unreachable")) and not result.get("ignore_errors"):
                        print("FAILED %s | %s | %s" % (host, task["task"]["name"], str(result.get("msg", ""))[:1500]),
                              file=sys.stderr)
        sys.stderr.write(proc.stderr[-3000:])
        raise BenchFailed("%s: the %s run exited with %d (%d failed, %d unreachable)"
                          % (variant, label, proc.returncode, h["failures"], h["unreachable"]))
    log("%s: %s run took %.1f s, %d tasks run, %d docker exec"
        % (variant, label, seconds, summary["tasks_run"], summary["docker_exec"]))
    return summary


def run_variant(variant, round_, source, namespace, args, workdir, docker, mirror, versions, extracted, base_env):
    """One round of a variant: fresh containers and controller cache, the first converge, the unchanged re-run."""
    vdir = os.path.join(workdir, "%s-%d" % (variant, round_))
    os.makedirs(vdir)
    collections = os.path.join(vdir, "collections")
    if namespace == "vigil.observability":
        link_collection(collections, "vigil", "observability", source)
    else:
        link_collection(collections, "prometheus", "prometheus", source)
    names = containers_of(variant)
    cache = os.path.join(vdir, "controller-cache")
    role_vars = (vigil_vars(mirror.url, versions, cache) if namespace == "vigil.observability"
                 else peer_vars(mirror.url, versions, cache, names))
    write_inventory(vdir, names, role_vars)
    write_playbook(vdir, namespace)
    env = dict(base_env, ANSIBLE_COLLECTIONS_PATH=collections)

    docker.remove_ours(names)
    log("%s: starting %s" % (variant, ", ".join(names)))
    up = time.monotonic()
    docker.start(names)
    templates = os.path.join(extracted["alertmanager"], AM_TEMPLATES)
    docker("exec", names[0], "mkdir", "-p", "/" + AM_TEMPLATES)
    for tmpl in ("default.tmpl", "email.tmpl"):
        docker("cp", os.path.join(templates, tmpl), "%s:/%s/%s" % (names[0], AM_TEMPLATES, tmpl))
    up_seconds = time.monotonic() - up
    mirror.take_requests()
    try:
        first = converge("first", variant, vdir, env, names, mirror)
        unchanged = converge("unchanged", variant, vdir, env, names, mirror)
    finally:
        if not args.keep:
            docker.remove_ours(names)
    return {"container_start_seconds": round(up_seconds, 2), "first": first, "unchanged": unchanged}


def aggregate(rounds):
    """The rounds of one variant: the median wall time of each run, the rest from the round nearest it.

    The counts do not depend on the machine's load; when a round counted
    differently, every round's counts are kept under *_all.
    """
    out = {}
    for label in ("first", "unchanged"):
        runs = [r[label] for r in rounds]
        median = statistics.median(r["seconds"] for r in runs)
        # The per-task times of the round nearest the median.
        agg = dict(min(runs, key=lambda r: abs(r["seconds"] - median)), round=1 + min(
            range(len(runs)), key=lambda i: abs(runs[i]["seconds"] - median)))
        agg["seconds"] = round(median, 2)
        agg["seconds_all"] = [r["seconds"] for r in runs]
        for key in ("tasks_run", "docker_exec"):
            values = [r[key] for r in runs]
            if len(set(values)) > 1:
                agg[key + "_all"] = values
        agg["changed_tasks"] = sorted({name for r in runs for name in r["changed_tasks"]})
        agg["host_results"] = dict(runs[0]["host_results"], changed=max(r["host_results"]["changed"] for r in runs)) \
            if label == "unchanged" else runs[0]["host_results"]
        out[label] = agg
    return out


# --- the report ---------------------------------------------------------------

def ratio(a, b):
    return round(a / b, 3) if b else None


def play_label(play):
    """The component of a play of the generated playbook ("Deploy node_exporter on every host" -> node_exporter)."""
    words = play.split()
    return words[1] if len(words) > 1 and words[0] == "Deploy" else play


def print_report(result):
    variants = result["variants"]
    print("core converge benchmark: node_exporter on %d Debian 12 containers, Prometheus and Alertmanager on the first;"
          % HOSTS)
    print("archives from a loopback mirror (node_exporter %(node_exporter)s, Prometheus %(prometheus)s, "
          "Alertmanager %(alertmanager)s, Debian's binaries);" % result["versions"])
    print("community.docker.docker connection, pipelining off; fresh containers for each variant, one after the other%s"
          % ("" if result.get("rounds", 1) == 1 else "; median of %d alternating rounds" % result["rounds"]))
    for name, v in variants.items():
        print("  %-7s %s" % (name, v["description"]))
    print()
    print("%-8s %8s %12s %12s  %-33s %s" % ("variant", "first s", "unchanged s", "tasks run",
                                           "host results ok/changed/skipped", "docker exec per host 1/2/3"))
    print("%-8s %8s %12s %12s  %-33s %s" % ("", "", "", "first/unch.", "first + unchanged", "first | unchanged"))
    for name, v in variants.items():
        if "first" not in v:
            print("%-8s %s" % (name, v.get("error", "not run")))
            continue
        f, u = v["first"], v["unchanged"]
        fh, uh = f["host_results"], u["host_results"]
        print("%-8s %8.1f %12.1f %12s  %-33s %s" % (
            name, f["seconds"], u["seconds"], "%d/%d" % (f["tasks_run"], u["tasks_run"]),
            "%d/%d/%d + %d/%d/%d" % (fh["ok"], fh["changed"], fh["skipped"], uh["ok"], uh["changed"], uh["skipped"]),
            "%s | %s" % ("/".join(str(n) for n in f["docker_exec_per_container"].values()),
                         "/".join(str(n) for n in u["docker_exec_per_container"].values()))))
    if result.get("rounds", 1) > 1:
        print()
        for name, v in variants.items():
            if "first" in v:
                print("%-8s rounds: first %s s, unchanged %s s" % (
                    name, ", ".join("%.1f" % x for x in v["first"]["seconds_all"]),
                    ", ".join("%.1f" % x for x in v["unchanged"]["seconds_all"])))
    print()
    if result["ratio_lines"]:
        for line in result["ratio_lines"]:
            print(line)
        print()
    for name, v in variants.items():
        if "unchanged" in v:
            u = v["unchanged"]
            print("%s: unchanged run changed nothing: %s%s" % (
                name, "yes" if u["host_results"]["changed"] == 0 else "NO (%d host results changed)"
                % u["host_results"]["changed"],
                "" if not u["changed_tasks"] else "; changed: " + "; ".join(u["changed_tasks"])))
    if "after" in variants and "first" in variants["after"]:
        for label in ("first", "unchanged"):
            print()
            print("slowest tasks of after's %s run%s (s from the JSON callback; [play], hosts that ran it):"
                  % (label, "" if result.get("rounds", 1) == 1 else " (round %d, nearest the median)"
                     % variants["after"][label].get("round", 1)))
            for task in variants["after"][label]["tasks"][:8]:
                print("  %6.2f  [%s] %s (%d)" % (task["seconds"], play_label(task["play"]), task["name"],
                                                 task["hosts_run"]))


def ratios(variants):
    lines = []
    out = {}

    def have(name):
        return name in variants and "first" in variants[name]

    def pair(a, b, label, targets=None):
        for run_ in ("first", "unchanged"):
            r = ratio(variants[a][run_]["seconds"], variants[b][run_]["seconds"])
            key = "%s/%s %s" % (a, b, run_)
            out[key] = r
            target = (targets or {}).get(run_)
            verdict = "" if target is None else ("  (target <= %.2f: %s)" % (target, "met" if r <= target else "MISSED"))
            lines.append("%-28s %-10s %.2fx%s" % (label, run_, r, verdict))
        tasks = ratio(variants[a]["first"]["tasks_run"], variants[b]["first"]["tasks_run"])
        execs = ratio(variants[a]["first"]["docker_exec"], variants[b]["first"]["docker_exec"])
        utasks = ratio(variants[a]["unchanged"]["tasks_run"], variants[b]["unchanged"]["tasks_run"])
        uexecs = ratio(variants[a]["unchanged"]["docker_exec"], variants[b]["unchanged"]["docker_exec"])
        lines.append("%-28s tasks run %.2fx / %.2fx, docker exec %.2fx / %.2fx (first / unchanged)"
                     % ("", tasks, utasks, execs, uexecs))
        out["%s/%s tasks first" % (a, b)] = tasks
        out["%s/%s tasks unchanged" % (a, b)] = utasks
        out["%s/%s docker exec first" % (a, b)] = execs
        out["%s/%s docker exec unchanged" % (a, b)] = uexecs

    met = None
    if have("after") and have("before"):
        pair("after", "before", "after / before", {"first": TARGET_FIRST, "unchanged": TARGET_UNCHANGED})
        met = (out["after/before first"] <= TARGET_FIRST and out["after/before unchanged"] <= TARGET_UNCHANGED)
    if have("peer"):
        for ours in ("after", "before"):
            if have(ours):
                pair(ours, "peer", "%s / peer" % ours)
    return lines, out, met


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--after", metavar="REV", help="benchmark this commit as `after` instead of the working tree")
    parser.add_argument("--before", metavar="REV", default=BEFORE_REV, help="the baseline (default: %(default)s)")
    parser.add_argument("--variants", default="before,after,peer",
                        help="comma-separated subset of before,after,peer, in this order (default: all)")
    parser.add_argument("--peer-path", help="the prometheus.prometheus collection directory")
    parser.add_argument("--rounds", type=int, default=3,
                        help="run every variant this many times, alternating, and report the medians (default: 3)")
    parser.add_argument("--keep", action="store_true", help="leave the containers running and the work directory")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    wanted = [v.strip() for v in args.variants.split(",") if v.strip()]
    if not wanted or set(wanted) - {"before", "after", "peer"}:
        parser.error("--variants takes before, after and peer")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    docker = Docker()
    workdir = tempfile.mkdtemp(prefix="vigil-bcore.")
    worktrees = []
    mirror = None
    status = 2
    result = {"date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "machine": {"cpus": os.cpu_count(), "uname": " ".join(os.uname()[2:3] + os.uname()[4:5])},
              "targets": {"after/before first": TARGET_FIRST, "after/before unchanged": TARGET_UNCHANGED},
              "variants": {}}
    try:
        # Containers left by an interrupted run first.
        docker.remove_ours()
        root, versions, extracted = build_mirror()
        mirror = Mirror(root)
        result["versions"] = versions

        # Everything a run needs from the outside: one ansible.cfg for all
        # variants and a docker wrapper that counts the connection's calls.
        with open(os.path.join(workdir, "ansible.cfg"), "w", encoding="utf-8") as f:
            f.write(ANSIBLE_CFG)
        bindir = os.path.join(workdir, "bin")
        os.makedirs(bindir)
        with open(os.path.join(bindir, "docker"), "w", encoding="utf-8") as f:
            f.write(DOCKER_WRAPPER % {"docker": docker.exe})
        os.chmod(os.path.join(bindir, "docker"), 0o755)
        base_env = environment(ANSIBLE_CONFIG=os.path.join(workdir, "ansible.cfg"),
                               ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_PIPELINING="false",
                               ANSIBLE_RETRY_FILES_ENABLED="false")
        base_env["PATH"] = bindir + os.pathsep + base_env["PATH"]
        base_env.pop("ANSIBLE_COLLECTIONS_PATH", None)

        docker.network()
        sources = {}
        for variant in wanted:
            if variant == "peer":
                peer = find_peer(args.peer_path)
                if peer is None:
                    result["variants"]["peer"] = {
                        "description": "prometheus.prometheus",
                        "error": "not run: prometheus.prometheus not found (not in the ansible package of .venv, "
                                 "nor on ANSIBLE_COLLECTIONS_PATH, ~/.ansible/collections or .cache/peer; "
                                 "give --peer-path)"}
                    continue
                sources["peer"] = (peer, "prometheus.prometheus",
                                   "prometheus.prometheus %s (%s)" % (collection_version(peer), os.path.relpath(peer, ROOT)
                                                                      if peer.startswith(ROOT) else peer))
                continue
            rev = args.before if variant == "before" else args.after
            if rev is None:
                sources[variant] = (ROOT, "vigil.observability", "vigil.observability, the working tree (%s + changes)"
                                    % git("rev-parse", "--short", "HEAD"))
            else:
                path = os.path.join(workdir, "tree-" + variant)
                commit = add_worktree(rev, path)
                worktrees.append(path)
                sources[variant] = (path, "vigil.observability", "vigil.observability at %s" % commit[:7])

        order = [v for v in wanted if v in sources]
        rounds = {v: [] for v in order}
        for variant in order:
            result["variants"][variant] = {"description": sources[variant][2], "containers": containers_of(variant)}
        # Rounds alternate the variants, so that a change in the machine's
        # load falls on all of them.
        for round_ in range(1, args.rounds + 1):
            for variant in order:
                source, namespace, _ = sources[variant]
                if args.rounds > 1:
                    log("round %d of %d" % (round_, args.rounds))
                rounds[variant].append(run_variant(variant, round_, source, namespace, args, workdir, docker, mirror,
                                                   versions, extracted, base_env))
        for variant in order:
            result["variants"][variant].update(aggregate(rounds[variant]), rounds=rounds[variant])
        result["rounds"] = args.rounds

        lines, result["ratios"], met = ratios(result["variants"])
        result["ratio_lines"] = lines
        result["targets_met"] = met
        os.makedirs(RESULTS_DIR, exist_ok=True)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        result_file = os.path.join(RESULTS_DIR, "core-converge-%s.json" % stamp)
        with open(result_file, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
        print_report(result)
        print("results: %s" % os.path.relpath(result_file, ROOT))
        unchanged_ok = all(v["unchanged"]["host_results"]["changed"] == 0
                           for v in result["variants"].values() if "unchanged" in v)
        status = 0 if unchanged_ok and met is not False else 1
    except BenchFailed as exc:
        print("benchmark failed: %s" % exc, file=sys.stderr)
        status = 2
    except KeyboardInterrupt:
        print("benchmark interrupted; removing its containers", file=sys.stderr)
        status = 130
    except SystemExit as exc:
        print("benchmark interrupted (exit %s); removing its containers" % exc.code, file=sys.stderr)
        status = exc.code if isinstance(exc.code, int) else 2
    finally:
        if mirror is not None:
            mirror.close()
        if args.keep:
            print("kept: the containers (docker ps --filter label=%s), %s and its worktrees "
                  "(git worktree remove --force <path>)" % (LABEL, workdir), file=sys.stderr)
        else:
            for path in worktrees:
                remove_worktree(path)
            docker.remove_ours()
            docker.remove_network()
            shutil.rmtree(workdir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
