"""Runs last: node_exporter_state=absent removes what the role installed."""

from vigil_testinfra import molecule_hosts, run_playbook


def test_state_absent_removes_everything_but_data():
    result = run_playbook(extra_vars={"node_exporter_state": "absent"})
    assert result.returncode == 0, result.stdout[-3000:]
    for name, host in molecule_hosts().items():
        assert not host.file("/etc/systemd/system/node_exporter.service").exists, name
        assert not host.file("/usr/local/bin/node_exporter").exists, name
        assert not host.package("prometheus-node-exporter").is_installed, name
        assert not host.file("/etc/systemd/system/prometheus-node-exporter.service").exists, name
        assert not host.user("node_exporter").exists, name
        assert not host.group("node_exporter").exists, name
        assert not host.file("/etc/node_exporter").exists, name
        assert host.file("/var/lib/node_exporter/textfile_collector").is_directory, "%s: data removed unasked" % name
        assert host.run("ss -Htln 'sport = :9100'").stdout.strip() == "", "%s: port 9100 still open" % name
