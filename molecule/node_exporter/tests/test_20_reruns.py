"""Re-runs of the role against both hosts: leaks, restarts and a bad checksum.

These tests run playbooks, so they take the hosts themselves instead of the
per-host `host` fixture, and run in the order written.
"""

import time

from vigil_testinfra import assert_service_up, journal, main_pid, molecule_hosts, run_playbook

UNIT = "node_exporter.service"
SENTINEL = "S3ntinel-5d1f0c7a-node-exporter"


def test_sentinel_password_absent_from_verbose_ansible_output():
    result = run_playbook(verbosity=3, diff=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert result.stdout.count("changed=0") == 2, "re-run with -vvv --diff was not idempotent:\n" + result.stdout[-2000:]
    assert "prometheus" in result.stdout  # the user name may show; the password must not
    assert SENTINEL not in result.stdout


def test_changing_one_flag_restarts_exactly_once():
    hosts = molecule_hosts()
    before = {n: main_pid(h, UNIT) for n, h in hosts.items()}
    since = {n: h.check_output("date +%s") for n, h in hosts.items()}
    time.sleep(1)
    result = run_playbook(extra_vars={"node_exporter_flags_extra": {"web.max-requests": 41}})
    assert result.returncode == 0, result.stdout[-3000:]
    for name, host in hosts.items():
        pid = main_pid(host, UNIT)
        assert pid != before[name], "%s: node_exporter was not restarted" % name
        starts = host.check_output(
            "journalctl -u %s --no-pager --since @%s -o cat | grep -c '^Started node_exporter' || true" % (UNIT, since[name])
        )
        assert starts == "1", "%s: expected exactly one start, got %s:\n%s" % (name, starts, journal(host, UNIT))
        assert "--web.max-requests=41" in host.check_output("tr '\\0' ' ' < /proc/%d/cmdline" % pid)


def test_wrong_checksum_fails_and_changes_nothing():
    host = molecule_hosts()["debian12"]  # the archive-method host
    binary_before = host.file("/usr/local/bin/node_exporter").sha256sum
    unit_before = host.file("/etc/systemd/system/node_exporter.service").sha256sum
    result = run_playbook(extra_vars={"node_exporter_checksums": {"amd64": "0" * 64}}, limit="debian12")
    assert result.returncode != 0
    assert "did not match" in result.stdout, result.stdout[-3000:]
    assert host.file("/usr/local/bin/node_exporter").sha256sum == binary_before
    assert host.file("/etc/systemd/system/node_exporter.service").sha256sum == unit_before
    assert_service_up(host, UNIT)
