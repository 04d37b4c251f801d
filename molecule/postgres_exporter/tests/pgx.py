"""Helpers of the postgres_exporter suites: metrics over HTTP(S) with basic auth, and psql on the host."""

import os
import re
import shlex
import time

from vigil_testinfra import curl_exporter, host_address

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
    return host_address(host)


def curl(host, path="/metrics", user="prometheus", password=WEB_PASSWORD):
    """Fetch a path from the exporter from inside the host; returns (status, body)."""
    return curl_exporter(host, 9187, path, user, password, tls_name="pgx.test" if name(host) in TLS_HOSTS else None)


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
