"""ansible-test sanity on the built collection, the tree Galaxy gets, with no failure.

The collection is built with ansible-galaxy (galaxy.yml's build_ignore
applies), unpacked as ansible_collections/vigil/observability in a temporary
directory, and every default sanity test runs there on Python 3.11:
`ansible-test sanity --local --python 3.11`. Lines of
tests/sanity/ignore-2.19.txt each say why.

Offline: ansible-test runs each sanity test in a virtual environment of its
own (also with --local), created without pip and bootstrapped with a
get-pip.py downloaded from ci-files.testing.ansible.com, which cannot be
reached here. It reads that script from ~/.ansible/test/cache when it is
there, so this test runs ansible-test with HOME in .cache/ansible-test and
seeds that cache with a stand-in: it installs the wanted pip from PyPI with
the pip wheel that Python's ensurepip bundles. The test requirements
(pylint, pycodestyle, voluptuous, ... at ansible-test's own pins) then come
from PyPI. The environments are kept, so only the first run pays for them.

Run it alone with `python tests/lint/test_sanity.py` (prints ansible-test's
output); docs/development.md says more.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOME = os.path.join(ROOT, ".cache", "ansible-test")
PYTHON = "3.11"

BOOTSTRAP = '''"""Offline stand-in for get-pip.py (vigil.observability tests/lint/test_sanity.py).

ansible-test runs it as `python get-pip.py [pip options] pip==X [--no-setuptools] [--no-wheel]`
in a virtual environment that has no pip: install those with ensurepip's bundled pip wheel.
"""
import glob
import os
import sys

import ensurepip

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
wheels = sorted(glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl")))
if not wheels:
    sys.exit("ensurepip bundles no pip wheel in %s" % os.path.dirname(ensurepip.__file__))
sys.path.insert(0, wheels[-1])
from pip._internal.cli.main import main  # noqa: E402

sys.exit(main(["install"] + args))
'''


def _tool(name):
    path = shutil.which(name) or os.path.join(os.path.dirname(sys.executable), name)
    if not os.path.exists(path):
        pytest.fail("%s is not installed; run `make venv`" % name)
    return path


def pip_version():
    """The pip version ansible-test bootstraps its sanity environments with."""
    import ansible_test

    source = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
    with open(source) as handle:
        match = re.search(r"default_packages = dict\(\s*pip='([0-9.]+)'", handle.read())
    assert match, "cannot find the pip version in %s" % source
    return match.group(1)


def seed_bootstrap(home=HOME):
    cache = os.path.join(home, ".ansible", "test", "cache")
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, "get_pip_%s.py" % pip_version().replace(".", "_"))
    with open(path, "w") as handle:
        handle.write(BOOTSTRAP)
    return path


def build(workdir):
    """Build the collection into workdir and unpack it; return (tarball, collection root)."""
    out = subprocess.run([_tool("ansible-galaxy"), "collection", "build", "--force", "--output-path", workdir, ROOT],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    assert out.returncode == 0, out.stdout
    tarball = glob.glob(os.path.join(workdir, "vigil-observability-*.tar.gz"))[0]
    tree = os.path.join(workdir, "ansible_collections", "vigil", "observability")
    os.makedirs(tree)
    with tarfile.open(tarball) as archive:
        archive.extractall(tree, filter="data")
    return tarball, tree


def sanity(tree, home=HOME, extra=()):
    """Run ansible-test sanity in the unpacked tree: (rc, output, seconds)."""
    seed_bootstrap(home)
    env = dict(os.environ, HOME=home, NO_COLOR="1", ANSIBLE_FORCE_COLOR="0")
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    start = time.time()
    proc = subprocess.run([_tool("ansible-test"), "sanity", "--local", "--python", PYTHON, "--color", "no"] + list(extra),
                          cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=1800, check=False)
    return proc.returncode, proc.stdout, time.time() - start


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(str(tmp_path_factory.mktemp("sanity")))


def test_the_tarball_ships_no_development_tree(built):
    tarball, _tree = built
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    leaked = [name for name in names
              if re.match(r"^(molecule|benchmarks|scripts|\.config|playbooks/lab|inventories/lab)(/|$)", name)
              or (name.startswith("tests/") and not re.match(r"^tests/sanity(/ignore-[0-9.]+\.txt)?$", name))]
    assert leaked == [], leaked
    for wanted in ("roles/prometheus/tasks/main.yml", "plugins/filter/prometheus.py", "meta/runtime.yml",
                   "playbooks/site.yml", "changelogs/changelog.yaml", "tests/sanity/ignore-2.19.txt"):
        assert wanted in names


def test_every_ignore_line_says_why():
    with open(os.path.join(ROOT, "tests", "sanity", "ignore-2.19.txt")) as handle:
        lines = [line.rstrip("\n") for line in handle if line.strip()]
    assert [line for line in lines if not re.match(r"^\S+ \S+ # \S.{10,}$", line)] == []


def test_ansible_test_sanity_passes_on_the_built_tree(built):
    _tarball, tree = built
    rc, out, seconds = sanity(tree)
    print("ansible-test sanity took %.0f s" % seconds)
    assert rc == 0, out[-12000:]
    # Every default test ran; only those with nothing to check in a collection like this one may be skipped.
    skipped = re.findall(r'Skipping sanity test "([^"]+)"', out)
    assert set(skipped) <= {"pslint"}, out[-12000:]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as work:
        _tarball, unpacked = build(work)
        code, output, took = sanity(unpacked, extra=sys.argv[1:])
        print(output)
        print("ansible-test sanity: rc %d in %.0f s" % (code, took))
        sys.exit(code)
