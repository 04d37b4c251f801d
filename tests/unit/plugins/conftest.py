"""Fixtures of the Grafana module and module_utils tests (modules/test_grafana_*.py, module_utils/test_grafana_api.py)."""

import pytest
from ansible_collections.vigil.observability.tests.unit.plugins.modules.grafana_testlib import connection, started_grafana


@pytest.fixture
def grafana():
    """A fake Grafana (modules/fake_grafana.py) on loopback, stopped after the test."""
    yield from started_grafana()


@pytest.fixture
def conn(grafana):
    """The module connection options for the fake Grafana."""
    return connection(grafana)
