# Copyright: vigil.observability maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the Alertmanager configuration and cluster membership from the inventory.

The alertmanager role describes receivers by kind (pagerduty, opsgenie,
slack, email, webhook) and routing by severity and team; this module turns
that into Alertmanager's own configuration: one receiver per integration
list, a route tree (Watchdog first, then team routes, then severity routes,
each fanning out to several receivers with ``continue``), an escalation
route per escalated severity, inhibition rules and time intervals. Every
problem names the variable it comes from, so the role can refuse bad input
before it contacts a host. The result is plain data; ``amtool check-config``
on the host has the last word.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError
from ansible_collections.vigil.observability.plugins.plugin_utils._endpoints import (
    host_address,
    hostvars_getter,
    reach_address,
    split_listen,
)

_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
_PD_SEVERITIES = ("critical", "error", "warning", "info")
_OG_PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
_ROUTE_KEYS = frozenset(("receivers", "group_by", "group_wait", "group_interval", "repeat_interval",
                         "mute_time_intervals", "active_time_intervals"))
_RECEIVER_REF_KEYS = frozenset(("receiver", "mute_time_intervals", "active_time_intervals"))
_TIMING_KEYS = ("group_by", "group_wait", "group_interval", "repeat_interval")
_TEAM_KEYS = frozenset(("team", "matchers", "severities", "escalation_receiver", "continue"))
UNROUTED = "vigil-unrouted"

# Per integration kind: Alertmanager's list key, the secret field (given
# inline or as <field>_file), keys the role understands, and the defaults
# that carry the collection's notification templates (files/alertmanager).
_KINDS = {
    "pagerduty": {
        "native": "pagerduty_configs",
        "secret": "routing_key",
        "keys": ("url", "severity_map", "client", "client_url", "component", "group", "class"),
        "required": (),
    },
    "opsgenie": {
        "native": "opsgenie_configs",
        "secret": "api_key",
        "keys": ("api_url", "priority_map", "responders", "tags", "entity", "actions", "note"),
        "required": (),
    },
    "slack": {
        "native": "slack_configs",
        "secret": "api_url",
        "keys": ("channel", "username", "icon_emoji", "icon_url", "color"),
        "required": ("channel",),
    },
    "email": {
        "native": "email_configs",
        "secret": None,
        "keys": ("to", "from", "smarthost", "auth_username", "auth_password", "auth_password_file", "auth_identity",
                 "require_tls", "hello", "tls_config"),
        "required": ("to",),
    },
    "webhook": {
        "native": "webhook_configs",
        "secret": "url",
        "keys": ("max_alerts", "timeout"),
        "required": (),
    },
}
_COMMON_KEYS = ("type", "send_resolved", "extra")
_DEFAULT_SEVERITY_MAP = {"critical": "critical", "warning": "warning", "info": "info"}
_DEFAULT_PRIORITY_MAP = {"critical": "P1", "warning": "P3", "info": "P5"}


def _is_duration(value):
    return isinstance(value, str) and bool(_DURATION.match(value))


def _severity_template(mapping, default):
    """A Go template choosing a value by the severity label of the notification's alerts."""
    parts = []
    for index, (severity, value) in enumerate(sorted(mapping.items())):
        parts.append('{{ %s eq .CommonLabels.severity "%s" }}%s' % ("if" if index == 0 else "else if", severity, value))
    if not parts:
        return default
    return "".join(parts) + "{{ else }}%s{{ end }}" % default


