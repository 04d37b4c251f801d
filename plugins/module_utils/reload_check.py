# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tell from a service's own metrics whether a reload took.

Prometheus, blackbox_exporter and Alertmanager (and other services built on
the Prometheus client libraries) report their configuration reloads in two
gauges:

- ``<prefix>_last_reload_successful``: 1 when the last reload succeeded, 0
  when it failed (the service then keeps running on its previous
  configuration);
- ``<prefix>_last_reload_success_timestamp_seconds``: when the last
  successful reload happened. It only moves on success.

These functions are pure: they parse the text exposition format and decide
from the values read before and after a reload. The module
``verified_reload`` does the I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

SUCCESSFUL = "successful"
TIMESTAMP = "timestamp"

PENDING = "pending"
SUCCESS = "success"
FAILURE = "failure"

# One sample line of the text exposition format: name, optional labels, value,
# optional timestamp in milliseconds. Label values may contain anything but a
# closing brace is enough for the two unlabelled gauges read here.
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?[ \t]+(\S+)(?:[ \t]+-?[0-9]+)?[ \t]*$")


def gauge_names(prefix):
    """Map SUCCESSFUL and TIMESTAMP to the full metric names for a prefix such as ``prometheus_config``."""
    return {
        SUCCESSFUL: "%s_last_reload_successful" % prefix,
        TIMESTAMP: "%s_last_reload_success_timestamp_seconds" % prefix,
    }


def parse_value(text):
    """A sample value as a float (Go writes e.g. ``1.7e+09``); None for NaN, infinities and non-numbers."""
    try:
        value = float(text)
    except ValueError:
        return None
    if math.isnan(value) or math.isinf(value):
        return None
    return value


def parse_gauges(text, prefix):
    """Read the two reload gauges from a /metrics page in the text exposition format.

    Returns ``{SUCCESSFUL: float or None, TIMESTAMP: float or None}``; None
    when the gauge is absent or its value is not a finite number. Only the
    unlabelled series counts (``name value`` or ``name{} value``): the gauges
    describe the whole process, and a labelled series of the same name is
    something else. When a name appears twice, the first sample wins.
    """
    wanted = dict((name, key) for key, name in gauge_names(prefix).items())
    found = {SUCCESSFUL: None, TIMESTAMP: None}
    seen = set()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if not match or match.group(1) not in wanted or match.group(2) not in (None, "{}"):
            continue
        key = wanted[match.group(1)]
        if key not in seen:
            seen.add(key)
            found[key] = parse_value(match.group(3))
    return found


def missing_gauges(gauges, prefix):
    """Names of the gauges that parse_gauges did not find, in a stable order."""
    names = gauge_names(prefix)
    return [names[key] for key in (SUCCESSFUL, TIMESTAMP) if gauges.get(key) is None]


def decide(before, after):
    """Decide from the gauges read before and after a reload.

    ``before`` holds both values (the caller refuses to reload otherwise);
    ``after`` is the latest reading, or None when /metrics could not be read.

    - SUCCESS: the success timestamp is strictly larger than before and
      ``successful`` is 1.
    - FAILURE: ``successful`` is 0 and either it was 1 before, or the
      timestamp moved (a successful reload was followed by a failed one).
    - PENDING otherwise, including an unreadable or incomplete page.

    When ``successful`` was already 0 before (an earlier reload had failed)
    and this reload fails too, neither gauge changes: that cannot be told
    apart from a reload the service has not processed yet, so it stays
    PENDING and ends as a timeout, never as an early false failure.
    """
    if not after:
        return PENDING
    ok = after.get(SUCCESSFUL)
    stamp = after.get(TIMESTAMP)
    moved = stamp is not None and stamp > before[TIMESTAMP]
    if moved and ok == 1:
        return SUCCESS
    if ok == 0 and (before[SUCCESSFUL] == 1 or moved):
        return FAILURE
    return PENDING


def delay_before_reload(before_stamp, now):
    """Seconds to wait before reloading so that a successful reload shows as a larger timestamp.

    Services may report the timestamp in whole seconds. When the last
    success happened in the current second, a reload in that same second
    would leave the gauge unchanged; waiting for the next whole second makes
    every success visible. Never more than one second, so a clock that went
    backwards cannot stall the run (the reload then ends as a timeout).
    """
    return min(max(math.floor(before_stamp) + 1 - now, 0.0), 1.0)


def failure_reason(outcome, prefix, before, timeout):
    """The reason a reload did not take, for FAILURE or a timeout (any other outcome)."""
    names = gauge_names(prefix)
    if outcome == FAILURE:
        return "%s is 0 after the reload" % names[SUCCESSFUL]
    reason = "reload not reported within %d s" % timeout
    if before[SUCCESSFUL] == 0:
        reason += (" (%s was already 0 before this reload, so a second failure leaves both gauges unchanged)"
                   % names[SUCCESSFUL])
    return reason
