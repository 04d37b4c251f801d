"""Re-runs against the converged cluster: secrets, refused configurations, reloads, silences."""

import os
import re
import time

from am import SENTINELS, am_get, am_json, hosts, metric, wait_for
from vigil_testinfra import main_pid, run_playbook, scenario_dir

# Configuration-only runs: the tags skip the node_exporter play and the install tasks.
CONFIG_ONLY = ("--tags", "alertmanager_configure,alertmanager_run")
AM_SECRETS = SENTINELS[1:]  # the receivers' secrets (the web password reaches the host only as a bcrypt hash)


def snapshot(host):
    return host.check_output("find /etc/alertmanager -type f -exec sha256sum {} + | sort")


def test_secrets_appear_nowhere_in_the_output():
    """A verbose, diffing run that changes the configuration shows none of the secrets.

    Configuration-only runs: the configuration tasks are the ones that handle and diff the receivers'
    secrets and the web password.
    """
    result = run_playbook(limit="am1", verbosity=2, diff=True, extra_vars={"alertmanager_group_wait": "31s"},
                          extra_args=CONFIG_ONLY)
    assert result.returncode == 0, result.stdout[-5000:]
    assert "changed=" in result.stdout
    for secret in SENTINELS:
        assert secret not in result.stdout, "%s leaked into the output" % secret
    result = run_playbook(limit="am1", verbosity=2, diff=True, extra_args=CONFIG_ONLY)
    assert result.returncode == 0, result.stdout[-5000:]
    for secret in SENTINELS:
        assert secret not in result.stdout


def test_secrets_live_only_in_the_configuration_file():
    host = hosts()["am1"]
    for secret in AM_SECRETS:
        found = host.run("grep -rlF %s /etc /var /usr/local /root /tmp /run /home 2>/dev/null" % secret).stdout.split()
        assert found == ["/etc/alertmanager/alertmanager.yml"], (secret, found)
        assert host.run("journalctl --no-pager | grep -cF %s" % secret).stdout.strip() == "0", secret
        assert secret not in host.check_output("cat /proc/*/cmdline 2>/dev/null | tr '\\0' ' '")
        assert secret not in host.check_output("systemctl cat alertmanager.service")
    f = host.file("/etc/alertmanager/alertmanager.yml")
    assert (f.user, f.group, f.mode) == ("root", "alertmanager", 0o640)
    # Readable by the service user, and by nobody else.
    assert host.run("runuser -u alertmanager -- cat /etc/alertmanager/alertmanager.yml >/dev/null").rc == 0
    assert host.run("runuser -u nobody -- cat /etc/alertmanager/alertmanager.yml").rc != 0


def test_a_configuration_change_is_reloaded_not_restarted():
    host = hosts()["am1"]
    pid = main_pid(host, "alertmanager.service")
    before = metric(host, "alertmanager_config_last_reload_success_timestamp_seconds")
    result = run_playbook(limit="am1", extra_args=CONFIG_ONLY, extra_vars={"alertmanager_repeat_interval": "5h"})
    assert result.returncode == 0, result.stdout[-5000:]
    assert "repeat_interval: 5h" in host.file("/etc/alertmanager/alertmanager.yml").content_string
    assert main_pid(host, "alertmanager.service") == pid
    assert metric(host, "alertmanager_config_last_reload_success_timestamp_seconds") > before
    assert am_json(host, "/api/v2/status")["config"]["original"].count("repeat_interval: 5h") == 1
    result = run_playbook(limit="am1", extra_args=CONFIG_ONLY)
    assert result.returncode == 0, result.stdout[-5000:]


def _refused(extra_vars, expected):
    host = hosts()["am1"]
    files, pid = snapshot(host), main_pid(host, "alertmanager.service")
    result = run_playbook(limit="am1", extra_args=CONFIG_ONLY, extra_vars=extra_vars)
    assert result.returncode != 0, "the run should fail:\n" + result.stdout[-3000:]
    assert re.search(expected, result.stdout), result.stdout[-5000:]
    assert "keeps running on its previous configuration" in result.stdout, result.stdout[-3000:]
    for secret in SENTINELS:
        assert secret not in result.stdout
    assert snapshot(host) == files, "files under /etc/alertmanager changed"
    assert main_pid(host, "alertmanager.service") == pid
    assert metric(host, "alertmanager_config_last_reload_successful") == 1
    assert host.run("ls /etc/alertmanager/*~ /etc/alertmanager/*.bak 2>/dev/null").stdout == ""


def test_a_configuration_amtool_refuses_is_not_installed():
    # A native route naming a receiver that does not exist: only amtool knows.
    _refused({"alertmanager_routes_extra": [{"matchers": ['team="ghost"'], "receiver": "ghost"}]},
             r'undefined receiver "ghost"')


def test_a_broken_template_is_not_installed():
    _refused({"alertmanager_template_files": [os.path.join(scenario_dir(), "files", "broken.tmpl")]},
             r"(?i)template")
    assert not hosts()["am1"].file("/etc/alertmanager/templates/broken.tmpl").exists


def test_bad_input_is_refused_before_the_host_is_touched():
    host = hosts()["am1"]
    files = snapshot(host)
    result = run_playbook(limit="am1", extra_args=CONFIG_ONLY,
                          extra_vars={"alertmanager_severity_routes": {"critical": {"receivers": ["pagr"]}}})
    assert result.returncode != 0
    assert "alertmanager_severity_routes.critical.receivers[0] names receiver 'pagr', which is not defined" in result.stdout, \
        result.stdout[-3000:]
    assert snapshot(host) == files


def test_silences_are_shared_by_the_peers():
    silence = {"matchers": [{"name": "alertname", "value": "ClusterSilenceDrill", "isRegex": False, "isEqual": True}],
               "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600)),
               "createdBy": "molecule", "comment": "gossip test"}
    status, body = am_get(hosts()["am1"], "/api/v2/silences", method="POST", data=silence)
    assert status == 200, body
    for name in ("am2", "am3"):
        wait_for(lambda n=name: any(s["comment"] == "gossip test" for s in am_json(hosts()[n], "/api/v2/silences")),
                 30, "the silence on %s" % name)


def test_a_silence_survives_a_restart():
    """The single instance (no peer to learn it back from) keeps its silences on disk."""
    host = hosts()["alerts"]
    silence = {"matchers": [{"name": "alertname", "value": "RestartSilenceDrill", "isRegex": False, "isEqual": True}],
               "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600)),
               "createdBy": "molecule", "comment": "persistence test"}
    status, body = am_get(host, "/api/v2/silences", method="POST", data=silence)
    assert status == 200, body
    silence_id = __import__("json").loads(body)["silenceID"]
    pid = main_pid(host, "alertmanager.service")
    host.run("systemctl restart alertmanager.service")
    wait_for(lambda: am_get(host, "/-/ready")[0] == 200, 60, "Alertmanager to be ready again")
    assert main_pid(host, "alertmanager.service") != pid
    silences = am_json(host, "/api/v2/silences")
    assert [s["status"]["state"] for s in silences if s["id"] == silence_id] == ["active"], silences
