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
from ansible_collections.vigil.observability.tests.helpers import ROOT, run, tool

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


def failures(out, context=25, limit=6000):
    """The first failed or unreachable task results in a Molecule log, with the lines that follow them.

    CI shows only part of a failed test's message: the cause must come first,
    not be cut off above the cleanup and destroy output.
    """
    lines = out.splitlines()
    picked, shown = [], set()
    for number, line in enumerate(lines):
        if ("FAILED!" in line or "UNREACHABLE!" in line or line.startswith(("fatal:", "failed:", "ERROR!"))
                or "MODULE FAILURE" in line) and number not in shown:
            start = max(0, number - 2)
            block = [n for n in range(start, min(len(lines), number + context)) if n not in shown]
            shown.update(block)
            picked.append("\n".join(lines[n] for n in block))
    return "\n...\n".join(picked)[:limit]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario):
    rc, out, log = _start_all()[scenario].result()
    assert rc == 0, "molecule test -s %s failed (full log: %s)\nfailed tasks:\n%s\n\nend of the log:\n%s" % (
        scenario, log, failures(out) or "(none found)", out[-3000:])
