"""The built collection installs as from Galaxy and runs with ansible-core plus its declared dependencies.

A user who runs `ansible-galaxy collection install vigil.observability` gets
the tarball and the collections that galaxy.yml declares, nothing else. This
test builds the tarball and installs it, with those dependencies, into an
empty collections path; Galaxy is unreachable here, so each declared
dependency (and what it declares in turn) is installed offline from the copy
that the `ansible` package carries in site-packages.

ansible-core finds collections on the Python path whatever
ANSIBLE_COLLECTIONS_PATH says, and the `ansible` package puts about a hundred
there: every command here runs with ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false so
that only the install path counts. The negative control installs the tarball
alone and shows that the isolation is real: `site.yml` then stops at the
first use of a dependency.

`--syntax-check` loads every play, role and statically imported task file
(import_tasks, import_role), so it resolves their modules and module_defaults
groups; files included dynamically (include_tasks, include_role) are not
loaded by it. tests/lint/test_declared_collections.py covers those: it finds
every FQCN in roles/, playbooks/ and plugins/ and fails when its collection is
not declared.

That its roles run from such an install is proven by the node_exporter
Molecule scenario, which installs the collection the same way
(scripts/install-built-collection.sh) and runs its role from there.
"""

import glob
import importlib.metadata
import json
import os

import pytest
import yaml
from ansible_collections.vigil.observability.tests.helpers import ROOT, run, tool

BUNDLED = str(importlib.metadata.distribution("ansible").locate_file("ansible_collections"))
INVENTORY = """\
[prometheus]
prom1
[alertmanager]
am1
[grafana]
graf1
[postgres]
pg1
[blackbox]
probe1
"""


def declared_dependencies():
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        return yaml.safe_load(handle).get("dependencies") or {}


def bundled(collection):
    path = os.path.join(BUNDLED, *collection.split("."))
    assert os.path.exists(os.path.join(path, "MANIFEST.json")), "%s is not in the `ansible` package" % collection
    return path


def with_their_dependencies(collections):
    """The collections and, recursively, what their MANIFEST.json declares."""
    wanted, todo = {}, list(collections)
    while todo:
        collection = todo.pop()
        if collection in wanted:
            continue
        wanted[collection] = bundled(collection)
        with open(os.path.join(wanted[collection], "MANIFEST.json")) as handle:
            todo.extend(json.load(handle)["collection_info"]["dependencies"] or {})
    return wanted


def isolated_env(work, install_path):
    # An empty ansible.cfg in the working directory, so the checkout's own
    # (with its development link .cache/collections) is not read.
    (work / "ansible.cfg").write_text("[defaults]\n")
    return dict(os.environ, ANSIBLE_CONFIG=str(work / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(install_path),
                ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    work = tmp_path_factory.mktemp("build")
    rc, out = run([tool("ansible-galaxy"), "collection", "build", "--output-path", str(work), ROOT])
    assert rc == 0, out
    tarballs = glob.glob(str(work / "vigil-observability-*.tar.gz"))
    assert len(tarballs) == 1, out
    return tarballs[0]


def install(work, requirements, no_deps=False):
    install_path = work / "collections"
    env = isolated_env(work, install_path)
    rc, out = run([tool("ansible-galaxy"), "collection", "install", "--offline", "-p", str(install_path)]
                  + (["-n"] if no_deps else []) + requirements, env=env, cwd=str(work))
    assert rc == 0 and "vigil.observability:0.1.0 was installed successfully" in out, out
    (work / "hosts.ini").write_text(INVENTORY)
    return work, install_path, env


@pytest.fixture(scope="module")
def installed(tmp_path_factory, tarball):
    """The tarball and its declared dependencies; without -n, so ansible-galaxy resolves them itself."""
    return install(tmp_path_factory.mktemp("galaxy"), [tarball] + list(with_their_dependencies(declared_dependencies()).values()))


def collection_list(env, cwd):
    rc, out = run([tool("ansible-galaxy"), "collection", "list", "--format", "json"], env=env, cwd=cwd)
    assert rc == 0, out
    found = {}
    for path, collections in json.loads(out).items():
        if "/ansible/_internal/" not in path:  # ansible-core's private ansible._protomatter
            found.update(collections)
    return found


def syntax_check(work, env):
    return run([tool("ansible-playbook"), "vigil.observability.site", "--syntax-check", "-i", "hosts.ini"],
               env=env, cwd=str(work))


def test_tarball_holds_the_collection_and_no_build_leftovers(installed):
    _, install_path, _ = installed
    base = install_path / "ansible_collections" / "vigil" / "observability"
    for path in ("MANIFEST.json", "roles/node_exporter/meta/argument_specs.yml", "plugins/filter/web_config.py",
                 "playbooks/site.yml", "meta/runtime.yml", "roles/prometheus/meta/argument_specs.yml",
                 "plugins/filter/prometheus.py", "files/rules/availability.yml", "docs/runbook.md"):
        assert (base / path).exists(), path
    # The prometheus role finds the shipped rules next to its roles/ directory.
    assert (base / "roles" / "prometheus" / ".." / ".." / "files" / "rules").is_dir()
    for leftover in (".cache", ".venv", ".git"):
        assert not (base / leftover).exists(), leftover


def test_manifest_declares_the_galaxy_yml_dependencies(installed):
    _, install_path, _ = installed
    with open(install_path / "ansible_collections" / "vigil" / "observability" / "MANIFEST.json") as handle:
        assert json.load(handle)["collection_info"]["dependencies"] == declared_dependencies()


def test_only_the_collection_and_its_dependencies_are_visible(installed):
    work, _, env = installed
    found = collection_list(env, str(work))
    assert set(found) == {"vigil.observability"} | set(with_their_dependencies(declared_dependencies())), found


def test_site_syntax_check_passes_with_ansible_core_and_the_declared_dependencies(installed):
    work, _, env = installed
    rc, out = syntax_check(work, env)
    assert rc == 0, out


def test_site_syntax_check_fails_without_the_dependencies(tmp_path_factory, tarball):
    """Negative control: the tarball alone (-n) cannot resolve what postgres_exporter uses from community.postgresql."""
    assert "community.postgresql" in declared_dependencies()
    work, _, env = install(tmp_path_factory.mktemp("alone"), [tarball], no_deps=True)
    assert set(collection_list(env, str(work))) == {"vigil.observability"}
    rc, out = syntax_check(work, env)
    assert rc != 0 and "could not resolve the module_defaults group community.postgresql.all" in out, out
