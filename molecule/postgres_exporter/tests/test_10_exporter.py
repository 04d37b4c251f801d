"""Behaviour of the deployed postgres_exporter on each host (read-only checks, run first)."""

import re
import shlex
import time

import yaml
from pgx import (
    DB_PASSWORD,
    ROOT,
    SENTINELS,
    UNIT,
    UNIT_PATH,
    address,
    curl,
    exporter_db,
    exporter_is_new,
    name,
    psql,
    samples,
    total,
    wait_for,
)
from vigil_testinfra import assert_listens_only_on, assert_runs_as_locked_system_user, assert_service_up, main_pid, unit_exposure

STATEMENT = "SELECT count(*) AS vigil_probe FROM pgx_items WHERE id = 42;"
RUNS = 37
CONNECTIONS = 5


def test_service_active_and_enabled(host):
    assert_service_up(host, UNIT)


def test_runs_as_unprivileged_system_user(host):
    assert_runs_as_locked_system_user(host, UNIT, "postgres_exporter")


def test_listens_only_on_the_configured_address(host):
    assert_listens_only_on(host, address(host), 9187)


def test_install_method(host):
    exec_start = host.check_output("systemctl show -p ExecStart --value %s" % UNIT)
    if name(host) == "pgx-db12":
        assert host.file("/usr/local/bin/postgres_exporter").mode == 0o755
        assert not host.package("prometheus-postgres-exporter").is_installed
        assert "/usr/local/bin/postgres_exporter" in exec_start
    else:
        assert host.package("prometheus-postgres-exporter").is_installed
        assert not host.file("/usr/local/bin/postgres_exporter").exists
        assert host.file("/etc/systemd/system/prometheus-postgres-exporter.service").linked_to == "/dev/null"
        assert not host.service("prometheus-postgres-exporter").is_running


def test_requires_credentials(host):
    for path in ("/metrics", "/"):
        status, _ = curl(host, path, user=None)
        assert status == 401, "GET %s without credentials gave %s" % (path, status)
    assert curl(host, password="wrong-password")[0] == 401


def test_unit_hardening_score(host):
    score, line = unit_exposure(host, UNIT_PATH)
    assert score <= 2.0, line
    props = host.service(UNIT).systemd_properties
    assert props["NoNewPrivileges"] == "yes"
    assert props["ProtectSystem"] == "strict"


def test_connection_files_are_readable_by_the_exporter_only(host):
    conf = host.file("/etc/postgres_exporter")
    assert (conf.user, conf.group, conf.mode) == ("root", "postgres_exporter", 0o750)
    for f in ("uri", "user", "password", "web.yml"):
        f = host.file("/etc/postgres_exporter/" + f)
        assert (f.user, f.group, f.mode) == ("root", "postgres_exporter", 0o640), f.path
    assert host.file("/etc/postgres_exporter/password").content_string == DB_PASSWORD
    assert host.run("find /etc/postgres_exporter -perm -o=r -type f").stdout == ""
    # The only member of the group is the exporter's user.
    assert host.check_output("getent group postgres_exporter").split(":")[3] in ("", "postgres_exporter")


def test_no_secret_in_unit_environment_arguments_or_journal(host):
    pid = main_pid(host, UNIT)
    environment = host.check_output("systemctl show -p Environment --value %s" % UNIT)
    assert sorted(v.split("=")[0] for v in environment.split()) == [
        "DATA_SOURCE_PASS_FILE", "DATA_SOURCE_URI_FILE", "DATA_SOURCE_USER_FILE"]
    places = {
        "unit": "systemctl cat %s" % UNIT,
        "unit environment": "systemctl show -p Environment %s" % UNIT,
        "process arguments": "tr '\\0' ' ' < /proc/%d/cmdline" % pid,
        "process environment": "tr '\\0' ' ' < /proc/%d/environ" % pid,
        "process list": "ps -eo args",
        "journal": "journalctl --no-pager",
    }
    for where, cmd in places.items():
        out = host.check_output(cmd)
        for secret in SENTINELS:
            assert secret not in out, "a sentinel password was found in the %s" % where
    for secret in SENTINELS:
        found = host.run("grep -rlsF %s / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev" % shlex.quote(secret))
        files = [f for f in found.stdout.split() if f != "/etc/postgres_exporter/password"]
        assert files == [], "sentinel password found in files: %s" % files


def test_login_is_a_pg_monitor_member_and_nothing_more(host):
    row = psql(host, "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolcanlogin, "
                     "pg_has_role('postgres_exporter', 'pg_monitor', 'member') "
                     "FROM pg_roles WHERE rolname = 'postgres_exporter'")
    assert row == "f|f|f|f|t|t", row
    groups = psql(host, "SELECT string_agg(b.rolname, ',') FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid "
                        "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = 'postgres_exporter'")
    assert groups == "pg_monitor"
    assert "pg_stat_statements" in psql(host, "SHOW shared_preload_libraries")


def test_exporter_is_connected(host):
    found = samples(host)
    assert total(found, "pg_up") == 1.0


