"""Service level objectives from the inventory: checks and Prometheus rules.

``vigil_slos`` (docs/slo.md) declares objectives next to the services they
cover. ``slo_problems`` lists what is wrong with the declarations (each
message names the entry); ``slo_rules`` turns valid declarations into one
Prometheus rule group per SLO:

- the SLI error ratio over 5m, 30m, 1h, 2h and 6h from the counters, and over
  1d, 3d and the SLO window from the recorded 5m rates (cheap to evaluate and
  weighted by traffic);
- the objective, the error budget, the burn rate per window and the error
  budget remaining;
- multi-window, multi-burn-rate alerts (Google SRE workbook, chapter 5):
  SLOFastBurn pages (14.4x over 1h and 5m, 6x over 6h and 30m), SLOSlowBurn
  opens a ticket (3x over 1d and 2h, 1x over 3d and 6h);
- for availability SLOs, the uptime over the SLO window from the SLI and from
  the blackbox probes labelled with the service.

The prometheus role calls both (roles/prometheus/vars/main.yml); the unit tests
and tests/rules/slo.test.yml call them directly.
"""

import re

KINDS = ("availability", "latency", "events")
# Standard windows of the SLI error ratio. The short ones are computed from the
# counters; the long ones from the recorded 5m rates.
SHORT_WINDOWS = ("5m", "30m", "1h", "2h", "6h")
LONG_WINDOWS = ("1d", "3d")
# (alert, severity key, [(long window, short window, burn rate factor)]) as in
# the SRE workbook for a 30-day window: 2% of the budget in 1 hour or 5% in
# 6 hours pages; 10% in 1 day or 10% in 3 days opens a ticket.
BURN_ALERTS = (
    ("SLOFastBurn", "page", (("1h", "5m", 14.4), ("6h", "30m", 6))),
    ("SLOSlowBurn", "ticket", (("1d", "2h", 3), ("3d", "6h", 1))),
)
# The HTTP metrics contract (docs/metrics.md).
CONTRACT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
DEFAULTS = {
    "window": "30d",
    "availability": {"objective": 99.9},
    "latency": {"objective": 95.0, "threshold": 0.5},
    "events": {"objective": 99.0},
    "page_severity": "critical",
    "ticket_severity": "warning",
    "page_for": "2m",
    "ticket_for": "15m",
    "period_interval": "1m",
    "runbook_url": "https://github.com/vigil-observability/vigil.observability/blob/main/docs/runbook.md",
}
_KEYS = frozenset(("name", "service", "objective", "window", "sli", "labels", "description", "page", "ticket"))
_SLI_KEYS = {
    "availability": frozenset(("selector", "bad_codes")),
    "latency": frozenset(("threshold", "selector")),
    "events": frozenset(("good", "bad", "total")),
}
_NAME = re.compile(r"^[a-z0-9]([a-z0-9_.-]{0,62}[a-z0-9])?$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_RESERVED_LABELS = frozenset(("slo", "service", "severity", "slo_alert", "alertname", "job", "instance", "le", "window"))
_DURATION = re.compile(r"^([0-9]+)(s|m|h|d|w)$")
_PROM_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MIN_WINDOW = 86400
_MAX_WINDOW = 400 * 86400
_MATCHER = r'\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*'
_SELECTOR = re.compile(r"^%s(,%s)*,?\s*$" % (_MATCHER, _MATCHER))


def duration_seconds(value):
    """Seconds of a one-unit Prometheus duration such as 30d, or None."""
    match = _DURATION.match(str(value))
    return int(match.group(1)) * _SECONDS[match.group(2)] if match else None


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _fmt(value):
    """A number as PromQL and YAML show it: 0.0144, not 0.014400000000000001."""
    return "%.12g" % value


def le_values(threshold):
    """The `le` label values client libraries write for a bucket bound: Go writes 1, Python 1.0."""
    values = {repr(float(threshold))}
    if float(threshold).is_integer():
        values.add(str(int(threshold)))
    values.add("%g" % threshold)
    return sorted(values)


def slo_name(entry):
    """The name of an SLO entry: its own, or <service>-<kind>."""
    if not isinstance(entry, dict):
        return None
    if entry.get("name"):
        return str(entry["name"])
    sli = entry.get("sli")
    kind = next(iter(sli), None) if isinstance(sli, dict) and len(sli) == 1 else None
    return "%s-%s" % (entry.get("service"), kind) if entry.get("service") and kind else None


def _settings(settings):
    merged = dict(DEFAULTS)
    for key, value in (settings or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = dict(merged[key], **value)
        else:
            merged[key] = value
    return merged


def slo_problems(slos, services=None, settings=None, var="vigil_slos", retention=None):
    """Everything wrong with the declarations, each message naming the entry.

    services: {service name: {"latency_buckets": [...]}} of the services
    declared in the inventory (vigil_services); None skips the checks that
    need them. retention: the TSDB retention time (a duration) or None.
    """
    config = _settings(settings)
    problems = []
    if slos is None:
        return problems
    if not isinstance(slos, list):
        return ["%s must be a list of SLOs (see docs/slo.md), got %s" % (var, type(slos).__name__)]
    problems.extend(_settings_problems(config))
    retention_seconds = duration_seconds(retention) if retention else None
    seen = {}
    for index, entry in enumerate(slos):
        where = "%s[%d]" % (var, index)
        if not isinstance(entry, dict):
            problems.append("%s must be a dict with service, objective and sli, got %r" % (where, entry))
            continue
        name = slo_name(entry)
        if name:
            where = "%s (%s)" % (where, name)
        unknown = sorted(set(map(str, entry)) - _KEYS)
        if unknown:
            problems.append("%s has unknown keys %s (allowed: %s)" % (where, ", ".join(unknown), ", ".join(sorted(_KEYS))))
        service = entry.get("service")
        if not isinstance(service, str) or not service:
            problems.append("%s needs service, the name of the service it covers" % where)
            service = None
        sli = entry.get("sli")
        kind = None
        if not isinstance(sli, dict) or len(sli) != 1:
            problems.append("%s: sli must be a dict with exactly one of %s, got %r" % (where, ", ".join(KINDS), sli))
        else:
            kind = next(iter(sli))
            if kind not in KINDS:
                problems.append("%s: unknown SLI kind %r (use one of %s)" % (where, kind, ", ".join(KINDS)))
                kind = None
        if name is not None:
            if not _NAME.match(name):
                problems.append("%s: name %r must be lower-case letters, digits, '-', '_' or '.' (at most 64)" % (where, name))
            elif name in seen:
                problems.append("%s: name %r is already used by %s; give one of them its own name" % (where, name, seen[name]))
            else:
                seen[name] = "%s[%d]" % (var, index)
        objective = entry.get("objective", config.get(kind, {}).get("objective") if kind else None)
        number = _number(objective)
        if objective is not None and (number is None or not 0 < number < 100):
            problems.append("%s: objective must be a percentage between 0 and 100 (exclusive), such as 99.9, got %r"
                            % (where, objective))
        window = entry.get("window", config["window"])
        seconds = duration_seconds(window)
        if seconds is None:
            problems.append("%s: window must be a duration such as 30d or 4w, got %r" % (where, window))
        elif not _MIN_WINDOW <= seconds <= _MAX_WINDOW:
            problems.append("%s: window %s must be from 1d to 400d" % (where, window))
        elif retention_seconds and seconds > retention_seconds:
            problems.append("%s: window %s is longer than prometheus_storage_retention_time (%s): the budget would be "
                            "computed from less data than the window" % (where, window, retention))
        labels = entry.get("labels", {})
        if not isinstance(labels, dict):
            problems.append("%s: labels must be a dict" % where)
        else:
            for key, value in labels.items():
                if not _LABEL.match(str(key)) or str(key).startswith("__") or key in _RESERVED_LABELS:
                    problems.append("%s: label name %r is not allowed (reserved: %s)" % (where, key, ", ".join(sorted(_RESERVED_LABELS))))
                elif not isinstance(value, (str, int, float)) or isinstance(value, bool):
                    problems.append("%s: label %s must be a string, got %r" % (where, key, value))
        for flag in ("page", "ticket"):
            if flag in entry and not isinstance(entry[flag], bool):
                problems.append("%s: %s must be true or false, got %r" % (where, flag, entry[flag]))
        if "description" in entry and not isinstance(entry["description"], str):
            problems.append("%s: description must be a string" % where)
        if kind and isinstance(sli.get(kind) or {}, dict):
            problems.extend(_sli_problems(where, kind, sli.get(kind) or {}, service, services, config))
        elif kind:
            problems.append("%s: sli.%s must be a dict, got %r" % (where, kind, sli.get(kind)))
    return problems


def _settings_problems(config):
    """The settings shared by every SLO (the prometheus role's prometheus_slo_* variables)."""
    problems = []
    if duration_seconds(config["window"]) is None:
        problems.append("prometheus_slo_window must be a duration such as 30d, got %r" % (config["window"],))
    for kind in KINDS:
        number = _number(config[kind].get("objective"))
        if number is None or not 0 < number < 100:
            problems.append("prometheus_slo_objectives.%s must be a percentage between 0 and 100 (exclusive), got %r"
                            % (kind, config[kind].get("objective")))
    threshold = _number(config["latency"].get("threshold"))
    if threshold is None or threshold <= 0:
        problems.append("prometheus_slo_latency_threshold must be a number of seconds such as 0.5, got %r"
                        % (config["latency"].get("threshold"),))
    for key in ("page_for", "ticket_for", "period_interval"):
        if not _PROM_DURATION.match(str(config[key])) or (key == "period_interval" and not duration_seconds(config[key])):
            problems.append("prometheus_slo_%s must be a Prometheus duration such as 2m, got %r" % (key, config[key]))
    for key in ("page_severity", "ticket_severity"):
        if not isinstance(config[key], str) or not config[key].strip():
            problems.append("prometheus_slo_%s must be a severity such as critical, got %r" % (key, config[key]))
    return problems


def _sli_problems(where, kind, spec, service, services, config):
    problems = []
    unknown = sorted(set(map(str, spec)) - _SLI_KEYS[kind])
    if unknown:
        problems.append("%s: sli.%s has unknown keys %s (allowed: %s)"
                        % (where, kind, ", ".join(unknown), ", ".join(sorted(_SLI_KEYS[kind])) or "none"))
    if "selector" in spec and (not isinstance(spec["selector"], str) or not _SELECTOR.match(spec["selector"])):
        problems.append('%s: sli.%s.selector must be label matchers such as route!="/healthz", got %r'
                        % (where, kind, spec["selector"]))
    if kind in ("availability", "latency") and service and services is not None and service not in services:
        problems.append("%s: service %r is not declared in vigil_services on any host, so there are no HTTP metrics "
                        "for its %s SLI (declared: %s)" % (where, service, kind, ", ".join(sorted(services)) or "none"))
    if kind == "availability" and "bad_codes" in spec:
        if not isinstance(spec["bad_codes"], str) or not spec["bad_codes"] or '"' in spec["bad_codes"]:
            problems.append('%s: sli.availability.bad_codes must be a regular expression of status codes such as 5.., got %r'
                            % (where, spec["bad_codes"]))
    if kind == "latency":
        threshold = spec.get("threshold", config["latency"].get("threshold"))
        number = _number(threshold)
        if number is None or number <= 0:
            problems.append("%s: sli.latency.threshold must be a number of seconds such as 0.5, got %r" % (where, threshold))
        else:
            buckets = CONTRACT_BUCKETS
            if services is not None and service in services:
                buckets = services[service].get("latency_buckets") or CONTRACT_BUCKETS
            if not any(abs(float(bucket) - number) < 1e-9 for bucket in buckets):
                problems.append("%s: sli.latency.threshold %s is not a bucket boundary of the histogram service %s exposes "
                                "(%s); the SLI can only count requests at a bucket boundary"
                                % (where, _fmt(number), service, ", ".join(_fmt(float(b)) for b in buckets)))
    if kind == "events":
        given = [key for key in ("good", "bad") if key in spec]
        if len(given) != 1 or "total" not in spec:
            problems.append("%s: sli.events needs total and exactly one of good or bad, got %s"
                            % (where, ", ".join(sorted(map(str, spec))) or "nothing"))
        for key in given + ["total"]:
            value = spec.get(key)
            if not isinstance(value, str) or not value.strip():
                problems.append("%s: sli.events.%s must be a PromQL counter selector such as "
                                'http_requests_total{job="memory-api"}, got %r' % (where, key, value))
            elif "[" in value or "rate(" in value:
                problems.append("%s: sli.events.%s must be a counter selector without a range or rate(); the rules add "
                                "rate() over each window, got %r" % (where, key, value))
    return problems


def _selector(*parts):
    matchers = ", ".join(part.strip().rstrip(",") for part in parts if part and part.strip())
    return "{%s}" % matchers


def _sli_rates(entry, kind, spec, config, window):
    """(bad events per second, all events per second) of one SLO as PromQL over `window`."""
    service = entry["service"]
    job = 'job="%s"' % service
    extra = spec.get("selector", "")
    if kind == "availability":
        codes = spec.get("bad_codes", "5..")
        total = "sum(rate(http_requests_total%s[%s]))" % (_selector(job, extra), window)
        bad = "(sum(rate(http_requests_total%s[%s])) or vector(0))" % (_selector(job, 'code=~"%s"' % codes, extra), window)
        return bad, total
    if kind == "latency":
        threshold = float(spec.get("threshold", config["latency"]["threshold"]))
        le = "|".join(v.replace(".", "[.]") for v in le_values(threshold))
        total = "sum(rate(http_request_duration_seconds_count%s[%s]))" % (_selector(job, extra), window)
        good = "sum(rate(http_request_duration_seconds_bucket%s[%s]))" % (_selector(job, 'le=~"%s"' % le, extra), window)
        return "(%s - %s)" % (total, good), total
    total = "sum(rate(%s[%s]))" % (spec["total"].strip(), window)
    if "bad" in spec:
        return "(sum(rate(%s[%s])) or vector(0))" % (spec["bad"].strip(), window), total
    return "(%s - sum(rate(%s[%s])))" % (total, spec["good"].strip(), window), total


def slo_rules(slos, settings=None):
    """Prometheus rule groups for valid declarations (check them with slo_problems first)."""
    config = _settings(settings)
    groups = []
    for entry in slos or []:
        kind = next(iter(entry["sli"]))
        spec = entry["sli"][kind] or {}
        name = slo_name(entry)
        objective = float(entry.get("objective", config[kind]["objective"]))
        budget = round(1 - objective / 100.0, 12)
        window = str(entry.get("window", config["window"]))
        labels = dict((str(k), str(v)) for k, v in (entry.get("labels") or {}).items())
        labels.update(slo=name, service=entry["service"])
        sel = '{slo="%s"}' % name
        rules = []
        bad, total = _sli_rates(entry, kind, spec, config, "5m")
        rules.append({"record": "slo:sli_bad:rate5m", "expr": bad, "labels": dict(labels)})
        rules.append({"record": "slo:sli_total:rate5m", "expr": total, "labels": dict(labels)})
        rules.append({"record": "slo:sli_error:ratio_rate5m",
                      "expr": "slo:sli_bad:rate5m%s / slo:sli_total:rate5m%s" % (sel, sel), "labels": dict(labels)})
        for short in SHORT_WINDOWS[1:]:
            bad, total = _sli_rates(entry, kind, spec, config, short)
            rules.append({"record": "slo:sli_error:ratio_rate%s" % short, "expr": "%s / %s" % (bad, total),
                          "labels": dict(labels)})
        for long_window in LONG_WINDOWS:
            rules.append({"record": "slo:sli_error:ratio_rate%s" % long_window, "expr": _from_recorded(sel, long_window),
                          "labels": dict(labels)})
        for window_name in SHORT_WINDOWS + LONG_WINDOWS:
            rules.append({"record": "slo:burn_rate:ratio_rate%s" % window_name,
                          "expr": "slo:sli_error:ratio_rate%s%s / %s" % (window_name, sel, _fmt(budget)),
                          "labels": dict(labels)})
        severity = {"page": config["page_severity"], "ticket": config["ticket_severity"]}
        for alert, level, pairs in BURN_ALERTS:
            if not entry.get(level, True):
                continue
            conditions = []
            for long_window, short_window, factor in pairs:
                limit = _fmt(factor * budget)
                conditions.append("(slo:sli_error:ratio_rate%s%s > %s and slo:sli_error:ratio_rate%s%s > %s)"
                                  % (long_window, sel, limit, short_window, sel, limit))
            factors = " or ".join("%sx over %s and %s" % (_fmt(f), lw, sw) for lw, sw, f in pairs)
            rules.append({
                "alert": alert,
                "expr": "\nor\n".join(conditions),
                "for": config["%s_for" % level],
                "labels": dict(labels, severity=severity[level], slo_alert=level),
                "annotations": {
                    "summary": "SLO %s of %s is burning its error budget %s"
                               % (name, entry["service"], "fast" if level == "page" else "slowly"),
                    "description": (
                        "%s objective %s%% over %s (%s). The error ratio is above the burn-rate limit in both windows "
                        "of one pair (%s; error budget %s): {{ $value | humanizePercentage }} of events were bad over "
                        "the longer window. At this rate the error budget of the window lasts less than %s."
                        % (kind.capitalize(), _fmt(objective), window, entry.get("description") or _describe(kind, spec, config),
                           factors, _fmt(budget), _exhaustion(window, pairs))),
                    "runbook_url": "%s#%s" % (config["runbook_url"], alert.lower()),
                },
            })
        groups.append({"name": "vigil.slo.%s" % name, "rules": rules})
        period = [
            {"record": "slo:objective:ratio", "expr": "vector(%s)" % _fmt(objective / 100.0), "labels": dict(labels)},
            {"record": "slo:error_budget:ratio", "expr": "vector(%s)" % _fmt(budget), "labels": dict(labels)},
            {"record": "slo:time_period:days", "expr": "vector(%s)" % _fmt(duration_seconds(window) / 86400.0),
             "labels": dict(labels)},
            {"record": "slo:sli_error:ratio_period", "expr": _from_recorded(sel, window), "labels": dict(labels)},
            {"record": "slo:burn_rate:ratio_period", "expr": "slo:sli_error:ratio_period%s / %s" % (sel, _fmt(budget)),
             "labels": dict(labels)},
            {"record": "slo:error_budget_remaining:ratio", "expr": "1 - slo:burn_rate:ratio_period%s" % sel,
             "labels": dict(labels)},
        ]
        if kind == "availability":
            period.append({"record": "slo:uptime:ratio_period", "expr": "1 - slo:sli_error:ratio_period%s" % sel,
                           "labels": dict(labels, source="sli")})
            period.append({"record": "slo:uptime:ratio_period",
                           "expr": 'avg(avg_over_time(probe_success{service="%s"}[%s]))' % (entry["service"], window),
                           "labels": dict(labels, source="probes")})
        groups.append({"name": "vigil.slo.%s.period" % name, "interval": config["period_interval"], "rules": period})
    return groups


def _from_recorded(sel, window):
    """The error ratio over a long window from the recorded 5m rates: cheap to evaluate, weighted by traffic."""
    return "sum_over_time(slo:sli_bad:rate5m%s[%s]) / sum_over_time(slo:sli_total:rate5m%s[%s])" % (sel, window, sel, window)


def _exhaustion(window, pairs):
    """How long the whole budget lasts at the smallest burn rate of an alert, in words."""
    hours = duration_seconds(window) / 3600.0 / min(factor for _l, _s, factor in pairs)
    return "%s days" % _fmt(round(hours / 24, 1)) if hours >= 48 else "%s hours" % _fmt(round(hours, 1))


def _describe(kind, spec, config):
    if kind == "availability":
        return "good: responses other than %s" % spec.get("bad_codes", "5..")
    if kind == "latency":
        return "good: requests faster than %s s" % _fmt(float(spec.get("threshold", config["latency"]["threshold"])))
    return "bad events counted by %s" % ("the bad counter" if "bad" in spec else "total minus the good counter")


class FilterModule(object):
    def filters(self):
        return {"slo_problems": slo_problems, "slo_rules": slo_rules}
