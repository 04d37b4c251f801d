"""Re-runs of the role against both hosts: leaks, restarts and a bad checksum.

These tests run playbooks, so they take the hosts themselves instead of the
per-host `host` fixture, and run in the order written.
"""

import os
import time

from vigil_testinfra import assert_service_up, journal, main_pid, molecule_hosts, run_playbook

UNIT = "node_exporter.service"
SENTINEL = "S3ntinel-5d1f0c7a-node-exporter"


def test_check_mode_on_converged_hosts_reports_no_change_and_no_secret():
    """Check mode with -vvv --diff on converged hosts: no change predicted, no secret shown.

    One run instead of two: Molecule's idempotence step has already re-run
    the converge for real, so this run proves check mode and the output.
    """
    result = run_playbook(verbosity=3, diff=True, check=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert result.stdout.count("changed=0") == 2, result.stdout[-3000:]
    assert "prometheus" in result.stdout  # the user name may show; the password must not
    assert SENTINEL not in result.stdout


def test_air_gapped_mirror_directory_on_the_controller():
    """node_exporter_archive_base_url as a file:// directory, fresh cache: same binary, no change."""
    work = os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]
    host = molecule_hosts()["debian12"]
    binary_before = host.file("/usr/local/bin/node_exporter").sha256sum
    result = run_playbook(
        extra_vars={"node_exporter_archive_base_url":
                        "file://%s/mirror/github.com/prometheus/node_exporter/releases/download" % work,
                    "node_exporter_cache_dir": "%s/cache-airgapped" % work},
        limit="debian12",
    )
    assert result.returncode == 0, result.stdout[-3000:]
    # The fresh cache is filled on the controller (those tasks report changes
    # as "debian12 -> localhost"); the host itself must not change.
    assert "changed: [debian12]" not in result.stdout, result.stdout[-3000:]
    assert "changed: [debian12 -> localhost]" in result.stdout
    archives = [f for _, _, files in os.walk(os.path.join(work, "cache-airgapped")) for f in files if f.endswith(".tar.gz")]
    assert len(archives) == 1, "expected the archive copied from the file:// mirror, found %s" % archives
    assert host.file("/usr/local/bin/node_exporter").sha256sum == binary_before


def test_drift_is_corrected():
    """Tamper with what the role manages; a re-run puts every piece back."""
    hosts = molecule_hosts()
    before = {}
    for name, host in hosts.items():
        before[name] = {f: host.file(f).sha256sum for f in ("/etc/node_exporter/web.yml", "/etc/systemd/system/" + UNIT)}
        for cmd in ("chmod 0644 /etc/node_exporter/web.yml",
                    "usermod -s /bin/bash node_exporter",
                    "echo '# edited by hand' >> /etc/systemd/system/%s" % UNIT,
                    "chmod 0700 /var/lib/node_exporter/textfile_collector",
                    "chgrp root /etc/node_exporter"):
            host.check_output(cmd)
    hosts["debian13"].check_output("rm /etc/systemd/system/prometheus-node-exporter.service")
    hosts["debian12"].check_output("echo tampered > /etc/node_exporter/tls/cert.pem")

    result = run_playbook()
    assert result.returncode == 0, result.stdout[-3000:]
    for name, host in hosts.items():
        for path, digest in before[name].items():
            assert host.file(path).sha256sum == digest, "%s: %s not restored" % (name, path)
        assert host.file("/etc/node_exporter/web.yml").mode == 0o640, name
        assert host.user("node_exporter").shell == "/usr/sbin/nologin", name
        assert host.file("/var/lib/node_exporter/textfile_collector").mode == 0o755, name
        assert host.file("/etc/node_exporter").group == "node_exporter", name
        assert_service_up(host, UNIT)
    assert hosts["debian13"].file("/etc/systemd/system/prometheus-node-exporter.service").linked_to == "/dev/null"
    assert "BEGIN CERTIFICATE" in hosts["debian12"].file("/etc/node_exporter/tls/cert.pem").content_string


def test_changing_one_flag_restarts_exactly_once():
    hosts = molecule_hosts()
    before = {n: main_pid(h, UNIT) for n, h in hosts.items()}
    since = {n: h.check_output("date +%s") for n, h in hosts.items()}
    time.sleep(1)
    result = run_playbook(extra_vars={"node_exporter_flags_extra": {"web.max-requests": 41}},
                          extra_args=("--tags", "node_exporter_configure,node_exporter_run"))
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