# What a DBA looks at, by exporter generation: the 0.11 names come from its
# built-in maps and the shipped queries, the 0.17 ones from its collectors.
DBA_METRICS = [
    "pg_stat_activity_count", "pg_settings_max_connections", "pg_stat_activity_max_tx_duration",
    "pg_stat_database_xact_commit", "pg_stat_database_xact_rollback", "pg_stat_database_deadlocks",
    "pg_stat_database_blks_hit", "pg_stat_database_blks_read", "pg_locks_count", "pg_database_size_bytes",
    "pg_stat_user_tables_seq_scan", "pg_stat_user_tables_idx_scan", "pg_stat_user_tables_n_live_tup",
    "pg_stat_user_tables_size_bytes",
    "pg_stat_statements_calls_total", "pg_stat_statements_seconds_total", "pg_stat_statements_rows_total",
]
DBA_METRICS_OLD = ["pg_replication_lag", "pg_stat_user_tables_table_size_bytes", "pg_stat_user_tables_index_size_bytes",
                   "pg_stat_statements_mean_seconds"]
DBA_METRICS_NEW = ["pg_replication_lag_seconds"]


def test_dba_metrics_are_exported(host):
    names = {n for n, _, _ in samples(host)}
    expected = DBA_METRICS + (DBA_METRICS_NEW if exporter_is_new(host) else DBA_METRICS_OLD)
    missing = [m for m in expected if m not in names]
    assert not missing, "%s: missing %s; pg_ names: %s" % (name(host), missing, sorted(n for n in names if n.startswith("pg_")))
    assert "pg_exporter_last_scrape_error 0" in curl(host)[1].replace(".0\n", "\n") or exporter_is_new(host)


def _rule_metric_names():
    with open("%s/files/rules/postgres.yml" % ROOT) as handle:
        rules = yaml.safe_load(handle)
    names = set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            names.update(re.findall(r"(?<![:\w])(pg_[a-z0-9_]+)(?![:\w(])", rule["expr"]))
    return names


def test_every_metric_the_postgres_rules_use_is_exported(host):
    names = {n for n, _, _ in samples(host)}
    used = _rule_metric_names()
    # The rules read replication lag under either exporter generation's name.
    lag = {"pg_replication_lag", "pg_replication_lag_seconds"}
    assert lag <= used and len(used) >= 6, used
    assert not [m for m in used - lag if m not in names], "%s lacks %s" % (name(host), sorted(used - lag - names))
    assert lag & names, "%s exports neither replication lag name" % name(host)
    # The labels the rules match or aggregate on.
    found = samples(host)
    for metric in ("pg_stat_activity_count", "pg_stat_activity_max_tx_duration", "pg_stat_database_deadlocks"):
        assert any("datname" in lab for n, lab, _ in found if n == metric), metric
    if exporter_is_new(host):
        assert any(lab.get("backend_type") == "client backend" for n, lab, _ in found if n == "pg_stat_activity_count")


def _calls(found, queryid):
    return total(found, "pg_stat_statements_calls_total", queryid=queryid) or 0.0


def test_statement_calls_grow_by_exactly_the_runs_of_the_load_generator(host):
    psql(host, STATEMENT, db="pgx_app")  # the first call creates the entry and its queryid
    queryid = psql(host, "SELECT queryid FROM pg_stat_statements WHERE query LIKE '%vigil_probe%' "
                         "AND query NOT LIKE '%pg_stat_statements%'", db=exporter_db(host))
    assert queryid and "\n" not in queryid, queryid
    before = wait_for(host, lambda f: _calls(f, queryid) > 0)
    start = _calls(before, queryid)
    assert start >= 1, "statement %s not exported" % queryid
    host.check_output("printf '%%s\\n' %s > /tmp/vigil-load.sql" % " ".join([shlex.quote(STATEMENT)] * RUNS))
    host.check_output("runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -d pgx_app -f /tmp/vigil-load.sql")
    after = wait_for(host, lambda f: _calls(f, queryid) >= start + RUNS)
    assert _calls(after, queryid) == start + RUNS
    labels = [lab for n, lab, _ in after if n == "pg_stat_statements_calls_total" and lab.get("queryid") == queryid]
    assert labels and labels[0]["datname"] == "pgx_app" and labels[0]["user"] == "postgres", labels


def _active(found):
    return total(found, "pg_stat_activity_count", datname="pgx_load", state="active") or 0.0


def test_connection_count_follows_opened_connections(host):
    assert _active(samples(host)) == 0
    for _ in range(CONNECTIONS):
        host.run("setsid -f runuser -u postgres -- psql -X -q -d pgx_load -c 'SELECT pg_sleep(120)' "
                 "> /dev/null 2>&1 < /dev/null")
    try:
        found = wait_for(host, lambda f: _active(f) >= CONNECTIONS)
        assert _active(found) == CONNECTIONS
    finally:
        psql(host, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = 'pgx_load'")
    assert _active(wait_for(host, lambda f: _active(f) == 0)) == 0


def test_table_metrics_per_database(host):
    """pgx-db12 connects to postgres and discovers pgx_app; pgx-db13 connects to pgx_app directly."""
    psql(host, "SELECT count(*) FROM pgx_items WHERE id < 10", db="pgx_app")
    found = samples(host)
    assert total(found, "pg_stat_user_tables_n_live_tup", datname="pgx_app", relname="pgx_items") == 1000
    assert total(found, "pg_stat_user_tables_size_bytes", datname="pgx_app", relname="pgx_items") == int(
        psql(host, "SELECT pg_total_relation_size('pgx_items')", db="pgx_app"))
    assert total(found, "pg_stat_user_tables_idx_scan", datname="pgx_app", relname="pgx_items") >= 1
    # Database sizes are server-wide: every database is listed.
    for db in ("postgres", "pgx_app", "pgx_load"):
        assert total(found, "pg_database_size_bytes", datname=db) > 0, db


def test_exporter_was_not_restarted_by_the_checks(host):
    time.sleep(1)
    assert host.service(UNIT).systemd_properties["NRestarts"] == "0"
