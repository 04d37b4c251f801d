"""Helpers for the Alertmanager scenario: its hosts, its APIs and the notification sink."""

import json
import shlex
import time

from vigil_testinfra import host_address, molecule_hosts

AM_USER, AM_PASSWORD = "prometheus", "S3ntinel-5d0c1a77-am-web"
PEERS = ("am1", "am2", "am3")
SENTINELS = (
    "S3ntinel-5d0c1a77-am-web",
    "S3ntinel-5d0c1a77-pd-routing-key",
    "S3ntinel-5d0c1a77-og-api-key",
    "S3ntinel-5d0c1a77-slack-token",
    "S3ntinel-5d0c1a77-webhook-token",
    "S3ntinel-5d0c1a77-smtp-password",
)
# Receivers the critical route selects, and what the sink records for each.
CRITICAL = ("pager", "opsgenie", "chat", "mail", "audit")

_hosts = {}


def hosts():
    if not _hosts:
        _hosts.update(molecule_hosts(("alerts",) + PEERS))
    return _hosts


def am_get(host, path, user=AM_USER, password=AM_PASSWORD, method="GET", data=None):
    """HTTP request to the Alertmanager on `host`, from inside it; returns (status, body)."""
    auth = "-u %s" % shlex.quote("%s:%s" % (user, password)) if user else ""
    body = "-H 'Content-Type: application/json' --data %s" % shlex.quote(json.dumps(data)) if data is not None else ""
    cmd = ("rm -f /tmp/vigil-am-body; curl -sS -X %s -o /tmp/vigil-am-body -w '%%{http_code}' %s %s http://%s:9093%s; "
           "echo; cat /tmp/vigil-am-body") % (method, auth, body, host_address(host), path)
    status, _, out = host.run(cmd).stdout.partition("\n")
    return int(status or 0), out


def am_json(host, path):
    status, body = am_get(host, path)
    assert status == 200, (host.backend.host, path, status, body)
    return json.loads(body)


def metric(host, name):
    """The value of an unlabelled metric of the Alertmanager on `host`."""
    status, body = am_get(host, "/metrics")
    assert status == 200, body
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError("%s not in the metrics of %s" % (name, host.backend.host))


def prom_query(query):
    alerts = hosts()["alerts"]
    out = alerts.check_output("curl -sS -G --data-urlencode %s http://%s:9090/api/v1/query" % (
        shlex.quote("query=" + query), host_address(alerts)))
    return json.loads(out)["data"]["result"]


# -- the notification sink -------------------------------------------------------
def _sink(name):
    out = hosts()["alerts"].run("cat /var/lib/sink/%s 2>/dev/null" % name).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def sink_http():
    return _sink("http.jsonl")


def sink_mail():
    return _sink("smtp.jsonl")


# The sink path each receiver of the scenario posts to, most specific first.
_RECEIVER_PATHS = (("/pagerduty", "pager"), ("/opsgenie", "opsgenie"), ("/slack/db", "db-chat"), ("/slack/", "chat"),
                   ("/webhook/audit", "audit"), ("/webhook/secondary", "secondary"))


def _receiver_of(entry):
    path = entry["path"]
    return next((name for prefix, name in _RECEIVER_PATHS if path.startswith(prefix)), "unknown:" + path)


def _http_event(entry):
    """(receiver, status, alertnames, text) of one HTTP notification."""
    receiver, body = _receiver_of(entry), entry.get("body") or {}
    raw = entry.get("raw", "")
    if receiver == "pager":
        status = "firing" if body.get("event_action") == "trigger" else "resolved"
    elif receiver == "opsgenie":
        status = "resolved" if "/close" in entry["path"] else "firing"
    elif receiver in ("chat", "db-chat"):
        title = (body.get("attachments") or [{}])[0].get("title", "")
        status = "resolved" if title.startswith("[RESOLVED") else "firing"
    else:
        status = body.get("status", "")
    return receiver, status, raw


def notifications(alertname, instance=None, since=0.0):
    """Notifications about `alertname` (on `instance`) recorded after `since`, as {receiver: [status, ...]}.

    Opsgenie closes an alert with a body that names no alert: it is counted
    when its path carries the alias of an alert Opsgenie opened for `alertname`.
    """
    found = {}
    aliases = set()
    for entry in sink_http():
        if entry["time"] < since:
            continue
        receiver, status, raw = _http_event(entry)
        if receiver == "opsgenie" and status == "resolved":
            if any(alias in entry["path"] for alias in aliases):
                found.setdefault(receiver, []).append(status)
            continue
        if alertname not in raw or (instance and instance not in raw):
            continue
        if receiver == "opsgenie":
            aliases.add((entry.get("body") or {}).get("alias", "?"))
        found.setdefault(receiver, []).append(status)
    for mail in sink_mail():
        if mail["time"] < since:
            continue
        data = mail["data"]
        if alertname in data and (not instance or instance in data):
            found.setdefault("mail", []).append("resolved" if "[RESOLVED" in data else "firing")
    return found


def wait_for(predicate, timeout, what, interval=1.0):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = predicate()
        except AssertionError as error:  # not there yet (a service still starting, say)
            last = error
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError("timed out after %d s waiting for %s (last: %r)" % (timeout, what, last))
