"""Runs last: postgres_exporter_state=absent removes what the role installed."""

from pgx import HOSTS, psql
from vigil_testinfra import molecule_hosts, run_playbook


def test_state_absent_removes_everything_and_the_login():
    result = run_playbook(extra_vars={"postgres_exporter_state": "absent", "postgres_exporter_remove_login": True})
    assert result.returncode == 0, result.stdout[-3000:]
    for name, host in molecule_hosts(HOSTS).items():
        assert not host.file("/etc/systemd/system/postgres_exporter.service").exists, name
        assert not host.file("/usr/local/bin/postgres_exporter").exists, name
        assert not host.package("prometheus-postgres-exporter").is_installed, name
        assert not host.file("/etc/systemd/system/prometheus-postgres-exporter.service").exists, name
        assert not host.user("postgres_exporter").exists, name
        assert not host.group("postgres_exporter").exists, name
        assert not host.file("/etc/postgres_exporter").exists, name
        assert host.run("ss -Htln 'sport = :9187'").stdout.strip() == "", "%s: port 9187 still open" % name
        assert psql(host, "SELECT count(*) FROM pg_roles WHERE rolname = 'postgres_exporter'") == "0", name
        assert host.service("postgresql").is_running, "%s: PostgreSQL was stopped" % name
