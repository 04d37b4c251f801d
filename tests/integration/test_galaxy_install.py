"""The built collection installs into an empty path and holds what it should.

That its roles run from such an install is proven by the node_exporter
Molecule scenario, which installs the collection the same way
(scripts/install-built-collection.sh) and runs its role from there.
"""

import glob
import os

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

