"""Runs last: blackbox_exporter_state=absent removes what the role installed."""

from bbx import PROBER, WEB
from vigil_testinfra import molecule_hosts, run_playbook


def test_state_absent_removes_everything():
    result = run_playbook(extra_vars={"blackbox_exporter_state": "absent"})
    assert result.returncode == 0, result.stdout[-3000:]
    for name, host in molecule_hosts((PROBER, WEB)).items():
        assert not host.file("/etc/systemd/system/blackbox_exporter.service").exists, name
        assert not host.file("/usr/local/bin/blackbox_exporter").exists, name
        assert not host.package("prometheus-blackbox-exporter").is_installed, name
        assert not host.file("/etc/systemd/system/prometheus-blackbox-exporter.service").exists, name
        assert not host.user("blackbox_exporter").exists, name
        assert not host.group("blackbox_exporter").exists, name
        assert not host.file("/etc/blackbox_exporter").exists, name
        assert host.run("ss -Htln 'sport = :9115'").stdout.strip() == "", "%s: port 9115 still open" % name
