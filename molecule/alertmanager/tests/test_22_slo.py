"""The SLO drill: real Prometheus evaluates the rules generated from vigil_slos, and a fast burn pages.

drill-api (files/slo_drill_service.py, on alerts) answers its own requests,
about 20 a second: 1 in 200 fails (0.5 % errors, a burn rate of 5 against
the 99.9 % availability objective: neither page threshold, 14.4x or 6x, is
reached) and 1 in 50 takes 0.3 s (2 % slower than the 0.25 s threshold of
the latency SLO, objective 90 %). The recorded SLI error ratios must equal
those shares, within one request of the window. Then 1 request in 2 fails:
the availability SLO's SLOFastBurn must reach the pager (PagerDuty) and the
other receivers of the critical route, and SLOSlowBurn (15 minutes) must
not have fired.

Runs after the fire drills (test_20) and the re-runs (test_21): the drill
service sends nothing before, so its SLI is empty (0 / 0) and nothing fires
while they run.
"""

import json
import shlex
import time

import pytest
from am import CRITICAL, hosts, notifications, prom_query, wait_for

AVAILABILITY, LATENCY = "drill-api-availability", "drill-api-latency"
ERROR_EVERY, SLOW_EVERY = 200, 50


def traffic(**settings):
    alerts = hosts()["alerts"]
    out = alerts.check_output("curl -sS -X POST --data %s http://127.0.0.1:8099/traffic" % shlex.quote(json.dumps(settings)))
    return json.loads(out)


def value(query):
    result = prom_query(query)
    assert len(result) == 1, (query, result)
    return float(result[0]["value"][1])


def requests_in(window):
    return value('sum(increase(http_requests_total{job="drill-api"}[%s]))' % window)


@pytest.fixture(scope="module")
def steady():
    """The known mix, for long enough that the 5m window holds more than 1,000 requests."""
    started = time.time()
    traffic(rate=20, error_every=ERROR_EVERY, slow_every=SLOW_EVERY)
    wait_for(lambda: prom_query('slo:sli_total:rate5m{slo="%s"} > 0' % AVAILABILITY), 90, "drill-api traffic in Prometheus")
    wait_for(lambda: requests_in("5m") > 1000, 150, "more than 1,000 requests in the 5m window")
    yield started
    traffic(rate=0)


def _close(query, expected, window):
    """The recorded ratio is the known share, give or take one request of the window (and the scrape in flight)."""
    got = value(query)
    tolerance = 2.0 / requests_in(window) + 0.0005
    return abs(got - expected) <= tolerance, got, tolerance


@pytest.mark.parametrize("window", ["5m", "30m", "1h"])
def test_availability_sli_equals_the_known_error_share(steady, window):
    ok, got, tolerance = _close('slo:sli_error:ratio_rate%s{slo="%s"}' % (window, AVAILABILITY), 1.0 / ERROR_EVERY, window)
    assert ok, "error ratio over %s: %r, expected %r +/- %.4f" % (window, got, 1.0 / ERROR_EVERY, tolerance)


def test_latency_sli_equals_the_known_slow_share(steady):
    ok, got, tolerance = _close('slo:sli_error:ratio_rate5m{slo="%s"}' % LATENCY, 1.0 / SLOW_EVERY, "5m")
    assert ok, "slow ratio: %r, expected %r +/- %.4f" % (got, 1.0 / SLOW_EVERY, tolerance)


def test_budget_series_are_recorded(steady):
    assert value('slo:objective:ratio{slo="%s"}' % AVAILABILITY) == 0.999
    assert value('slo:error_budget:ratio{slo="%s"}' % AVAILABILITY) == pytest.approx(0.001)
    burn = value('slo:burn_rate:ratio_rate5m{slo="%s"}' % AVAILABILITY)
    assert 3 < burn < 7, burn  # 0.5 % errors against a 0.1 % budget
    # The window rules run every minute: wait for their first evaluation with traffic.
    # Before the traffic the ratio over the window is 0 / 0 (NaN), so wait for a number.
    wait_for(lambda: prom_query('slo:error_budget_remaining:ratio{slo="%s"} < 1' % AVAILABILITY), 90,
             "the error budget remaining, spent in part")
    wait_for(lambda: prom_query('slo:uptime:ratio_period{slo="%s", source="sli"} > 0.99 < 1' % AVAILABILITY), 90,
             "the uptime from the SLI, between 99 % and 100 %")


def test_the_known_mix_pages_nobody(steady):
    firing = prom_query('ALERTS{alertname=~"SLOFastBurn|SLOSlowBurn", alertstate="firing"}')
    assert firing == [], firing
    assert notifications("SLOFastBurn", AVAILABILITY, since=steady) == {}


def test_a_50_percent_error_burst_pages_through_alertmanager(steady):
    since = time.time()
    traffic(rate=20, error_every=2, slow_every=SLOW_EVERY)
    try:
        def paged():
            seen = notifications("SLOFastBurn", AVAILABILITY, since)
            return seen if all("firing" in seen.get(receiver, []) for receiver in CRITICAL) else None

        seen = wait_for(paged, 180, "SLOFastBurn for %s at %s" % (AVAILABILITY, ", ".join(CRITICAL)))
        assert "pager" in seen
        alert = prom_query('ALERTS{alertname="SLOFastBurn", slo="%s", alertstate="firing"}' % AVAILABILITY)
        assert alert and alert[0]["metric"]["severity"] == "critical" and alert[0]["metric"]["slo_alert"] == "page"
        # The latency SLO is untouched by errors, and the ticket needs 15 minutes.
        assert prom_query('ALERTS{alertname="SLOFastBurn", slo="%s"}' % LATENCY) == []
        assert notifications("SLOSlowBurn", since=steady) == {}
    finally:
        traffic(rate=0)
