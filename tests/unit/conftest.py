"""Fixtures of the unit tests: the fake Grafana of the Grafana module tests."""

import pytest
from grafana_testlib import connection, started_grafana


@pytest.fixture
def grafana():
    """A fake Grafana (tests/unit/fake_grafana.py) on loopback, stopped after the test."""
    yield from started_grafana()


@pytest.fixture
def conn(grafana):
    """The module connection options for the fake Grafana."""
    return connection(grafana)
