import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, timeout=600, env=None, cwd=ROOT):
    """Run a command, returning (rc, combined output)."""
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)
    return proc.returncode, proc.stdout


def tool(name):
    path = shutil.which(name)
    if not path:
        pytest.fail("%s is not installed; run `make venv`" % name)
    return path


def pytest_collection_finish(session):
    """Start the Molecule scenarios as soon as collection is done.

    They spend most of their time waiting on containers and services, so they
    run in the background (tests/integration/test_molecule.py) while the lint
    and unit tests use the CPU; each scenario's test then waits for its result.
    """
    if session.config.option.collectonly:
        return
    for item in session.items:
        if item.name.startswith("test_molecule_scenario"):
            item.module._start_all()
            return


def pytest_collection_modifyitems(session, config, items):
    """Run the Molecule scenario tests last: waiting for their results must not hold up the lint and unit tests."""
    items.sort(key=lambda item: item.name.startswith("test_molecule_scenario"))


# Fixtures of the Grafana module unit tests (tests/unit/test_grafana_*.py).
# They live here rather than in tests/unit/conftest.py: the test modules
# import this file as `conftest`, and a second conftest.py would shadow it.
@pytest.fixture
def grafana():
    """A fake Grafana (tests/unit/fake_grafana.py) on loopback, stopped after the test."""
    from grafana_testlib import started_grafana

    yield from started_grafana()


@pytest.fixture
def conn(grafana):
    """The module connection options for the fake Grafana."""
    from grafana_testlib import connection

    return connection(grafana)
