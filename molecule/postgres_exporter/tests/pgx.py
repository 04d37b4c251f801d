"""Helpers of the postgres_exporter suites: metrics over HTTP(S) with basic auth, and psql on the host."""

import os
import re
import shlex
import time

UNIT = "postgres_exporter.service"
UNIT_PATH = "/etc/systemd/system/postgres_exporter.service"
DB_PASSWORD = "S3ntinel-3a9e71c2-pg-login"
WEB_PASSWORD = "S3ntinel-3a9e71c2-pgx-web"
SENTINELS = (DB_PASSWORD, WEB_PASSWORD)
HOSTS = ("pgx-db12", "pgx-db13")
TLS_HOSTS = {"pgx-db12"}
PKI = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ""), "tls")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def name(host):
    return host.backend.get_hostname()


def address(host):
    return host.check_output("ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1")


def curl(host, path="/metrics", user="prometheus", password=WEB_PASSWORD):
    """Fetch a path from the exporter from inside the host; returns (status, body)."""
    ip = address(host)
    if name(host) in TLS_HOSTS:
        host.run("mkdir -p /tmp/vigil-test")
        ca = open(os.path.join(PKI, "ca.crt")).read()
        host.run("cat > /tmp/vigil-test/ca.crt << 'EOF'\n%s\nEOF" % ca)
        base = "--cacert /tmp/vigil-test/ca.crt --resolve pgx.test:9187:%s https://pgx.test:9187" % ip
    else:
        base = "http://%s:9187" % ip
    auth = "-u %s" % shlex.quote("%s:%s" % (user, password)) if user else ""
    cmd = "curl -sS -o /tmp/vigil-body -w '%%{http_code}' %s %s%s; echo; cat /tmp/vigil-body" % (auth, base, path)
    out = host.run(cmd)
    status, _, body = out.stdout.partition("\n")
    return int(status or 0), body


def samples(host):
    """The exporter's samples as a list of (name, labels, value)."""
    status, body = curl(host)
    assert status == 200, "GET /metrics with credentials gave %s" % status
    result = []
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match:
            labels = dict(_LABEL.findall(match.group(3) or ""))
            result.append((match.group(1), labels, float(match.group(4))))
    return result


def total(found, metric, **labels):
    """Sum of the samples of `metric` whose labels include `labels`; None when there is none."""
    values = [v for n, lab, v in found if n == metric and all(lab.get(k) == w for k, w in labels.items())]
    return sum(values) if values else None


def wait_for(host, check, timeout=30):
    """Poll the metrics until check(samples) is truthy; return the last samples."""
    deadline = time.time() + timeout
    while True:
        found = samples(host)
        if check(found) or time.time() > deadline:
            return found
        time.sleep(1)


def psql(host, sql, db="postgres"):
    """Run SQL as the postgres superuser; return the unaligned output."""
    return host.check_output("runuser -u postgres -- psql -X -At -v ON_ERROR_STOP=1 -d %s -c %s" % (db, shlex.quote(sql)))


def exporter_db(host):
    """The database the exporter connects to (and where pg_stat_statements is created)."""
    return "pgx_app" if name(host) == "pgx-db13" else "postgres"


def exporter_is_new(host):
    """True for the exporter with its own collectors (Debian 13's 0.17), False for 0.11 with the custom queries."""
    return name(host) == "pgx-db13"
