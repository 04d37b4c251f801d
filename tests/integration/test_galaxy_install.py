"""The built collection installs into an empty path and its role runs from there."""

import glob
import json
import os
import subprocess

import pytest
from conftest import ROOT, run, tool


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("galaxy")
    rc, out = run([tool("ansible-galaxy"), "collection", "build", "--output-path", str(work), ROOT])
    assert rc == 0, out
    tarballs = glob.glob(str(work / "vigil-observability-*.tar.gz"))
    assert len(tarballs) == 1, out
    install_path = work / "collections"
    # Only the empty path is configured, so the checkout's own development
    # link (.cache/collections) cannot satisfy the install.
    (work / "ansible.cfg").write_text("[defaults]\n")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(install_path), ANSIBLE_CONFIG=str(work / "ansible.cfg"))
    rc, out = run([tool("ansible-galaxy"), "collection", "install", "--offline", "-n", "-p", str(install_path), tarballs[0]],
                  env=env, cwd=str(work))
    assert rc == 0 and "vigil.observability:0.1.0 was installed successfully" in out, out
    return work, install_path


def test_tarball_holds_the_collection_and_no_build_leftovers(installed):
    _, install_path = installed
    base = install_path / "ansible_collections" / "vigil" / "observability"
    for path in ("MANIFEST.json", "roles/node_exporter/meta/argument_specs.yml", "plugins/filter/web_config.py",
                 "playbooks/site.yml", "meta/runtime.yml", "roles/prometheus/meta/argument_specs.yml",
                 "plugins/filter/prometheus.py", "files/rules/availability.yml", "docs/runbook.md"):
        assert (base / path).exists(), path
    # The prometheus role finds the shipped rules next to its roles/ directory.
    assert (base / "roles" / "prometheus" / ".." / ".." / "files" / "rules").is_dir()
    for leftover in (".cache", ".venv", ".git"):
        assert not (base / leftover).exists(), leftover


def lab(playbook, prefix):
    """Create or remove one container with the lab's own playbooks."""
    rc, out = run([tool("ansible-playbook"), os.path.join(ROOT, "playbooks", "lab", playbook),
                   "-e", json.dumps({"vigil_lab_prefix": prefix, "vigil_lab_hosts": ["node"]})])
    assert rc == 0, out[-3000:]


def test_role_runs_from_the_installed_collection(installed):
    """Apply vigil.observability.node_exporter from the install to a fresh container."""
    work, install_path = installed
    prefix = "vigil-galaxy"
    name = prefix + "-node"
    lab("destroy.yml", prefix)  # fresh: nothing left from an earlier run
    lab("up.yml", prefix)
    try:
        (work / "inventory.ini").write_text("%s ansible_connection=community.docker.docker\n" % name)
        (work / "play.yml").write_text(
            "---\n- name: Apply node_exporter from the installed collection\n  hosts: all\n  roles:\n"
            "    - role: vigil.observability.node_exporter\n      vars:\n        node_exporter_install_method: package\n"
        )
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(install_path), ANSIBLE_CONFIG=str(work / "ansible.cfg"),
                   ANSIBLE_NOCOLOR="1")
        proc = subprocess.run(["ansible-playbook", "-i", str(work / "inventory.ini"), str(work / "play.yml")],
                              cwd=str(work), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
        assert proc.returncode == 0, proc.stdout[-4000:]
        rc, out = run([tool("docker"), "exec", name, "sh", "-c",
                       "curl -sf http://$(hostname -I | cut -d' ' -f1):9100/metrics | grep -c '^node_exporter_build_info'"])
        assert rc == 0 and out.strip() == "1", out
    finally:
        lab("destroy.yml", prefix)