class _Builder(object):
    def __init__(self, settings):
        self.s = settings
        self.problems = []
        self.secrets = []
        self.receivers = {}
        self.intervals = set()

    def problem(self, message, *args):
        self.problems.append(message % args if args else message)

    # -- receivers -------------------------------------------------------------
    def build_receivers(self):
        declared = self.s.get("receivers") or {}
        if not isinstance(declared, dict):
            self.problem("alertmanager_receivers must be a dict of receiver name to a list of integrations, got %s",
                         type(declared).__name__)
            declared = {}
        for name, integrations in sorted(declared.items()):
            where = "alertmanager_receivers[%r]" % name
            if not isinstance(name, str) or not _NAME.match(name) or name == UNROUTED:
                self.problem("%s: receiver names must match [A-Za-z0-9][A-Za-z0-9_.:-]* and not be %s", where, UNROUTED)
                continue
            if isinstance(integrations, dict):
                integrations = [integrations]
            if not isinstance(integrations, list) or not integrations:
                self.problem("%s must be a non-empty list of integrations ({type: pagerduty|opsgenie|slack|email|webhook, ...})",
                             where)
                continue
            receiver = {"name": name}
            for index, integration in enumerate(integrations):
                self.integration(receiver, "%s[%d]" % (where, index), integration)
            self.receivers[name] = receiver
        extra = self.s.get("receivers_extra") or []
        if not isinstance(extra, list):
            self.problem("alertmanager_receivers_extra must be a list of Alertmanager receiver definitions")
            extra = []
        for index, receiver in enumerate(extra):
            if not isinstance(receiver, dict) or not isinstance(receiver.get("name"), str):
                self.problem("alertmanager_receivers_extra[%d] must be an Alertmanager receiver with a name", index)
                continue
            if receiver["name"] in self.receivers or receiver["name"] == UNROUTED:
                self.problem("alertmanager_receivers_extra[%d]: receiver %r is already defined", index, receiver["name"])
                continue
            self.receivers[receiver["name"]] = dict(receiver)
            self.secrets.append(None)  # native receivers may hold anything: treat the config as secret

    def integration(self, receiver, where, item):
        if not isinstance(item, dict):
            self.problem("%s must be a dict with a type", where)
            return
        kind = item.get("type")
        if kind not in _KINDS:
            self.problem("%s: type must be one of %s, got %r", where, ", ".join(sorted(_KINDS)), kind)
            return
        spec = _KINDS[kind]
        allowed = set(_COMMON_KEYS) | set(spec["keys"])
        if spec["secret"]:
            allowed |= set((spec["secret"], spec["secret"] + "_file"))
        unknown = sorted(set(item) - allowed)
        if unknown:
            self.problem("%s (%s): unknown keys %s; allowed: %s (Alertmanager settings the role does not know go "
                         "under extra)", where, kind, ", ".join(unknown), ", ".join(sorted(allowed)))
            return
        for key in spec["required"]:
            if not item.get(key):
                self.problem("%s (%s) needs %s", where, kind, key)
        config = {"send_resolved": bool(item.get("send_resolved", True))}
        secret = spec["secret"]
        if secret:
            inline, path = item.get(secret), item.get(secret + "_file")
            if bool(inline) == bool(path):
                self.problem("%s (%s) needs exactly one of %s (from vault) and %s_file (a file on the host)",
                             where, kind, secret, secret)
            elif inline:
                config[secret] = str(inline)
                self.secrets.append(str(inline))
            elif not str(path).startswith("/"):
                self.problem("%s (%s): %s_file must be an absolute path on the host, got %r", where, kind, secret, path)
            else:
                config[secret + "_file"] = str(path)
        getattr(self, "_" + kind)(config, where, item)
        extra = item.get("extra") or {}
        if not isinstance(extra, dict):
            self.problem("%s: extra must be a dict of Alertmanager %s settings", where, spec["native"])
        else:
            config.update(extra)
            if extra:
                self.secrets.append(None)
        receiver.setdefault(spec["native"], []).append(config)

    def _pagerduty(self, config, where, item):
        mapping = item.get("severity_map", _DEFAULT_SEVERITY_MAP)
        if not isinstance(mapping, dict) or any(v not in _PD_SEVERITIES for v in mapping.values()) \
                or any(not _LABEL.match(str(k).replace("-", "_")) for k in mapping):
            self.problem("%s (pagerduty): severity_map must map severity label values to one of %s, got %r",
                         where, ", ".join(_PD_SEVERITIES), mapping)
            mapping = {}
        for key in ("url", "client", "client_url", "component", "group", "class"):
            if item.get(key):
                config[key] = str(item[key])
        config.setdefault("client", "vigil.observability")
        config["severity"] = _severity_template(mapping, "warning")
        config["description"] = '{{ template "vigil.pagerduty.description" . }}'
        config["details"] = {
            "summary": '{{ template "vigil.summary" . }}',
            "firing": '{{ template "vigil.pagerduty.firing" . }}',
            "runbook_url": '{{ template "vigil.runbook" . }}',
            "num_firing": "{{ .Alerts.Firing | len }}",
            "num_resolved": "{{ .Alerts.Resolved | len }}",
        }
        config["links"] = [{"href": '{{ template "vigil.runbook.or.alertmanager" . }}', "text": "Runbook"}]

    def _opsgenie(self, config, where, item):
        mapping = item.get("priority_map", _DEFAULT_PRIORITY_MAP)
        if not isinstance(mapping, dict) or any(v not in _OG_PRIORITIES for v in mapping.values()):
            self.problem("%s (opsgenie): priority_map must map severity label values to one of %s, got %r",
                         where, ", ".join(_OG_PRIORITIES), mapping)
            mapping = {}
        if item.get("api_url"):
            config["api_url"] = str(item["api_url"])
        responders = item.get("responders", [])
        if not isinstance(responders, list) or any(
                not isinstance(r, dict) or r.get("type") not in ("team", "teams", "user", "escalation", "schedule")
                or not (r.get("name") or r.get("id") or r.get("username")) for r in responders):
            self.problem("%s (opsgenie): responders must be a list of {type: team|teams|user|escalation|schedule, "
                         "name|id|username: ...}", where)
        elif responders:
            config["responders"] = responders
        for key in ("entity", "actions", "note"):
            if item.get(key):
                config[key] = str(item[key])
        config["message"] = '{{ template "vigil.title" . }}'
        config["description"] = '{{ template "vigil.text" . }}'
        config["source"] = "vigil.observability"
        config["priority"] = _severity_template(mapping, "P3")
        tags = item.get("tags", [])
        if not isinstance(tags, list):
            self.problem("%s (opsgenie): tags must be a list of strings", where)
            tags = []
        config["tags"] = ",".join(["vigil", "{{ .CommonLabels.severity }}"] + [str(t) for t in tags])
        config["details"] = {"runbook_url": '{{ template "vigil.runbook" . }}'}

    def _slack(self, config, where, item):
        for key in ("channel", "username", "icon_emoji", "icon_url"):
            if item.get(key):
                config[key] = str(item[key])
        config["title"] = '{{ template "vigil.slack.title" . }}'
        config["title_link"] = '{{ template "vigil.runbook.or.alertmanager" . }}'
        config["text"] = '{{ template "vigil.slack.text" . }}'
        config["color"] = str(item.get("color") or '{{ template "vigil.slack.color" . }}')

    def _email(self, config, where, item):
        to = item.get("to")
        if isinstance(to, list):
            to = ", ".join(str(t) for t in to)
        if to:
            config["to"] = str(to)
        for key in ("from", "smarthost", "auth_username", "auth_identity", "hello"):
            if item.get(key):
                config[key] = str(item[key])
        if item.get("auth_password"):
            config["auth_password"] = str(item["auth_password"])
            self.secrets.append(str(item["auth_password"]))
        if item.get("auth_password_file"):
            if not str(item["auth_password_file"]).startswith("/"):
                self.problem("%s (email): auth_password_file must be an absolute path on the host", where)
            config["auth_password_file"] = str(item["auth_password_file"])
        if "require_tls" in item:
            config["require_tls"] = bool(item["require_tls"])
        if item.get("tls_config"):
            config["tls_config"] = item["tls_config"]
        smtp = self.s.get("smtp") or {}
        if not config.get("smarthost") and not smtp.get("smarthost"):
            self.problem("%s (email) has no smarthost: set alertmanager_smtp.smarthost or smarthost on the integration", where)
        if not config.get("from") and not smtp.get("from"):
            self.problem("%s (email) has no sender: set alertmanager_smtp.from or from on the integration", where)
        config["headers"] = {"Subject": '{{ template "vigil.email.subject" . }}'}
        config["text"] = '{{ template "vigil.email.text" . }}'

    def _webhook(self, config, where, item):
        if "max_alerts" in item:
            if not isinstance(item["max_alerts"], int) or item["max_alerts"] < 0:
                self.problem("%s (webhook): max_alerts must be a non-negative integer", where)
            else:
                config["max_alerts"] = item["max_alerts"]
        if item.get("timeout"):
            config["timeout"] = str(item["timeout"])

    # -- routes ----------------------------------------------------------------
    def receiver_ref(self, ref, where, inherited):
        """One receiver of a severity route: a name, or a dict with its own time intervals."""
        if isinstance(ref, str):
            ref = {"receiver": ref}
        if not isinstance(ref, dict) or not isinstance(ref.get("receiver"), str) or set(ref) - _RECEIVER_REF_KEYS:
            self.problem("%s: each receiver is a name or {receiver, mute_time_intervals, active_time_intervals}, got %r",
                         where, ref)
            return None
        if ref["receiver"] not in self.receivers:
            self.problem("%s names receiver %r, which is not defined in alertmanager_receivers%s", where, ref["receiver"],
                         " (defined: %s)" % ", ".join(sorted(self.receivers)) if self.receivers else " (none is defined)")
            return None
        route = {"receiver": ref["receiver"]}
        for key in ("mute_time_intervals", "active_time_intervals"):
            names = ref.get(key, inherited.get(key))
            if names:
                route[key] = self.interval_refs(names, "%s.%s" % (where, key))
        return route

    def interval_refs(self, names, where):
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            self.problem("%s must be a list of time interval names", where)
            return []
        for name in names:
            self.intervals.add((name, where))
        return list(names)

    def timing(self, target, source, where):
        for key in ("group_wait", "group_interval", "repeat_interval"):
            if key in source:
                if not _is_duration(source[key]):
                    self.problem("%s.%s must be a duration such as 30s or 4h, got %r", where, key, source[key])
                else:
                    target[key] = source[key]
        if "group_by" in source:
            target["group_by"] = self.group_by(source["group_by"], where + ".group_by")

    def group_by(self, value, where):
        if not isinstance(value, list) or not all(isinstance(v, str) and (v == "..." or _LABEL.match(v)) for v in value):
            self.problem("%s must be a list of label names (or ['...'] for no grouping), got %r", where, value)
            return []
        return list(value)

    def fan_out(self, route, spec, where, escalation):
        """Child routes sending to every receiver of `spec`, then the escalation route."""
        children = []
        refs = spec.get("receivers", [])
        if not isinstance(refs, list):
            self.problem("%s.receivers must be a list of receiver names", where)
            refs = []
        for index, ref in enumerate(refs):
            child = self.receiver_ref(ref, "%s.receivers[%d]" % (where, index), spec)
            if child is not None:
                children.append(child)
        if escalation:
            children.append(escalation)
        for child in children[:-1]:
            child["continue"] = True
        route["routes"] = children
        return bool(children)

    def escalation_route(self, receiver, where):
        if not receiver:
            return None
        if receiver not in self.receivers:
            self.problem("%s names receiver %r, which is not defined in alertmanager_receivers", where, receiver)
            return None
        after = self.s.get("escalation_after", "30m")
        if not _is_duration(after):
            self.problem("alertmanager_escalation_after must be a duration such as 30m, got %r", after)
        repeat = self.s.get("escalation_repeat_interval", "1h")
        if not _is_duration(repeat):
            self.problem("alertmanager_escalation_repeat_interval must be a duration such as 1h, got %r", repeat)
        # group_wait is how long the escalation route holds a new alert group
        # back; an alert that resolves before then is never sent to it.
        return {"receiver": receiver, "group_wait": after, "repeat_interval": repeat}

    def severity_route(self, severity, spec, where, matchers, escalation_receiver, escalation_where):
        if not isinstance(spec, dict) or set(spec) - _ROUTE_KEYS:
            self.problem("%s must be a dict with keys from %s, got %r", where, ", ".join(sorted(_ROUTE_KEYS)), spec)
            return None
        route = {"matchers": matchers + ['severity="%s"' % severity]}
        self.timing(route, spec, where)
        escalated = severity in (self.s.get("escalation_severities") or [])
        escalation = self.escalation_route(escalation_receiver, escalation_where) if escalated else None
        if escalation:
            # An alert muted for the route's receivers (at night, say) is not
            # escalated either.
            for key in ("mute_time_intervals", "active_time_intervals"):
                if spec.get(key):
                    escalation[key] = self.interval_refs(spec[key], "%s.%s" % (where, key))
        if not self.fan_out(route, spec, where, escalation):
            return None
        return route

    def build_routes(self):
        s = self.s
        routes = []
        extra = s.get("routes_extra") or []
        if not isinstance(extra, list) or not all(isinstance(r, dict) for r in extra):
            self.problem("alertmanager_routes_extra must be a list of Alertmanager routes")
        else:
            routes.extend(extra)

        watchdog = s.get("watchdog_receiver") or ""
        if watchdog and watchdog not in self.receivers:
            self.problem("alertmanager_watchdog_receiver names receiver %r, which is not defined in alertmanager_receivers",
                         watchdog)
        repeat = s.get("watchdog_repeat_interval", "1m")
        if not _is_duration(repeat):
            self.problem("alertmanager_watchdog_repeat_interval must be a duration such as 1m, got %r", repeat)
        # The heartbeat goes to the dead man's switch only, never to people.
        routes.append({"matchers": ['alertname="Watchdog"'], "receiver": watchdog or UNROUTED,
                       "group_wait": "0s", "group_interval": repeat, "repeat_interval": repeat})

        severities = s.get("severity_routes") or {}
        teams = s.get("team_routes") or []
        if not isinstance(teams, list):
            self.problem("alertmanager_team_routes must be a list of {team, severities, ...}")
            teams = []
        for index, team in enumerate(teams):
            where = "alertmanager_team_routes[%d]" % index
            if not isinstance(team, dict) or not isinstance(team.get("team"), str) or not team.get("team") \
                    or set(team) - _TEAM_KEYS or not isinstance(team.get("severities", {}), dict):
                self.problem("%s must be a dict with team (a name) and severities (severity -> {receivers, ...}); "
                             "allowed keys: %s", where, ", ".join(sorted(_TEAM_KEYS)))
                continue
            matchers = team.get("matchers", ['team="%s"' % team["team"]])
            if not isinstance(matchers, list) or not all(isinstance(m, str) for m in matchers):
                self.problem("%s.matchers must be a list of matcher strings such as team=\"db\"", where)
                continue
            escalation_receiver = team.get("escalation_receiver", s.get("escalation_receiver") or "")
            escalation_where = where + ".escalation_receiver" if "escalation_receiver" in team \
                else "alertmanager_escalation_receiver"
            for severity, spec in sorted(team["severities"].items()):
                # A team route takes the timings of the severity route of the
                # same severity unless it sets its own.
                inherited = severities.get(severity) if isinstance(severities, dict) else None
                if isinstance(spec, dict) and isinstance(inherited, dict):
                    spec = dict(dict((k, v) for k, v in inherited.items() if k in _TIMING_KEYS), **spec)
                route = self.severity_route(str(severity), spec, "%s.severities.%s" % (where, severity), list(matchers),
                                            escalation_receiver, escalation_where)
                if route is not None:
                    if team.get("continue"):
                        route["continue"] = True
                    routes.append(route)

        if not isinstance(severities, dict):
            self.problem("alertmanager_severity_routes must be a dict of severity -> {receivers, group_wait, ...}")
            severities = {}
        for severity, spec in sorted(severities.items()):
            route = self.severity_route(str(severity), spec, "alertmanager_severity_routes.%s" % severity, [],
                                        s.get("escalation_receiver") or "", "alertmanager_escalation_receiver")
            if route is not None:
                routes.append(route)

        default = s.get("default_receiver") or ""
        if default and default not in self.receivers:
            self.problem("alertmanager_default_receiver names receiver %r, which is not defined in alertmanager_receivers",
                         default)
        top = {"receiver": default or UNROUTED,
               "group_by": self.group_by(s.get("group_by", ["alertname", "job", "service"]), "alertmanager_group_by")}
        for key in ("group_wait", "group_interval", "repeat_interval"):
            value = s.get(key)
            if not _is_duration(value):
                self.problem("alertmanager_%s must be a duration such as 30s, got %r", key, value)
            else:
                top[key] = value
        top["routes"] = routes
        return top

    def build_intervals(self):
        declared = self.s.get("time_intervals") or {}
        if not isinstance(declared, dict) or not all(isinstance(v, list) for v in declared.values()):
            self.problem("alertmanager_time_intervals must be a dict of name -> list of Alertmanager time interval "
                         "specifications (times, weekdays, days_of_month, months, years, location)")
            declared = {}
        for name, where in sorted(self.intervals):
            if name not in declared:
                self.problem("%s names time interval %r, which alertmanager_time_intervals does not define%s", where, name,
                             " (defined: %s)" % ", ".join(sorted(declared)) if declared else "")
        return [{"name": name, "time_intervals": spec} for name, spec in sorted(declared.items())]


