"""Runs last: postgres_exporter_state=absent removes what the role installed."""

from pgx import HOSTS, psql
from vigil_testinfra import assert_exporter_removed, molecule_hosts, run_playbook


def test_state_absent_removes_everything_and_the_login():
    result = run_playbook(extra_vars={"postgres_exporter_state": "absent", "postgres_exporter_remove_login": True})
    assert result.returncode == 0, result.stdout[-3000:]
    for name, host in molecule_hosts(HOSTS).items():
        assert_exporter_removed(host, "postgres_exporter", "prometheus-postgres-exporter", 9187)
        assert psql(host, "SELECT count(*) FROM pg_roles WHERE rolname = 'postgres_exporter'") == "0", name
        assert host.service("postgresql").is_running, "%s: PostgreSQL was stopped" % name
