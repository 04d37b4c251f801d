#!/usr/bin/env python3
"""Alert latency benchmark: from a stopped exporter to the first notification.

Starts two fresh lab-style containers of its own (vigil-alertbench-monitor and
-app on the Docker network vigil-alertbench) with playbooks/lab/up.yml, which
also runs the notification sink on monitor, writes an inventory for them in a
temporary directory (the lab inventory with the container names swapped and
the hosts it does not start left out) and deploys playbooks/site.yml: node
exporter on both, Alertmanager and Prometheus on monitor, notifying the sink
through the lab's receiver `lab-webhook`.

Then, for each setting,

  lab                  the lab inventory's settings (scrape and evaluation
                       every 5 s);
  production defaults  the prometheus role's defaults (scrape and evaluation
                       every 15 s), put back with -e on a re-run of site.yml
                       (--tags prometheus); the rule and the routes are the same,

it runs N times (--runs, default 5): wait a random 0 to scrape-interval
seconds (so that the stop falls at a different phase of the scrape and
evaluation cycles each time), note the time, `systemctl stop node_exporter` on
app, poll the sink's http.jsonl every 0.5 s for the first new HostDown firing
notification for instance app, take the sink's own arrival time minus the
stop time (both read the kernel clock of this machine: containers share it),
start node_exporter again and wait for the resolved notification before the
next run.

It prints each run, the median, minimum and maximum, and the "floor" the
settings give, read from the running services (the node job's scrape interval
and the HostDown group's evaluation interval from Prometheus, the rule's `for`,
the group_wait of the route a critical HostDown takes in Alertmanager):
scrape + evaluation + for + group_wait. Checks: lab median <= 1.2 x floor;
production median <= 60 s.

Last, with production settings, it stops node_exporter for about 3 s around
one scrape of app, so that exactly one scrape fails (counted from the raw
samples of up{job="node",instance="app"}), and checks that HostDown never
reached firing (raw samples of ALERTS) and that no HostDown notification
arrived.

The containers and the network are removed at the end, also on failure or
interruption (playbooks/lab/destroy.yml), unless --keep is given.

Exit status: 0 when every check passes, 1 when one fails, 2 when a playbook
or the measurement itself failed.

    make bench            (or: .venv/bin/python benchmarks/alert_latency.py [--runs 5])
"""

import argparse
import datetime
import json
import math
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

import yaml
from benchlab import ROOT, environment, write_lab_inventory

PROMETHEUS_DEFAULTS = os.path.join(ROOT, "roles", "prometheus", "defaults", "main.yml")
RESULTS_DIR = os.path.join(ROOT, "benchmarks", "results")
PREFIX = "vigil-alertbench"
DISTRO = "debian12"
HOSTS = ["monitor", "app"]
TARGET = "app"
ALERT = "HostDown"
RECEIVER = "lab-webhook"
SINK_FILE = "/var/lib/sink/http.jsonl"
POLL_SECONDS = 0.5
LAB_FACTOR = 1.2
PRODUCTION_LIMIT = 60.0

MONITOR = PREFIX + "-monitor"
APP = PREFIX + "-" + TARGET
PROMETHEUS = "http://%s:9090" % MONITOR
ALERTMANAGER = "http://%s:9093" % MONITOR


class PlaybookFailed(Exception):
    pass


class MeasurementFailed(Exception):
    pass


def log(message=""):
    print(message, flush=True)


# -- running things ------------------------------------------------------------