def alertmanager_config(settings):
    """Return {config, problems, has_secrets, secrets} for the role settings `settings` (a dict)."""
    if not isinstance(settings, dict):
        raise AnsibleFilterError("alertmanager_config: expects a dict of settings")
    b = _Builder(settings)
    b.build_receivers()
    route = b.build_routes()
    intervals = b.build_intervals()

    glob = {"resolve_timeout": settings.get("resolve_timeout", "5m")}
    if not _is_duration(glob["resolve_timeout"]):
        b.problem("alertmanager_resolve_timeout must be a duration such as 5m, got %r", glob["resolve_timeout"])
    smtp = settings.get("smtp") or {}
    if not isinstance(smtp, dict):
        b.problem("alertmanager_smtp must be a dict (smarthost, from, auth_username, auth_password, require_tls, hello)")
        smtp = {}
    allowed = ("smarthost", "from", "auth_username", "auth_password", "auth_password_file", "auth_identity",
               "require_tls", "hello")
    unknown = sorted(set(smtp) - set(allowed))
    if unknown:
        b.problem("alertmanager_smtp: unknown keys %s; allowed: %s", ", ".join(unknown), ", ".join(allowed))
    for key in allowed:
        if key in smtp and smtp[key] not in ("", None):
            glob["smtp_" + key] = smtp[key]
    if smtp.get("auth_password"):
        b.secrets.append(str(smtp["auth_password"]))
    if smtp.get("smarthost") and not re.match(r"^[^\s:]+:[0-9]{1,5}$|^\[[0-9A-Fa-f:.]+\]:[0-9]{1,5}$", str(smtp["smarthost"])):
        b.problem("alertmanager_smtp.smarthost must be host:port, got %r", smtp["smarthost"])
    extra = settings.get("global_extra") or {}
    if not isinstance(extra, dict):
        b.problem("alertmanager_global_extra must be a dict of Alertmanager global settings")
    else:
        glob.update(extra)
        if extra:
            b.secrets.append(None)

    inhibit = []
    for var in ("inhibit_rules", "inhibit_rules_extra"):
        rules = settings.get(var) or []
        if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
            b.problem("alertmanager_%s must be a list of Alertmanager inhibit rules", var)
            continue
        for index, rule in enumerate(rules):
            if not rule.get("source_matchers") or not rule.get("target_matchers"):
                b.problem("alertmanager_%s[%d] needs source_matchers and target_matchers", var, index)
            inhibit.append(rule)

    receivers = [{"name": UNROUTED}] + [b.receivers[name] for name in sorted(b.receivers)]
    config = {"global": glob, "route": route, "receivers": receivers, "inhibit_rules": inhibit,
              "templates": list(settings.get("templates") or [])}
    if intervals:
        config["time_intervals"] = intervals
    secrets = sorted(set(s for s in b.secrets if s))
    return {"config": config, "problems": b.problems, "has_secrets": len(b.secrets) > 0, "secrets": secrets}


