#!/usr/bin/env python3
"""Run the test suites with pytest and print one summary line.

The summary counts every test pytest ran (lint, unit, the Molecule scenarios
and the galaxy install check) plus every testinfra test the Molecule
verifiers ran, read from their JUnit reports. Skipped tests are counted as
skipped, never as passed.
"""
import glob
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, ".cache", "test-results")


def count(path):
    passed = failed = skipped = 0
    for case in ET.parse(path).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main():
    paths = sys.argv[1:] or ["tests"]
    shutil.rmtree(RESULTS, ignore_errors=True)
    os.makedirs(RESULTS)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rfEs",
           "--junitxml", os.path.join(RESULTS, "pytest.xml"), *paths]
    rc = subprocess.call(cmd, cwd=ROOT)
    totals = [0, 0, 0]
    for report in sorted(glob.glob(os.path.join(RESULTS, "*.xml"))):
        try:
            numbers = count(report)
        except ET.ParseError:
            numbers = (0, 1, 0)  # a truncated report is a failure
        print("  %-40s %d passed, %d failed, %d skipped" % (os.path.basename(report), *numbers))
        totals = [a + b for a, b in zip(totals, numbers, strict=True)]
    if rc == 5 or sum(totals) == 0:
        print("no tests ran")
        rc = 1
    if rc != 0 and totals[1] == 0:
        totals[1] = 1  # pytest failed outside any test (collection or internal error)
    print("summary: %d passed, %d failed, %d skipped" % tuple(totals))
    return 0 if rc == 0 and totals[1] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
