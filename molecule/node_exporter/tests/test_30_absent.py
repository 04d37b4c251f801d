"""Runs last: node_exporter_state=absent removes what the role installed."""

from vigil_testinfra import assert_exporter_removed, molecule_hosts, run_playbook


def test_state_absent_removes_everything_but_data():
    result = run_playbook(extra_vars={"node_exporter_state": "absent"})
    assert result.returncode == 0, result.stdout[-3000:]
    for name, host in molecule_hosts().items():
        assert_exporter_removed(host, "node_exporter", "prometheus-node-exporter", 9100)
        assert host.file("/var/lib/node_exporter/textfile_collector").is_directory, "%s: data removed unasked" % name
