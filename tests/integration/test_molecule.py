"""Every Molecule scenario in molecule/<role>/, each as one test.

Each scenario's testinfra results are also written as a JUnit report and
counted in the summary of `make test`.
"""

import os

import pytest
from conftest import ROOT, run, tool

SCENARIOS = sorted(
    d for d in os.listdir(os.path.join(ROOT, "molecule"))
    if d != "shared" and os.path.isfile(os.path.join(ROOT, "molecule", d, "molecule.yml"))
)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario):
    log = os.path.join(ROOT, ".cache", "test-results", "molecule-%s.log" % scenario)
    rc, out = run([tool("molecule"), "test", "-s", scenario], timeout=1800)
    with open(log, "w") as handle:
        handle.write(out)
    assert rc == 0, "molecule test -s %s failed (full log: %s):\n%s" % (scenario, log, out[-8000:])
