"""Every Molecule scenario in molecule/<role>/, each as one test.

Scenarios run three at a time (VIGIL_MOLECULE_JOBS), longest first: most of a
scenario's time is spent waiting on containers, apt and the services under
test, not on the CPU. Each scenario has its own containers, network, apt cache
and mirror port, so several can run side by side. They start as soon as pytest
has collected the tests (tests/conftest.py), so they run while the lint and
unit tests use the CPU; each test then waits for its own scenario and reports
its result.

Each scenario's testinfra results are also written as a JUnit report and
counted in the summary of `make test`.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import ROOT, run, tool

SCENARIOS = sorted(
    d for d in os.listdir(os.path.join(ROOT, "molecule"))
    if d != "shared" and os.path.isfile(os.path.join(ROOT, "molecule", d, "molecule.yml"))
)
# Longest first (minutes measured in CI), so that the lanes finish together.
# A scenario not listed here runs last.
ORDER = ["alertmanager", "prometheus", "grafana", "postgres_exporter", "node_exporter", "blackbox_exporter"]
JOBS = max(1, int(os.environ.get("VIGIL_MOLECULE_JOBS", "3")))

_lock = threading.Lock()
_runs = {}


def _molecule(scenario):
    log = os.path.join(ROOT, ".cache", "test-results", "molecule-%s.log" % scenario)
    rc, out = run([tool("molecule"), "test", "-s", scenario], timeout=1800)
    with open(log, "w") as handle:
        handle.write(out)
    return rc, out, log


def _start_all():
    with _lock:
        if not _runs:
            pool = ThreadPoolExecutor(max_workers=JOBS, thread_name_prefix="molecule")
            ordered = sorted(SCENARIOS, key=lambda s: (ORDER.index(s) if s in ORDER else len(ORDER), s))
            for scenario in ordered:
                _runs[scenario] = pool.submit(_molecule, scenario)
            pool.shutdown(wait=False)
    return _runs


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario):
    rc, out, log = _start_all()[scenario].result()
    assert rc == 0, "molecule test -s %s failed (full log: %s):\n%s" % (scenario, log, out[-8000:])
