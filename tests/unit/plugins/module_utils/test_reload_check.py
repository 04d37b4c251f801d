"""Unit tests for module_utils/reload_check: reading the reload gauges and deciding what a reload did.

The verified_reload module that uses them is tested in
tests/unit/plugins/modules/test_verified_reload.py.
"""

import pytest
from ansible_collections.vigil.observability.plugins.module_utils import reload_check
from ansible_collections.vigil.observability.plugins.module_utils.reload_check import (
    FAILURE,
    PENDING,
    SUCCESS,
    SUCCESSFUL,
    TIMESTAMP,
)

PREFIX = "alertmanager_config"
OK = PREFIX + "_last_reload_successful"
TS = PREFIX + "_last_reload_success_timestamp_seconds"


# --- parsing -----------------------------------------------------------------

PAGE = """# HELP alertmanager_config_hash Hash of the currently loaded alertmanager configuration.
# TYPE alertmanager_config_hash gauge
alertmanager_config_hash 2.08131455412238e+14
# HELP alertmanager_config_last_reload_success_timestamp_seconds Timestamp of the last successful configuration reload.
# TYPE alertmanager_config_last_reload_success_timestamp_seconds gauge
alertmanager_config_last_reload_success_timestamp_seconds 1.7e+09
# HELP alertmanager_config_last_reload_successful Whether the last configuration reload attempt was successful.
# TYPE alertmanager_config_last_reload_successful gauge
alertmanager_config_last_reload_successful 1
"""


def test_parse_reads_both_gauges_in_scientific_notation():
    assert reload_check.parse_gauges(PAGE, PREFIX) == {SUCCESSFUL: 1.0, TIMESTAMP: 1.7e9}


def test_parse_reads_plain_numbers_empty_labels_and_sample_timestamps():
    page = "%s{} 0\n%s 1712345678.25 1712345678000\n" % (OK, TS)
    assert reload_check.parse_gauges(page, PREFIX) == {SUCCESSFUL: 0.0, TIMESTAMP: 1712345678.25}


@pytest.mark.parametrize("page", [
    "",
    "# only comments\n# %s 1\n" % OK,
    "other_metric 1\n",
    # Longer names that start with the gauge's name are other metrics.
    "%s_total 1\n%s_bucket 1\n" % (OK, TS),
    # Another prefix.
    "prometheus_config_last_reload_successful 1\nprometheus_config_last_reload_success_timestamp_seconds 1.7e+09\n",
    # Labelled series are not the process-wide gauge.
    '%s{instance="a"} 1\n%s{instance="a"} 1.7e+09\n' % (OK, TS),
    # Values that are not finite numbers.
    "%s NaN\n%s +Inf\n" % (OK, TS),
    "%s one\n" % OK,
])
def test_parse_reports_absent_gauges_as_none(page):
    gauges = reload_check.parse_gauges(page, PREFIX)
    assert gauges == {SUCCESSFUL: None, TIMESTAMP: None}
    assert reload_check.missing_gauges(gauges, PREFIX) == [OK, TS]


def test_parse_one_gauge_absent_and_first_sample_wins():
    gauges = reload_check.parse_gauges("%s 1\n%s 0\n" % (OK, OK), PREFIX)
    assert gauges == {SUCCESSFUL: 1.0, TIMESTAMP: None}
    assert reload_check.missing_gauges(gauges, PREFIX) == [TS]


def test_gauge_names_for_the_roles_prefixes():
    assert reload_check.gauge_names("prometheus_config") == {
        SUCCESSFUL: "prometheus_config_last_reload_successful",
        TIMESTAMP: "prometheus_config_last_reload_success_timestamp_seconds"}
    assert reload_check.gauge_names("blackbox_exporter_config")[SUCCESSFUL] == "blackbox_exporter_config_last_reload_successful"


# --- decision ----------------------------------------------------------------

def gauges(ok, ts):
    return {SUCCESSFUL: ok, TIMESTAMP: ts}


@pytest.mark.parametrize("before, after, expected", [
    # Success needs both: a strictly larger timestamp and successful == 1.
    (gauges(1, 100.0), gauges(1, 101.0), SUCCESS),
    (gauges(0, 100.0), gauges(1, 101.0), SUCCESS),
    (gauges(1, 100.0), gauges(1, 100.0), PENDING),   # not processed yet
    (gauges(1, 100.0), gauges(1, 99.0), PENDING),    # an older timestamp is not a reload
    (gauges(0, 100.0), gauges(1, 100.0), PENDING),   # successful set, timestamp not yet
    # Failure: successful went from 1 to 0, or the timestamp moved and successful is 0.
    (gauges(1, 100.0), gauges(0, 100.0), FAILURE),
    (gauges(0, 100.0), gauges(0, 101.0), FAILURE),
    # Already 0 before and 0 again: indistinguishable from "not processed yet",
    # so it stays pending and ends as a timeout, never as an early false failure.
    (gauges(0, 100.0), gauges(0, 100.0), PENDING),
    # Unreadable or incomplete pages are retried.
    (gauges(1, 100.0), None, PENDING),
    (gauges(1, 100.0), gauges(None, None), PENDING),
    (gauges(1, 100.0), gauges(None, 101.0), PENDING),
    (gauges(1, 100.0), gauges(0, None), FAILURE),
])
def test_decide(before, after, expected):
    assert reload_check.decide(before, after) == expected


@pytest.mark.parametrize("before_ts, now, expected", [
    (100.0, 100.0, 1.0),    # last success in this very second: wait for the next one
    (100.0, 100.75, 0.25),
    (100.4, 100.9, 0.1),
    (99.0, 100.2, 0.0),     # an earlier second: no wait
    (500.0, 100.0, 1.0),    # a clock that went backwards: never more than a second
])
def test_delay_before_reload(before_ts, now, expected):
    assert reload_check.delay_before_reload(before_ts, now) == pytest.approx(expected)


def test_failure_reasons():
    assert reload_check.failure_reason(FAILURE, PREFIX, gauges(1, 1.0), 30) == OK + " is 0 after the reload"
    assert reload_check.failure_reason("timeout", PREFIX, gauges(1, 1.0), 30) == "reload not reported within 30 s"
    already = reload_check.failure_reason("timeout", PREFIX, gauges(0, 1.0), 30)
    assert already.startswith("reload not reported within 30 s (%s was already 0 before this reload" % OK)
