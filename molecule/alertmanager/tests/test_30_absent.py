"""Removal of the single instance: everything but its data goes."""

from am import hosts
from vigil_testinfra import run_playbook

# Only the alertmanager role: the node_exporter and Prometheus plays stay as they are.
ROLE_ONLY = ("--tags", "alertmanager")


def test_state_absent_removes_alertmanager_and_keeps_its_data():
    host = hosts()["alerts"]
    result = run_playbook(limit="alerts", extra_vars={"alertmanager_state": "absent"}, extra_args=ROLE_ONLY)
    assert result.returncode == 0, result.stdout[-5000:]
    for path in ("/etc/systemd/system/alertmanager.service", "/etc/alertmanager", "/usr/local/bin/alertmanager"):
        assert not host.file(path).exists, path
    assert not host.package("prometheus-alertmanager").is_installed
    assert not host.user("alertmanager").exists and not host.group("alertmanager").exists
    assert host.run("ss -Htln 'sport = :9093'").stdout.strip() == ""
    # Silences and the notification log stay for an operator to take back.
    assert host.file("/var/lib/alertmanager/silences").exists
    result = run_playbook(limit="alerts", extra_vars={"alertmanager_state": "absent"}, extra_args=ROLE_ONLY)
    assert result.returncode == 0 and "changed=0" in result.stdout.split("PLAY RECAP")[-1], result.stdout[-3000:]
