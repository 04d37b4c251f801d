"""prometheus_state: absent removes Prometheus but keeps its data (app: Debian package)."""

from vigil_testinfra import molecule_hosts, run_playbook

# Only the prometheus role: the exporter plays stay as they are.
ROLE_ONLY = ("--tags", "prometheus")


def test_absent_removes_everything_but_the_data():
    app = molecule_hosts(("app",))["app"]
    result = run_playbook(limit="app", extra_vars={"prometheus_state": "absent"}, extra_args=ROLE_ONLY)
    assert result.returncode == 0, result.stdout[-3000:]
    assert not app.service("prometheus.service").is_running
    for path in ("/etc/systemd/system/prometheus.service", "/etc/prometheus/prometheus.yml", "/etc/prometheus/secrets"):
        assert not app.file(path).exists, path
    assert not app.package("prometheus").is_installed
    assert app.file("/var/lib/prometheus/data/wal").is_directory, "the TSDB must be kept"
    assert app.run("getent passwd prometheus").rc != 0
    again = run_playbook(limit="app", extra_vars={"prometheus_state": "absent"}, extra_args=ROLE_ONLY)
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout[-3000:]
