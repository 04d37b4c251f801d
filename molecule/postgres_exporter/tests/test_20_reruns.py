"""Re-runs of the role against both hosts: leaks, check mode, a wrong password, drift.

These tests run playbooks, so they take the hosts themselves instead of the
per-host `host` fixture, and run in the order written.
"""

import base64
import time

from pgx import DB_PASSWORD, HOSTS, SENTINELS, UNIT, samples, total
from vigil_testinfra import assert_service_up, main_pid, molecule_hosts, run_playbook

WRONG_PASSWORD = "S3ntinel-3a9e71c2-wrong"


def _assert_no_secret(output):
    for secret in SENTINELS + (WRONG_PASSWORD,):
        assert secret not in output, "a sentinel password was printed"
        assert base64.b64encode(secret.encode()).decode()[:24] not in output, "a sentinel password was printed (base64)"


def test_check_mode_on_converged_hosts_reports_no_change_and_no_secret():
    """Check mode with -vvv --diff on converged hosts: no change predicted, no secret shown.

    One run instead of two: Molecule's idempotence step has already re-run
    the converge for real, so this run proves check mode and the output.
    """
    result = run_playbook(verbosity=3, diff=True, check=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert result.stdout.count("changed=0") == 2, result.stdout[-3000:]
    assert "Create the exporter's login" in result.stdout
    _assert_no_secret(result.stdout)


def test_wrong_password_gives_pg_up_0_and_a_running_exporter():
    """The login keeps its password (manage_login off); the exporter gets a wrong one."""
    hosts = molecule_hosts(HOSTS)
    result = run_playbook(extra_vars={"postgres_exporter_db_password": WRONG_PASSWORD,
                                      "postgres_exporter_manage_login": False,
                                      "postgres_exporter_stat_statements_setup": False},
                          extra_args=("--tags", "postgres_exporter_configure,postgres_exporter_run"))
    assert result.returncode != 0, result.stdout[-3000:]
    assert "cannot log in to PostgreSQL" in result.stdout and "(pg_up 0)" in result.stdout, result.stdout[-3000:]
    _assert_no_secret(result.stdout)
    pids = {name: main_pid(host, UNIT) for name, host in hosts.items()}
    time.sleep(5)
    for name, host in hosts.items():
        assert_service_up(host, UNIT)
        assert main_pid(host, UNIT) == pids[name], "%s: the exporter restarted after the failed login" % name
        assert host.service(UNIT).systemd_properties["NRestarts"] == "0", name
        found = samples(host)
        assert total(found, "pg_up") == 0.0, name
        for secret in SENTINELS + (WRONG_PASSWORD,):
            assert secret not in host.check_output("journalctl --no-pager -u %s" % UNIT), name


def test_drift_and_the_wrong_password_are_corrected():
    """Tamper with what the role manages; a re-run (with the right password again) puts every piece back."""
    hosts = molecule_hosts(HOSTS)
    for host in hosts.values():
        for cmd in ("chmod 0644 /etc/postgres_exporter/password",
                    "chgrp root /etc/postgres_exporter",
                    "echo '# edited by hand' >> /etc/systemd/system/%s" % UNIT):
            host.check_output(cmd)
    result = run_playbook()
    assert result.returncode == 0, result.stdout[-3000:]
    _assert_no_secret(result.stdout)
    for name, host in hosts.items():
        password = host.file("/etc/postgres_exporter/password")
        assert (password.mode, password.content_string) == (0o640, DB_PASSWORD), name
        assert host.file("/etc/postgres_exporter").group == "postgres_exporter", name
        assert "edited by hand" not in host.file("/etc/systemd/system/" + UNIT).content_string, name
        assert_service_up(host, UNIT)
        assert total(samples(host), "pg_up") == 1.0, name
