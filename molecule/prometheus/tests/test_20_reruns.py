"""Re-runs against the converged hosts, in the order written: leaks, check mode,
inventory changes without restarts, refused and failed configurations, a
reload, a crash and an upgrade.

These tests run playbooks, so they take the hosts themselves instead of the
per-host `host` fixture.
"""

import os
import time

import yaml
from prom_api import Prometheus, address
from vigil_testinfra import assert_service_up, journal, main_pid, molecule_hosts, run_playbook

NAMES = ("prom", "app", "db")
# Configuration-only runs (what an SRE runs to change targets, rules or
# settings): the tags skip the node_exporter plays and the install tasks.
CONFIG_ONLY = ("--tags", "prometheus_configure,prometheus_run")
UNIT = "prometheus.service"
SENTINELS = ("S3ntinel-8c21e94b-prometheus", "S3ntinel-8c21e94b-admin", "S3ntinel-8c21e94b-node-app",
             "S3ntinel-8c21e94b-node-db", "S3ntinel-8c21e94b-node-db-ops", "S3ntinel-8c21e94b-remote-write",
             "S3ntinel-8c21e94b-pg-login", "S3ntinel-8c21e94b-pgx")


def hosts():
    return molecule_hosts(NAMES)


def prom_api():
    return Prometheus(hosts()["prom"], "prom")


def config_snapshot(host):
    return host.check_output("find /etc/prometheus -type f -exec sha256sum {} + | sort")


def restarts(host):
    return int(host.check_output("systemctl show -p NRestarts --value %s" % UNIT))