def alertmanager_cluster_peers(groups, hostvars, self_host, group, default_port=9094):
    """The gossip addresses of the other members of the cluster `group`, from the inventory.

    A member's address is the host of its alertmanager_cluster_listen_address
    when that names one, else the address other hosts reach it by
    (vigil_address, ansible_host, inventory hostname). Empty when `self_host`
    is not in the group or is its only member (gossip off). A member that
    gossips on loopback cannot be reached by the others: an error.
    """
    members = list((groups or {}).get(group, []))
    if self_host not in members or len(members) < 2:
        return []
    peers = []
    for name in members:
        if name == self_host:
            continue
        get = hostvars_getter(hostvars, name)
        bind, port = "", default_port
        listen = get("alertmanager_cluster_listen_address")
        if listen and split_listen(listen):
            bind, port = split_listen(listen)
        address = reach_address(bind, host_address(get, name), same_host=False)
        if address is None:
            raise AnsibleFilterError("alertmanager_cluster_peers: host %s gossips on %s only "
                                     "(alertmanager_cluster_listen_address), which the other members of %s cannot reach"
                                     % (name, listen, group))
        peers.append("%s:%d" % (address, port))
    return sorted(peers)


class FilterModule(object):
    def filters(self):
        return {
            "alertmanager_config": alertmanager_config,
            "alertmanager_cluster_peers": alertmanager_cluster_peers,
        }
