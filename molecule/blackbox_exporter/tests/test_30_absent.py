"""Runs last: blackbox_exporter_state=absent removes what the role installed."""

from bbx import PROBER, WEB
from vigil_testinfra import assert_exporter_removed, molecule_hosts, run_playbook


def test_state_absent_removes_everything():
    result = run_playbook(extra_vars={"blackbox_exporter_state": "absent"})
    assert result.returncode == 0, result.stdout[-3000:]
    for host in molecule_hosts((PROBER, WEB)).values():
        assert_exporter_removed(host, "blackbox_exporter", "prometheus-blackbox-exporter", 9115)