def test_check_mode_on_converged_hosts_reports_no_change_and_no_secret():
    """Check mode with -vvv --diff on converged hosts: no change predicted, no secret shown.

    One run instead of two: Molecule's idempotence step has already re-run
    the converge for real, so this run proves check mode and the output.
    """
    result = run_playbook(verbosity=3, diff=True, check=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "changed=1" not in result.stdout and result.stdout.count("changed=0") == 3, result.stdout[-3000:]
    for sentinel in SENTINELS:
        assert sentinel not in result.stdout, "a password was printed"


def test_adding_and_removing_a_host_changes_targets_without_restart_or_reload(tmp_path):
    prom_host = hosts()["prom"]
    prom = prom_api()
    pid = main_pid(prom_host, UNIT)
    loaded = prom.metric("prometheus_config_last_reload_success_timestamp_seconds")
    # A new inventory host; its node_exporter is the one on db (same credentials).
    extra = tmp_path / "extra.yml"
    extra.write_text(yaml.safe_dump({"all": {"hosts": {"new-node": {
        "vigil_address": address(hosts()["db"]),
        "node_exporter_basic_auth_users": {"prometheus": "S3ntinel-8c21e94b-node-db"}}}}}))
    result = run_playbook(limit="prom", extra_args=CONFIG_ONLY, inventories=[str(extra)])
    assert result.returncode == 0, result.stdout[-3000:]
    prom.wait_for('up{job="node",instance="new-node"} == 1')
    assert main_pid(prom_host, UNIT) == pid
    assert prom.metric("prometheus_config_last_reload_success_timestamp_seconds") == loaded

    result = run_playbook(limit="prom", extra_args=CONFIG_ONLY)
    assert result.returncode == 0, result.stdout[-3000:]
    prom.wait_for('up{job="node",instance="new-node"}', lambda r: r == [])
    assert main_pid(prom_host, UNIT) == pid
    assert prom.metric("prometheus_config_last_reload_success_timestamp_seconds") == loaded


def test_broken_rule_file_fails_the_run_and_changes_nothing(tmp_path):
    prom_host = hosts()["prom"]
    prom = prom_api()
    rules = tmp_path / "team-rules.yml"
    rules.write_text("groups:\n  - name: team\n    rules:\n      - alert: Broken\n        expr: rate(http_requests_total[5m] > 1\n")
    before, pid = config_snapshot(prom_host), main_pid(prom_host, UNIT)
    result = run_playbook(limit="prom", extra_args=CONFIG_ONLY, extra_vars={"prometheus_rule_files": [str(rules)]})
    assert result.returncode != 0
    assert "parse error" in result.stdout or "could not parse expression" in result.stdout, result.stdout[-3000:]
    assert config_snapshot(prom_host) == before
    assert main_pid(prom_host, UNIT) == pid
    assert prom.metric("prometheus_config_last_reload_successful") == 1
    assert "team-rules.yml" not in prom_host.check_output("ls /etc/prometheus/rules")


def test_configuration_promtool_refuses_is_not_installed_and_leaves_nothing_behind():
    prom_host = hosts()["prom"]
    before, pid = config_snapshot(prom_host), main_pid(prom_host, UNIT)
    result = run_playbook(limit="prom", extra_args=CONFIG_ONLY, extra_vars={"prometheus_global_extra": {"scrape_timeout": "1m"}})
    assert result.returncode != 0
    assert "scrape timeout greater than scrape interval" in result.stdout, result.stdout[-3000:]
    assert config_snapshot(prom_host) == before  # no backup or temporary file left either
    assert main_pid(prom_host, UNIT) == pid


def test_missing_file_referenced_by_the_configuration_fails_before_any_change():
    prom_host = hosts()["prom"]
    before, pid = config_snapshot(prom_host), main_pid(prom_host, UNIT)
    result = run_playbook(limit="prom", extra_args=CONFIG_ONLY, extra_vars={"prometheus_remote_write": [
        {"url": "https://lts.example/api/v1/write", "tls_config": {"ca_file": "/etc/ssl/certs/no-such-ca.pem"}}]})
    assert result.returncode != 0
    assert "refers to files that do not exist on prom" in result.stdout, result.stdout[-3000:]
    assert "prometheus_remote_write[0].tls_config.ca_file = /etc/ssl/certs/no-such-ca.pem" in result.stdout
    assert config_snapshot(prom_host) == before
    assert main_pid(prom_host, UNIT) == pid


def test_reload_that_does_not_take_is_detected_and_rolled_back():
    """promtool accepts a query log outside the data directory, but the hardened unit cannot write it,
    so Prometheus refuses the reload and keeps running on its old configuration."""
    prom_host = hosts()["prom"]
    prom = prom_api()
    before, pid = config_snapshot(prom_host), main_pid(prom_host, UNIT)
    result = run_playbook(limit="prom", extra_args=CONFIG_ONLY,
                          extra_vars={"prometheus_global_extra": {"query_log_file": "/var/log/prometheus-query.log"}})
    assert result.returncode != 0
    assert "Prometheus did not take the new configuration" in result.stdout, result.stdout[-3000:]
    assert "the files this run changed were put back and reloaded" in result.stdout
    assert config_snapshot(prom_host) == before
    assert main_pid(prom_host, UNIT) == pid
    deadline = time.time() + 30
    while prom.metric("prometheus_config_last_reload_successful") != 1 and time.time() < deadline:
        time.sleep(1)
    assert prom.metric("prometheus_config_last_reload_successful") == 1
    assert not any(name.endswith("~") for name in prom_host.check_output("ls -a /etc/prometheus /etc/prometheus/rules").split())


def test_configuration_change_reloads_without_restart():
    prom_host = hosts()["prom"]
    prom = prom_api()
    pid, count = main_pid(prom_host, UNIT), restarts(prom_host)
    loaded = prom.metric("prometheus_config_last_reload_success_timestamp_seconds")
    result = run_playbook(limit="prom", extra_args=CONFIG_ONLY,
                          extra_vars={"prometheus_external_labels": {"cluster": "molecule", "region": "test"}})
    assert result.returncode == 0, result.stdout[-3000:]
    assert main_pid(prom_host, UNIT) == pid and restarts(prom_host) == count
    assert prom.metric("prometheus_config_last_reload_success_timestamp_seconds") > loaded
    assert prom.metric("prometheus_config_last_reload_successful") == 1
    config = yaml.safe_load(prom_host.file("/etc/prometheus/prometheus.yml").content_string)
    assert config["global"]["external_labels"] == {"cluster": "molecule", "region": "test"}
    assert run_playbook(limit="prom", extra_args=CONFIG_ONLY).returncode == 0


def test_samples_survive_kill_9():
    prom_host = hosts()["prom"]
    prom = prom_api()
    expr = 'count_over_time(up{job="node",instance="db"}[1h])'
    before = float(prom.wait_for(expr, lambda r: r and float(r[0]["value"][1]) >= 5)[0]["value"][1])
    pid = main_pid(prom_host, UNIT)
    prom_host.check_output("kill -9 %d" % pid)
    deadline = time.time() + 60
    while time.time() < deadline:
        new_pid = main_pid(prom_host, UNIT)
        if new_pid not in (0, pid):
            break
        time.sleep(1)
    assert new_pid not in (0, pid), "Prometheus did not come back:\n" + journal(prom_host, UNIT)
    after = prom.wait_for(expr, lambda r: bool(r), timeout=90)
    assert float(after[0]["value"][1]) >= before, journal(prom_host, UNIT)
    assert_service_up(prom_host, UNIT)


def test_wrong_checksum_fails_and_changes_nothing():
    prom_host = hosts()["prom"]
    binaries = prom_host.check_output("sha256sum /usr/local/bin/prometheus /usr/local/bin/promtool")
    before, pid = config_snapshot(prom_host), main_pid(prom_host, UNIT)
    result = run_playbook(limit="prom", extra_vars={"prometheus_checksums": {"amd64": "0" * 64}})
    assert result.returncode != 0
    assert "did not match" in result.stdout, result.stdout[-3000:]
    assert prom_host.check_output("sha256sum /usr/local/bin/prometheus /usr/local/bin/promtool") == binaries
    assert config_snapshot(prom_host) == before and main_pid(prom_host, UNIT) == pid


def test_upgrade_keeps_the_data():
    work = os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]
    target = open(os.path.join(work, "mirror", "prometheus-next-src", "VERSION")).read().strip()
    prom_host = hosts()["prom"]
    prom = prom_api()
    old = prom.query("prometheus_build_info")[0]["metric"]["version"]
    assert old != target
    moment = time.time() - 10
    before = prom.query('up{job="node",instance="app"}', time_=moment)
    assert before, "no sample to compare"
    result = run_playbook(limit="prom", extra_vars={"prometheus_version": target})
    assert result.returncode == 0, result.stdout[-3000:]
    prom.wait_for('prometheus_build_info{version=~"%s.*"}' % target)
    assert prom.query('up{job="node",instance="app"}', time_=moment) == before
    assert prom_host.file("/usr/local/bin/prometheus").exists
    assert "%s" % target in prom_host.check_output("/usr/local/bin/promtool --version")
