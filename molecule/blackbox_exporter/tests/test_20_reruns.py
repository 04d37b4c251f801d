"""Re-runs of the role: leaks, idempotence, a module the checker refuses and a verified reload.

These tests run playbooks, so they take the hosts themselves instead of the
per-host `host` fixture, and run in the order written.
"""

import time

from bbx import CONFIG, PROBER, SENTINEL, UNIT, WEB, get, main_pid, metric, probe
from vigil_testinfra import assert_service_up, molecule_hosts, run_playbook

TESTCA = {"prober": "http", "timeout": "5s",
          "http": {"preferred_ip_protocol": "ip4", "tls_config": {"ca_file": "/usr/local/share/vigil-test/ca.crt"}}}


def prober():
    return molecule_hosts((PROBER,))[PROBER]


def restarts(host):
    return int(host.check_output("systemctl show -p NRestarts --value %s" % UNIT))


def test_check_mode_on_converged_hosts_reports_no_change_and_no_secret():
    """Check mode with -vvv --diff on converged hosts: no change predicted, no secret shown.

    One run instead of two: Molecule's idempotence step has already re-run
    the converge for real, so this run proves check mode and the output.
    """
    result = run_playbook(verbosity=3, diff=True, check=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert result.stdout.count("changed=0") == 2, result.stdout[-3000:]
    assert SENTINEL not in result.stdout


def test_broken_module_is_refused_by_the_checker_and_the_exporter_keeps_its_modules():
    host = prober()
    before, pid = host.file(CONFIG).sha256sum, main_pid(host)
    loaded = metric(host, "blackbox_exporter_config_last_reload_success_timestamp_seconds")
    broken = {"https_testca": TESTCA,
              "http_body_check": {"prober": "http", "http": {"fail_if_body_matches_regexp": ["(unclosed"]}}}
    result = run_playbook(limit=PROBER, extra_vars={"blackbox_exporter_modules_extra": broken})
    assert result.returncode != 0
    assert "Could not compile regular expression" in result.stdout, result.stdout[-3000:]
    assert "refused the new %s, which was not installed" % CONFIG in result.stdout, result.stdout[-3000:]
    assert host.file(CONFIG).sha256sum == before
    assert main_pid(host) == pid
    assert metric(host, "blackbox_exporter_config_last_reload_success_timestamp_seconds") == loaded
    assert metric(host, "blackbox_exporter_config_last_reload_successful") == 1
    # No temporary or backup copy is left beside it.
    assert not [f for f in host.check_output("ls -a /etc/blackbox_exporter").split()
                if f.startswith(("blackbox.yml.", ".blackbox.yml."))]
    assert probe(host, "http://bbx-web:8080/")[0]["probe_success"] == 1


def test_module_change_reloads_without_restart_and_the_reload_is_verified():
    host = prober()
    pid, count = main_pid(host), restarts(host)
    loaded = metric(host, "blackbox_exporter_config_last_reload_success_timestamp_seconds")
    since = host.check_output("date +%s")
    time.sleep(1)
    extra = {"https_testca": TESTCA, "tcp_connect_fast": {"prober": "tcp", "timeout": "2s"}}
    result = run_playbook(limit=PROBER, extra_vars={"blackbox_exporter_modules_extra": extra})
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Reload the daemon (SIGHUP) and check that the new configuration took, blackbox_exporter" in result.stdout
    assert main_pid(host) == pid and restarts(host) == count
    starts = host.check_output("journalctl -u %s --no-pager --since @%s -o cat | grep -c '^Started' || true" % (UNIT, since))
    assert starts == "0", "the exporter was restarted"
    assert metric(host, "blackbox_exporter_config_last_reload_success_timestamp_seconds") > loaded
    assert metric(host, "blackbox_exporter_config_last_reload_successful") == 1
    assert probe(host, "bbx-web:8080", "tcp_connect_fast")[0]["probe_success"] == 1
    # No temporary or backup copy is left beside it.
    assert not [f for f in host.check_output("ls -a /etc/blackbox_exporter").split()
                if f.startswith(("blackbox.yml.", ".blackbox.yml."))]
    assert_service_up(host, UNIT)


def test_web_host_untouched_by_the_prober_runs():
    web = molecule_hosts((WEB,))[WEB]
    assert_service_up(web, UNIT)
    assert get(web, "/metrics")[0] == 200