def ansible_playbook(args, label):
    """Run ansible-playbook from the collection root; return its wall time, raise on failure."""
    env = environment()
    exe = shutil.which("ansible-playbook", path=env["PATH"]) or "ansible-playbook"
    start = time.monotonic()
    proc = subprocess.run([exe, *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout[-6000:])
        sys.stderr.write(proc.stderr[-3000:])
        raise PlaybookFailed("%s exited with %d" % (label, proc.returncode))
    return time.monotonic() - start


def lab_playbook(name):
    return ansible_playbook(["playbooks/lab/" + name, "-e", "vigil_lab_prefix=" + PREFIX, "-e", "vigil_lab_distro=" + DISTRO,
                             "-e", json.dumps({"vigil_lab_hosts": HOSTS})], "playbooks/lab/" + name)


def docker_exec(container, *command, check=True, timeout=60):
    proc = subprocess.run(["docker", "exec", container, *command], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise MeasurementFailed("docker exec %s %s exited with %d: %s"
                                % (container, " ".join(command), proc.returncode, proc.stderr.strip()[-500:]))
    return proc


# Prometheus and Alertmanager listen on the monitor container's bridge address,
# which this machine may not reach (rootless Docker, a VM); ask from inside.
_GET = "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())"


def http_json(url, params=None):
    if params:
        url += "?" + urllib.parse.urlencode(params)
    proc = docker_exec(MONITOR, "python3", "-c", _GET, url, check=False)
    if proc.returncode != 0:
        raise MeasurementFailed("GET %s failed: %s" % (url, proc.stderr.strip()[-500:]))
    return json.loads(proc.stdout)


def wait_for(what, probe, timeout, delay=2.0):
    """Call probe() until it returns a true value; return that value."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = probe()
            if value:
                return value
        except MeasurementFailed as exc:
            last = exc
        if time.monotonic() > deadline:
            raise MeasurementFailed("timed out after %d s waiting for %s%s" % (timeout, what, ": %s" % last if last else ""))
        time.sleep(delay)


# -- inventory ---------------------------------------------------------------------

def write_inventory(directory):
    """The lab inventory with the benchmark's container names and only its hosts."""
    return write_lab_inventory(directory, PREFIX, "alert_latency.py", hosts=HOSTS)


def production_overrides():
    """The prometheus role's default scrape and evaluation settings."""
    with open(PROMETHEUS_DEFAULTS, encoding="utf-8") as f:
        defaults = yaml.safe_load(f)
    return {key: defaults[key] for key in ("prometheus_scrape_interval", "prometheus_scrape_timeout",
                                           "prometheus_evaluation_interval")}


# -- time and durations ---------------------------------------------------------------

_DURATION = re.compile(r"([0-9]+)(ms|s|m|h|d|w|y)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def seconds(duration):
    """A Prometheus/Alertmanager duration ("15s", "1m30s") or a number of seconds, in seconds."""
    if isinstance(duration, (int, float)):
        return float(duration)
    text = str(duration).strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(a + b for a, b in parts) != text:
        raise ValueError("not a duration: %r" % duration)
    return float(sum(int(n) * _UNITS[u] for n, u in parts))


_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def epoch(timestamp):
    """An RFC 3339 timestamp with up to nanoseconds (Go's format) as Unix seconds."""
    match = _TIMESTAMP.match(timestamp)
    if not match:
        raise ValueError("not an RFC 3339 timestamp: %r" % timestamp)
    base, fraction, zone = match.groups()
    zone = "+00:00" if zone == "Z" else zone
    value = datetime.datetime.fromisoformat(base + zone).timestamp()
    return value + (float("0" + fraction) if fraction else 0.0)


# -- what the services run with ----------------------------------------------------

def _matcher_ok(matcher, labels):
    match = re.match(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$', matcher)
    if not match:
        raise MeasurementFailed("cannot read the Alertmanager matcher %r" % matcher)
    name, op, value = match.groups()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = json.loads(value)
    actual = labels.get(name, "")
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    found = re.fullmatch(value, actual) is not None
    return found if op == "=~" else not found


def _route_matches(route, labels):
    if not all(_matcher_ok(m, labels) for m in route.get("matchers") or []):
        return False
    if any(labels.get(k, "") != v for k, v in (route.get("match") or {}).items()):
        return False
    return all(re.fullmatch(v, labels.get(k, "")) for k, v in (route.get("match_re") or {}).items())


def _routes_for(route, labels, inherited):
    """The routes an alert ends up on, each with its inherited options, as Alertmanager walks the tree."""
    options = dict(inherited)
    for key in ("receiver", "group_wait", "group_interval", "repeat_interval"):
        if key in route:
            options[key] = route[key]
    matched = []
    for child in route.get("routes") or []:
        if _route_matches(child, labels):
            matched.extend(_routes_for(child, labels, options))
            if not child.get("continue", False):
                break
    return matched or [options]


def effective_settings():
    """Scrape interval (node job), evaluation interval (HostDown's group), `for` and group_wait, as running."""
    config = yaml.safe_load(http_json(PROMETHEUS + "/api/v1/status/config")["data"]["yaml"])
    node_jobs = [c for c in config.get("scrape_configs", []) if c["job_name"] == "node"]
    scrape = seconds(node_jobs[0].get("scrape_interval") if node_jobs else config["global"]["scrape_interval"])
    rule = group = None
    for candidate in http_json(PROMETHEUS + "/api/v1/rules", {"type": "alert"})["data"]["groups"]:
        for item in candidate["rules"]:
            if item["name"] == ALERT:
                rule, group = item, candidate
    if rule is None:
        raise MeasurementFailed("Prometheus has no %s rule loaded" % ALERT)
    labels = dict(rule.get("labels") or {}, alertname=ALERT, job="node", instance=TARGET)
    status = http_json(ALERTMANAGER + "/api/v2/status")
    routes = _routes_for(yaml.safe_load(status["config"]["original"])["route"], labels,
                         {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"})
    ours = [r for r in routes if r.get("receiver") == RECEIVER]
    if not ours:
        raise MeasurementFailed("a %s alert of severity %s does not reach the receiver %s (it goes to %s)"
                                % (ALERT, labels.get("severity"), RECEIVER, ", ".join(str(r.get("receiver")) for r in routes)))
    return {
        "scrape_interval": scrape,
        "scrape_timeout": seconds(node_jobs[0].get("scrape_timeout") if node_jobs else config["global"]["scrape_timeout"]),
        "evaluation_interval": float(group["interval"]),
        "global_evaluation_interval": seconds(config["global"]["evaluation_interval"]),
        "for": float(rule["duration"]),
        "severity": labels.get("severity", ""),
        "group_wait": seconds(ours[0]["group_wait"]),
        "group_interval": seconds(ours[0]["group_interval"]),
    }


def running_with(overrides):
    """The effective settings once Prometheus runs with the overridden intervals, else None."""
    settings = effective_settings()
    if (settings["scrape_interval"] == seconds(overrides["prometheus_scrape_interval"])
            and settings["global_evaluation_interval"] == seconds(overrides["prometheus_evaluation_interval"])):
        return settings
    return None


def scrape_to_evaluation():
    """Seconds from a scrape of app to the next evaluation of HostDown's group, when both run at one interval.

    Prometheus spreads scrapes and rule groups over their interval with
    offsets taken from hashes (of the target, of the group's name and file),
    so this delay is fixed for a given server and inventory: only the moment
    of the stop varies from run to run.
    """
    target = target_health()
    group = None
    for candidate in http_json(PROMETHEUS + "/api/v1/rules", {"type": "alert"})["data"]["groups"]:
        if any(item["name"] == ALERT for item in candidate["rules"]):
            group = candidate
    if not target or not group or seconds(target["scrapeInterval"]) != float(group["interval"]):
        return None
    scraped, evaluated = epoch(target["lastScrape"]), epoch(group["lastEvaluation"])
    if min(scraped, evaluated) < 1e9:
        return None
    return round((evaluated - scraped) % float(group["interval"]), 2)


def target_health():
    for target in http_json(PROMETHEUS + "/api/v1/targets", {"state": "active"})["data"]["activeTargets"]:
        if target["labels"].get("job") == "node" and target["labels"].get("instance") == TARGET:
            return target
    return None


def wait_until_ready(settings=None):
    """Prometheus sends to Alertmanager, scrapes app at the wanted interval, and HostDown is quiet."""
    def ready():
        if not http_json(PROMETHEUS + "/api/v1/alertmanagers")["data"]["activeAlertmanagers"]:
            return False
        target = target_health()
        if not target or target["health"] != "up":
            return False
        if settings and seconds(target["scrapeInterval"]) != settings["scrape_interval"]:
            return False
        alerts = http_json(PROMETHEUS + "/api/v1/alerts")["data"]["alerts"]
        return not any(a["labels"].get("alertname") == ALERT for a in alerts)

    wait_for("Prometheus to send to Alertmanager and scrape %s with %s quiet" % (TARGET, ALERT), ready, 180)


# -- the sink --------------------------------------------------------------------------

class Sink(object):
    """Reads the notification sink's http.jsonl on monitor, from where the last read stopped."""

    def __init__(self):
        self.offset = 0
        self.partial = ""

    def read(self):
        proc = docker_exec(MONITOR, "tail", "-c", "+%d" % (self.offset + 1), SINK_FILE, check=False)
        if proc.returncode != 0:
            if "No such file" in proc.stderr:
                return []
            raise MeasurementFailed("cannot read %s on %s: %s" % (SINK_FILE, MONITOR, proc.stderr.strip()))
        data = proc.stdout
        self.offset += len(data.encode("utf-8"))
        lines = (self.partial + data).split("\n")
        self.partial = lines.pop()
        return [json.loads(line) for line in lines if line.strip()]

    def skip(self):
        self.read()

    @staticmethod
    def alerts(entry, status):
        """The target's HostDown alerts with the given status in one notification."""
        body = entry.get("body") or {}
        return [a for a in body.get("alerts", []) if a.get("status") == status
                and a.get("labels", {}).get("alertname") == ALERT and a.get("labels", {}).get("instance") == TARGET]

    def wait(self, status, timeout, starts_at=None):
        """The first new notification with the target's HostDown in `status`: (arrival time, alert)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for entry in self.read():
                for alert in self.alerts(entry, status):
                    if starts_at is None or alert.get("startsAt") == starts_at:
                        return entry["time"], alert
            time.sleep(POLL_SECONDS)
        return None, None


def node_exporter(action):
    docker_exec(APP, "systemctl", action, "node_exporter")


# -- measurements ------------------------------------------------------------------------

def measure(label, settings, runs, rng, sink):
    floor = settings["scrape_interval"] + settings["evaluation_interval"] + settings["for"] + settings["group_wait"]
    timeout = floor + 90
    log("%s: scrape %gs, evaluation %gs, %s for %gs (severity %s), group_wait %gs, group_interval %gs"
        % (label, settings["scrape_interval"], settings["evaluation_interval"], ALERT, settings["for"],
           settings["severity"], settings["group_wait"], settings["group_interval"]))
    offset = scrape_to_evaluation()
    if offset is not None:
        log("  a failed scrape of %s is read by the evaluation %.1f s later (fixed by Prometheus's hash-based offsets)"
            % (TARGET, offset))
    log("  %-4s %8s %10s %12s %14s %12s" % ("run", "wait s", "latency s", "fired after", "then notified", "resolved"))
    results = []
    for index in range(1, runs + 1):
        wait = rng.uniform(0, settings["scrape_interval"])
        time.sleep(wait)
        sink.skip()
        stopped = time.time()
        node_exporter("stop")
        try:
            arrived, alert = sink.wait("firing", timeout)
        finally:
            node_exporter("start")
        if arrived is None:
            raise MeasurementFailed("run %d: no %s notification for %s within %d s of the stop" % (index, ALERT, TARGET, timeout))
        fired = epoch(alert["startsAt"])
        resolved_at, _ = sink.wait("resolved", settings["group_interval"] + settings["scrape_interval"]
                                   + settings["evaluation_interval"] + 90, alert["startsAt"])
        run = {
            "run": index,
            "wait": round(wait, 2),
            "latency": round(arrived - stopped, 2),
            # Prometheus fired (startsAt is the evaluation that fired it): detection plus `for`.
            "fired_after": round(fired - stopped, 2),
            # Alertmanager's share: group_wait plus the delivery.
            "notified_after_firing": round(arrived - fired, 2),
            "resolved_notification": resolved_at is not None,
        }
        results.append(run)
        log("  %-4d %8.1f %10.1f %12.1f %14.1f %12s" % (index, wait, run["latency"], run["fired_after"],
                                                         run["notified_after_firing"],
                                                         "yes" if resolved_at is not None else "not seen"))
        if resolved_at is None:
            raise MeasurementFailed("no resolved %s notification for %s after node_exporter started again" % (ALERT, TARGET))
    latencies = [r["latency"] for r in results]
    median = statistics.median(latencies)
    return {
        "settings": settings,
        "runs": results,
        "floor": floor,
        # What the pipeline can do at best: the stop right before a scrape that
        # an evaluation reads at once.
        "best_case": settings["for"] + settings["group_wait"],
        "scrape_to_evaluation": offset,
        "median": round(median, 2),
        "min": min(latencies),
        "max": max(latencies),
        "ratio": round(median / floor, 3),
    }


def print_summary(summary):
    s = summary["settings"]
    log("  median %.1f s, min %.1f s, max %.1f s over %d runs"
        % (summary["median"], summary["min"], summary["max"], len(summary["runs"])))
    log("  floor: scrape %g + evaluation %g + for %g + group_wait %g = %g s; median/floor %.2f"
        % (s["scrape_interval"], s["evaluation_interval"], s["for"], s["group_wait"], summary["floor"], summary["ratio"]))
    log("  (for + group_wait = %g s is the least any run can take; the floor adds a full scrape and evaluation"
        " interval, the most the two cycles can add)" % summary["best_case"])
    if summary["scrape_to_evaluation"] is not None:
        expected = summary["best_case"] + summary["scrape_to_evaluation"]
        log("  with this server's %.1f s from scrape to evaluation, runs take %.1f to %.1f s plus delivery; median about %.1f s"
            % (summary["scrape_to_evaluation"], expected, expected + s["scrape_interval"], expected + s["scrape_interval"] / 2))
        log("  (another server or inventory has another offset, 0 to %g s: a median of %.1f to %.1f s)"
            % (s["evaluation_interval"], summary["best_case"] + s["scrape_interval"] / 2,
               summary["best_case"] + s["scrape_interval"] / 2 + s["evaluation_interval"]))


def raw_samples(query, start, end):
    """Raw samples of a range selector between start and end: {labels as tuple: [(t, value)]}."""
    window = max(1, int(math.ceil(end - start)))
    data = http_json(PROMETHEUS + "/api/v1/query", {"query": "%s[%ds]" % (query, window), "time": "%.3f" % end})["data"]
    return {tuple(sorted(series["metric"].items())): [(float(t), float(v)) for t, v in series["values"]]
            for series in data["result"]}


def single_failed_scrape(settings, sink, attempts=3):
    """Stop node_exporter on app around one scrape only; HostDown must not fire or notify."""
    scrape, evaluation, hold = settings["scrape_interval"], settings["evaluation_interval"], settings["for"]
    needed = int(hold // scrape) + 1
    log("single failed scrape (production settings):")
    log("  %s is `up{job=\"node\"} == 0` for %gs, evaluated every %gs: it fires only when the evaluations at t,"
        % (ALERT, hold, evaluation))
    log("  t+%gs ... t+%gs all see up == 0 (%d evaluations). Each evaluation reads the newest scrape, one every %gs,"
        % (evaluation, hold, int(hold // evaluation) + 1, scrape))
    log("  so %d consecutive scrapes must fail: an outage of more than %gs. A single failed scrape is read by one"
        % (needed, hold))
    log("  evaluation only: the alert is pending once and inactive at the next evaluation. Test:")
    for attempt in range(1, attempts + 1):
        target = target_health()
        if not target or target["health"] != "up":
            raise MeasurementFailed("node_exporter on %s is not up before the single-scrape test" % TARGET)
        interval = seconds(target["scrapeInterval"])
        last = epoch(target["lastScrape"])
        now = time.time()
        scrape_at = last + interval * math.ceil((now + 4 - last) / interval)
        sink.skip()
        begin = time.time()
        time.sleep(max(0, scrape_at - 2.0 - time.time()))
        node_exporter("stop")
        stopped_by = time.time()
        time.sleep(max(0, scrape_at + 1.0 - time.time()))
        node_exporter("start")
        started_by = time.time()
        # Had it fired, it would have fired by the next evaluation plus `for`,
        # and been notified group_wait later.
        window_end = scrape_at + evaluation + hold + settings["group_wait"] + 10
        time.sleep(max(0, window_end - time.time()))
        up = raw_samples('up{job="node",instance="%s"}' % TARGET, begin - 1, time.time())
        zeros = [t for samples in up.values() for t, v in samples if v == 0]
        states = {}
        for labels, samples in raw_samples('ALERTS{alertname="%s",instance="%s"}' % (ALERT, TARGET),
                                           begin - 1, time.time()).items():
            states[dict(labels).get("alertstate", "?")] = len(samples)
        notified = []
        for entry in sink.read():
            notified.extend(sink.alerts(entry, "firing"))
        log("  attempt %d: node_exporter down from %.1f s before to %.1f s after the scrape at %s (%.1f s);"
            % (attempt, scrape_at - stopped_by, started_by - scrape_at,
               datetime.datetime.fromtimestamp(scrape_at).strftime("%H:%M:%S.%f")[:-3], started_by - stopped_by))
        log("    failed scrapes: %d; %s samples of ALERTS: %s; %s notifications: %d"
            % (len(zeros), ALERT, ", ".join("%s %d" % kv for kv in sorted(states.items())) or "none", ALERT, len(notified)))
        result = {"attempt": attempt, "failed_scrapes": len(zeros), "alert_states": states, "notifications": len(notified),
                  "down_seconds": round(started_by - stopped_by, 2)}
        if len(zeros) == 1:
            result["passed"] = "firing" not in states and not notified
            return result
        log("    not exactly one failed scrape; trying again")
        time.sleep(scrape)
    result["passed"] = False
    result["inconclusive"] = True
    return result


# -- main ------------------------------------------------------------------------------------

def on_sigterm(signum, frame):
    print("benchmark interrupted (signal %d); removing its containers" % signum, file=sys.stderr)
    raise SystemExit(128 + signum)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per setting (default 5)")
    parser.add_argument("--seed", type=int, help="seed of the random waits (default: from the clock, printed)")
    parser.add_argument("--keep", action="store_true", help="leave the benchmark containers running at the end")
    parser.add_argument("--skip-lab", action="store_true",
                        help="measure only the production defaults and the single failed scrape")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    signal.signal(signal.SIGTERM, on_sigterm)
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)

    began = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="vigil-alertbench.")
    status = 2
    report = {"seed": seed, "runs_per_setting": args.runs}
    try:
        # Fresh containers: remove any left by an interrupted run first.
        lab_playbook("destroy.yml")
        up_seconds = lab_playbook("up.yml")
        inventory = write_inventory(workdir)
        deploy_seconds = ansible_playbook(["playbooks/site.yml", "-i", inventory], "playbooks/site.yml")
        log("alert latency benchmark: %s on %s, %s to %s (vigil/%s:latest); seed %d"
            % (ALERT, TARGET, ", ".join("%s-%s" % (PREFIX, h) for h in HOSTS), RECEIVER, DISTRO, seed))
        log("containers started in %.1f s; playbooks/site.yml deployed in %.1f s" % (up_seconds, deploy_seconds))
        log()
        sink = Sink()

        wait_until_ready()
        lab = None
        if not args.skip_lab:
            lab_settings = effective_settings()
            report["lab"] = lab = measure("lab", lab_settings, args.runs, rng, sink)
            print_summary(lab)
            log()

        overrides = production_overrides()
        extra = os.path.join(workdir, "production.json")
        with open(extra, "w", encoding="utf-8") as f:
            json.dump(overrides, f)
        ansible_playbook(["playbooks/site.yml", "-i", inventory, "--tags", "prometheus", "-e", "@" + extra],
                         "playbooks/site.yml --tags prometheus (production defaults)")
        production_settings = wait_for("Prometheus to run with %s" % json.dumps(overrides),
                                       lambda: running_with(overrides), 120)
        wait_until_ready(production_settings)
        report["production"] = production = measure("production defaults (%s)" % ", ".join(
            "%s=%s" % (k, v) for k, v in sorted(overrides.items())), production_settings, args.runs, rng, sink)
        print_summary(production)
        log()

        report["single_failed_scrape"] = single = single_failed_scrape(production_settings, sink)
        log()

        checks = [] if lab is None else [
            ("lab median %.1f s <= %.1f x floor %g s = %.1f s" % (lab["median"], LAB_FACTOR, lab["floor"], LAB_FACTOR * lab["floor"]),
             lab["median"] <= LAB_FACTOR * lab["floor"])]
        checks.append(
            ("production median %.1f s <= %g s" % (production["median"], PRODUCTION_LIMIT), production["median"] <= PRODUCTION_LIMIT))
        checks.append(("a single failed scrape (%s) does not fire %s and notifies no one"
                       % ("%d failed" % single["failed_scrapes"] if not single.get("inconclusive")
                          else "could not make exactly one scrape fail", ALERT), single["passed"]))
        for text, passed in checks:
            log("%s: %s" % ("PASS" if passed else "FAIL", text))
        report["checks"] = [{"check": text, "passed": passed} for text, passed in checks]
        status = 0 if all(passed for _, passed in checks) else 1
    except (PlaybookFailed, MeasurementFailed, subprocess.TimeoutExpired) as exc:
        print("benchmark failed: %s" % exc, file=sys.stderr)
        status = 2
    except KeyboardInterrupt:
        print("benchmark interrupted; removing its containers", file=sys.stderr)
        status = 130
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if args.keep:
            print("containers kept; remove them with: ansible-playbook playbooks/lab/destroy.yml -e vigil_lab_prefix=%s"
                  " -e '{\"vigil_lab_hosts\": %s}'" % (PREFIX, json.dumps(HOSTS)))
        else:
            try:
                lab_playbook("destroy.yml")
            except PlaybookFailed as exc:
                print("cleanup failed: %s" % exc, file=sys.stderr)
                status = max(status, 2)
        elapsed = time.monotonic() - began
        report["seconds"] = round(elapsed, 1)
        if "lab" in report or "production" in report:
            os.makedirs(RESULTS_DIR, exist_ok=True)
            stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
            result_file = os.path.join(RESULTS_DIR, "alert-latency-%s.json" % stamp)
            with open(result_file, "w", encoding="utf-8") as f:
                json.dump(report, f, indent=2)
            print("results: %s" % os.path.relpath(result_file, ROOT))
        print("alert latency benchmark took %.0f s (%.1f min)" % (elapsed, elapsed / 60), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
