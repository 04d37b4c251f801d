"""Helpers for the blackbox_exporter scenario: probes and metrics read from inside the hosts."""

import re
import shlex
import urllib.parse

UNIT = "blackbox_exporter.service"
UNIT_PATH = "/etc/systemd/system/blackbox_exporter.service"
CONFIG = "/etc/blackbox_exporter/blackbox.yml"
USER, SENTINEL = "prometheus", "S3ntinel-3b7f2a91-blackbox"
PROBER, WEB = "bbx-prober", "bbx-web"


def name(host):
    return host.backend.get_hostname()


def address(host):
    return host.check_output("ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1")


def base(host):
    """The exporter's URL as the host itself reaches it."""
    return "http://%s:9115" % (address(host) if name(host) == PROBER else "127.0.0.1")


def get(host, path, auth=True, password=SENTINEL, params=None):
    """GET a path of the exporter from inside the host; returns (status, body)."""
    url = base(host) + path
    if params:
        url += "?" + urllib.parse.urlencode(params)
    creds = ""
    if auth and name(host) == PROBER:
        creds = "-u %s" % shlex.quote("%s:%s" % (USER, password))
    out = host.run("curl -sS -m 30 -o /tmp/bbx-body -w '%%{http_code}' %s %s; echo; cat /tmp/bbx-body" % (creds, shlex.quote(url)))
    status, _, body = out.stdout.partition("\n")
    return int(status or 0), body


def probe(host, target, module="http_2xx"):
    """Run one probe and return its metrics as {name: value} (first sample of each name) and the raw text."""
    status, body = get(host, "/probe", params={"target": target, "module": module})
    assert status == 200, "probe %s %s answered %s: %s" % (module, target, status, body[:500])
    return samples(body), body


def samples(text):
    values = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        if match:
            values.setdefault(match.group(1), float(match.group(3)))
    return values


def metric(host, metric_name):
    status, body = get(host, "/metrics")
    assert status == 200, status
    return samples(body)[metric_name]


def main_pid(host):
    return int(host.check_output("systemctl show -p MainPID --value %s" % UNIT))
