"""The Galaxy importer accepts the built tarball, with the documentation of every module and filter.

galaxy-importer (pinned in requirements-dev.txt) is what Galaxy runs on an
upload. Its configuration here (GALAXY_IMPORTER_CONFIG) turns off two steps:
ansible-test, which needs containers (`ansible-test sanity` runs on its own in
`make test`), and ansible-lint, which tests/lint/test_lint.py already runs
with the stricter production profile. The rest runs as on Galaxy: the
MANIFEST, the README and a README for every role, the changelog, and
`ansible-doc` on every plugin. That last step is all or nothing per plugin
type: one filter without documentation and the importer drops the
documentation of every filter, so the test checks that each one is there.
"""

import ast
import glob
import json
import os
import sys

import pytest
from ansible_collections.vigil.observability.tests.helpers import ROOT, run, tool

CONFIG = """\
[galaxy-importer]
run_ansible_test = False
run_ansible_lint = False
run_ansible_doc = True
check_changelog = True
log_level_main = INFO
"""


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    work = tmp_path_factory.mktemp("importer")
    rc, out = run([tool("ansible-galaxy"), "collection", "build", "--output-path", str(work), ROOT])
    assert rc == 0, out
    (tarball,) = glob.glob(str(work / "vigil-observability-*.tar.gz"))
    (work / "galaxy-importer.cfg").write_text(CONFIG + "ansible_local_tmp = %s\n" % (work / "tmp"))
    (work / "tmp").mkdir()
    # As on Galaxy: no settings of this checkout (its ansible.cfg, its collections path) reach the importer's
    # ansible-doc, and GALAXY_IMPORTER_* variables in the environment (which override the file) are dropped.
    (work / "ansible.cfg").write_text("[defaults]\n")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("GALAXY_IMPORTER_", "ANSIBLE_"))}
    env.update(GALAXY_IMPORTER_CONFIG=str(work / "galaxy-importer.cfg"), ANSIBLE_CONFIG=str(work / "ansible.cfg"))
    tool("ansible-doc")  # the importer skips the documentation, with a warning, when it is not on PATH
    rc, out = run([sys.executable, "-m", "galaxy_importer.main", tarball], env=env, cwd=str(work), timeout=300)
    result = work / "importer_result.json"
    return rc, out, json.loads(result.read_text()) if result.exists() else None


def filter_names():
    """The keys of the dictionary that each plugins/filter/*.py's FilterModule.filters() returns."""
    names = []
    for path in glob.glob(os.path.join(ROOT, "plugins", "filter", "*.py")):
        with open(path) as handle:
            tree = ast.parse(handle.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == "filters":
                (returned,) = [n.value for n in ast.walk(node) if isinstance(n, ast.Return)]
                assert isinstance(returned, ast.Dict), "%s: filters() must return a dict literal" % path
                names += [key.value for key in returned.keys]
    return sorted(names)


def docs_of(result, content_type):
    return {c["content_name"]: c for c in result["docs_blob"]["contents"] if c["content_type"] == content_type}


def test_importer_accepts_the_tarball_without_errors_or_warnings(imported):
    rc, out, result = imported
    # One warning is expected while tests/sanity/ignore-2.19.txt has entries: the issue allows them, each with
    # its reason (tests/lint/test_sanity.py checks those).
    problems = [line for line in out.splitlines() if line.startswith(("ERROR", "WARNING", "CRITICAL"))
                and not line.startswith("WARNING: Ignore files skip ansible-test sanity tests, found ignore-")]
    assert rc == 0 and result is not None and not problems, out[-6000:]
    assert "Importer processing completed successfully" in out, out[-3000:]
    assert "Linting collection via ansible-lint" not in out and "Running ansible-test" not in out, out[-3000:]


def test_every_filter_has_its_documentation_in_the_import(imported):
    _, out, result = imported
    assert result is not None, out[-3000:]
    filters = filter_names()
    assert len(filters) >= 20, filters
    documented = docs_of(result, "filter")
    missing = [name for name in filters if not (documented.get(name) or {}).get("doc_strings")]
    assert not missing, "filters without documentation in the import: %s" % missing


def test_every_module_and_role_is_documented_in_the_import(imported):
    _, out, result = imported
    assert result is not None, out[-3000:]
    modules = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")))
    documented = docs_of(result, "module")
    assert [m for m in modules if not (documented.get(m) or {}).get("doc_strings")] == []
    roles = sorted(d for d in os.listdir(os.path.join(ROOT, "roles")) if os.path.isdir(os.path.join(ROOT, "roles", d)))
    readmes = docs_of(result, "role")
    assert {r: (readmes.get(r) or {}).get("readme_file") for r in roles} == {r: "README.md" for r in roles}
