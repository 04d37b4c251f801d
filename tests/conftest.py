"""The one set-up of the test suites: the collection is importable by its name.

`make venv` (scripts/link-collection.sh) links the checkout as
.cache/collections/ansible_collections/vigil/observability; with
.cache/collections on sys.path every test imports the collection's code, and
the test helpers, as `ansible_collections.vigil.observability.…`:

    from ansible_collections.vigil.observability.plugins.filter import prometheus
    from ansible_collections.vigil.observability.tests.helpers import ROOT, run, tool
    from ansible_collections.vigil.observability.tests.roles.role_input import run_cases

A tree that already is ansible_collections/vigil/observability (as
`ansible-test units` runs it) is used where it is. The layers are described
in docs/testing.md.
"""

import os
import sys


def _collections_path():
    root = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    parent, name = os.path.split(root)
    top, namespace = os.path.split(parent)
    if (os.path.basename(top), namespace, name) == ("ansible_collections", "vigil", "observability"):
        return os.path.dirname(top)
    path = os.path.join(root, ".cache", "collections")
    if not os.path.isdir(os.path.join(path, "ansible_collections", "vigil", "observability")):
        raise RuntimeError("%s does not hold vigil.observability: run `make venv`" % path)
    return path


COLLECTIONS = _collections_path()
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)


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
