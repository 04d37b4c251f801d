# Copyright: vigil.observability maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build Prometheus scrape jobs, file_sd targets and alerting from the inventory.

Everything the prometheus role scrapes comes from here: exporters found by
inventory group (their address, TLS and basic auth read from the exporter
roles' own variables), services declared in ``vigil_services``, blackbox
probes declared in ``vigil_probes`` and the Alertmanagers to alert. The plan
is plain data; the role renders it into prometheus.yml and file_sd files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re

from ansible.errors import AnsibleFilterError
from ansible_collections.vigil.observability.plugins.plugin_utils._data import shape_problem
from ansible_collections.vigil.observability.plugins.plugin_utils._endpoints import bracket, host_address, host_var, reach

_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_JOB = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
_METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
_SERVICE_KEYS = frozenset(("name", "port", "path", "scheme", "labels", "address", "interval", "timeout", "business_events",
                           "latency_buckets"))
_PROBE_KEYS = frozenset(("target", "module", "labels"))
_EXPORTER_KEYS = frozenset(("job", "group", "role", "port", "path", "honor_labels"))


def _password_id(password):
    return hashlib.sha256(password.encode("utf-8")).hexdigest()[:12] if password else ""


class _Plan(object):
    def __init__(self, hostvars, groups, self_host, self_vars, scrape_user, paths, tls):
        self.hostvars = hostvars
        self.groups = groups
        self.self_host = self_host
        self.self_vars = self_vars or {}
        self.scrape_user = scrape_user
        self.paths = paths
        self.tls = tls or {}
        self.problems = []
        self.secrets = {}
        self.file_sd = {}
        self.scrape_configs = []
        self.latency_buckets = {}
        self._hv_cache = {}

    # -- reading hosts --------------------------------------------------------
    def host(self, name):
        hv = self._hv_cache.get(name)
        if hv is None:
            try:
                hv = self.hostvars[name]
            except KeyError:
                hv = {}
            self._hv_cache[name] = hv
        return hv

    def var(self, name, key, default=None):
        if name == self.self_host and key in self.self_vars:
            value = self.self_vars[key]
            return default if value is None else value
        return host_var(self.host(name), key, default)

    def getter(self, name):
        """``get(key, default)`` for the variables of host `name` (this host's own from self_vars first)."""
        return lambda key, default=None: self.var(name, key, default)

    def labels_of(self, name, where, extra):
        labels = {}
        for source, values in (("vigil_labels", self.var(name, "vigil_labels", {})), (where, extra)):
            if not isinstance(values, dict):
                self.problems.append("%s on host %s must be a dict of label names to values" % (source, name))
                continue
            for key, value in values.items():
                if not _LABEL.match(str(key)) or str(key).startswith("__"):
                    self.problems.append(
                        "%s on host %s: label name %r must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __" % (source, name, key))
                elif key in ("job", "instance"):
                    self.problems.append("%s on host %s sets the reserved label %r" % (source, name, key))
                else:
                    labels[str(key)] = str(value)
        return labels

    def endpoint(self, name, role, default_port, default_path="/metrics"):
        """Where and how this Prometheus reaches the component `role` on host `name`, from that role's variables."""
        found, problem = reach(self.getter(name), name, role, default_port, client_host=self.self_host,
                               user=self.scrape_user, user_var="prometheus_scrape_user", client="Prometheus")
        if problem:
            self.problems.append(problem)
            return None
        if found["client_cert"] and not self.tls.get("client_cert"):
            self.problems.append(
                "host %s requires client certificates for %s (%s_tls_client_auth_type); set prometheus_scrape_tls_client_cert "
                "and prometheus_scrape_tls_client_key" % (name, role, role))
            return None
        path = self.var(name, role + "_web_telemetry_path") or default_path
        return {
            "address": found["address"],
            "scheme": found["scheme"],
            "path": str(path),
            "username": found["username"],
            "password": found["password"],
            "client_cert": found["client_cert"],
        }

    # -- building jobs ---------------------------------------------------------
    def add_job(self, job, members, settings=None, common=None):
        """Add scrape configs for `job`: one per distinct way of connecting (scheme, path, credentials).

        members: list of (endpoint, target group) pairs. A job whose targets
        differ in scheme, path or credentials is split into job, job__2, ...
        with the job label kept as `job`.
        """
        variants = {}
        for endpoint, group in members:
            key = (endpoint["scheme"], endpoint["path"], endpoint["username"], _password_id(endpoint["password"]),
                   endpoint["client_cert"], tuple(sorted((settings or {}).get(id(group), {}).items())))
            variants.setdefault(key, (endpoint, []))[1].append(group)
        for index, key in enumerate(sorted(variants)):
            endpoint, target_groups = variants[key]
            name = job if index == 0 else "%s__%d" % (job, index + 1)
            config = {
                "job_name": name,
                "scheme": endpoint["scheme"],
                "metrics_path": endpoint["path"],
                "file_sd_configs": [{"files": ["%s/%s.json" % (self.paths["file_sd_dir"], name)], "refresh_interval": "1m"}],
            }
            config.update(common or {})
            for setting, value in key[5]:
                config[setting] = value
            if name != job:
                config["relabel_configs"] = [{"target_label": "job", "replacement": job}]
            if endpoint["username"]:
                secret = "%s.password" % name
                self.secrets[secret] = endpoint["password"]
                config["basic_auth"] = {"username": endpoint["username"],
                                        "password_file": "%s/%s" % (self.paths["secrets_dir"], secret)}
            if endpoint["scheme"] == "https":
                config["tls_config"] = self.tls_config(endpoint["client_cert"])
            self.scrape_configs.append(config)
            self.file_sd["%s.json" % name] = sorted(target_groups, key=lambda g: (g["labels"]["instance"], g["targets"]))

    def tls_config(self, client_cert):
        tls = {}
        if self.tls.get("ca"):
            tls["ca_file"] = "%s/scrape_ca.pem" % self.paths["tls_dir"]
        if client_cert:
            tls["cert_file"] = "%s/scrape_client.pem" % self.paths["tls_dir"]
            tls["key_file"] = "%s/scrape_client.key" % self.paths["tls_dir"]
        if self.tls.get("insecure_skip_verify"):
            tls["insecure_skip_verify"] = True
        return tls


def _check_exporters(exporters):
    problems = []
    if not isinstance(exporters, list):
        return ["prometheus_exporters must be a list"]
    jobs = set()
    for index, entry in enumerate(exporters):
        where = "prometheus_exporters[%d]" % index
        problem = shape_problem(entry, where, _EXPORTER_KEYS, "a dict with job, group, role and port")
        if problem:
            problems.append(problem)
            continue
        missing = set(("job", "group", "role", "port")) - set(entry)
        if missing:
            problems.append("%s needs %s" % (where, ", ".join(sorted(missing))))
            continue
        if not _JOB.match(str(entry["job"])):
            problems.append("%s job %r must match [a-zA-Z0-9][a-zA-Z0-9_.-]*" % (where, entry["job"]))
        if entry["job"] in jobs:
            problems.append("%s repeats job %r" % (where, entry["job"]))
        jobs.add(entry["job"])
        if not isinstance(entry["port"], int) or not 1 <= entry["port"] <= 65535:
            problems.append("%s port must be 1 to 65535, got %r" % (where, entry["port"]))
    return problems


def prometheus_scrape_plan(groups, hostvars, exporters, self_host, self_vars=None, scrape_user="prometheus",
                           paths=None, tls=None, job_overrides=None, services_var="vigil_services",
                           probes_var="vigil_probes"):
    """Return the scrape plan for the Prometheus server `self_host`.

    Result keys: scrape_configs (list), file_sd (file name -> target groups),
    secrets (file name -> password), alertmanagers (alerting.alertmanagers
    entries), rule_groups (generated recording rules), services (service name ->
    {latency_buckets}: what the SLO checks need), problems (messages).
    """
    if not isinstance(groups, dict):
        raise AnsibleFilterError("prometheus_scrape_plan: expects the groups dict as input")
    paths = paths or {"file_sd_dir": "/etc/prometheus/file_sd", "secrets_dir": "/etc/prometheus/secrets",
                      "tls_dir": "/etc/prometheus/tls"}
    plan = _Plan(hostvars, groups, self_host, self_vars, scrape_user, paths, tls)
    plan.problems.extend(_check_exporters(exporters))
    if plan.problems:
        return _result(plan, [], {}, {})
    job_overrides = job_overrides or {}
    all_hosts = list(groups.get("all", []))

    probers = []
    alertmanagers = []
    for entry in exporters:
        hosts = list(all_hosts if entry["group"] == "all" else groups.get(entry["group"], []))
        if entry["role"] == "prometheus" and self_host not in hosts:
            hosts.append(self_host)
        members = []
        for name in hosts:
            endpoint = plan.endpoint(name, entry["role"], entry["port"], entry.get("path", "/metrics"))
            if endpoint is None:
                continue
            members.append((endpoint, {"targets": [endpoint["address"]],
                                       "labels": dict(plan.labels_of(name, "vigil_labels", {}), instance=name)}))
            if entry["role"] == "blackbox_exporter":
                probers.append((name, endpoint))
            if entry["role"] == "alertmanager":
                alertmanagers.append(endpoint)
        if members:
            plan.add_job(entry["job"], members, common={"honor_labels": True} if entry.get("honor_labels") else None)

    exporter_jobs = set(entry["job"] for entry in exporters)
    services = {}
    business = {}
    probes = {}
    for name in all_hosts:
        declared = plan.var(name, services_var, []) or []
        if not isinstance(declared, list):
            plan.problems.append("%s on host %s must be a list" % (services_var, name))
            declared = []
        for index, service in enumerate(declared):
            _add_service(plan, name, index, service, services_var, exporter_jobs, services, business)
        declared = plan.var(name, probes_var, []) or []
        if not isinstance(declared, list):
            plan.problems.append("%s on host %s must be a list" % (probes_var, name))
            declared = []
        for index, probe in enumerate(declared):
            _add_probe(plan, name, index, probe, probes_var, probes)

    for job in sorted(services):
        members = [(found, group) for found, group, _settings in services[job]]
        settings = dict((id(group), job_settings) for _endpoint, group, job_settings in services[job])
        plan.add_job(job, members, settings)

    if probes:
        if not probers:
            plan.problems.append(
                "%s declares probes (%s) but no host of the blackbox_exporter group runs a prober"
                % (probes_var, ", ".join(sorted("%s %s" % (m, t) for m, t in probes)[:3])))
        members = []
        for (module, target), labels in sorted(probes.items()):
            for prober, endpoint in probers:
                group_labels = dict(labels, instance=target, module=module, prober=prober)
                group_labels["__param_target"] = target
                group_labels["__param_module"] = module
                members.append((dict(endpoint, path="/probe"), {"targets": [endpoint["address"]], "labels": group_labels}))
        if members:
            plan.add_job("blackbox", members)

    known = set(config["job_name"].split("__")[0] for config in plan.scrape_configs)
    for job, override in sorted(job_overrides.items()):
        if job not in known and job not in exporter_jobs:
            plan.problems.append("prometheus_job_overrides names job %r, which the inventory does not produce; jobs: %s"
                                 % (job, ", ".join(sorted(known))))
            continue
        if not isinstance(override, dict):
            plan.problems.append("prometheus_job_overrides[%r] must be a dict of scrape_config settings" % job)
            continue
        reserved = set(override) & set(("job_name", "file_sd_configs", "static_configs", "basic_auth", "scheme", "metrics_path"))
        if reserved:
            plan.problems.append("prometheus_job_overrides[%r] sets %s, which the role derives from the inventory"
                                 % (job, ", ".join(sorted(reserved))))
            continue
        for config in plan.scrape_configs:
            if config["job_name"] == job or config["job_name"].startswith(job + "__"):
                config.update(override)

    return _result(plan, alertmanagers, business, services)


def _add_service(plan, host, index, service, var, exporter_jobs, services, business):
    where = "%s[%d] on host %s" % (var, index, host)
    problem = shape_problem(service, where, _SERVICE_KEYS, "a dict with at least name and port")
    if problem:
        plan.problems.append(problem)
        return
    name = service.get("name")
    if not isinstance(name, str) or not _JOB.match(name):
        plan.problems.append("%s: name must match [a-zA-Z0-9][a-zA-Z0-9_.-]*, got %r" % (where, name))
        return
    if name in exporter_jobs or name == "blackbox":
        plan.problems.append("%s: name %r is the job name of an exporter; choose another service name" % (where, name))
        return
    port = service.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        plan.problems.append("%s: port must be a number from 1 to 65535, got %r" % (where, port))
        return
    path = service.get("path", "/metrics")
    if not isinstance(path, str) or not path.startswith("/"):
        plan.problems.append("%s: path must start with /, got %r" % (where, path))
        return
    scheme = service.get("scheme", "http")
    if scheme not in ("http", "https"):
        plan.problems.append("%s: scheme must be http or https, got %r" % (where, scheme))
        return
    job_settings = {}
    for key, setting in (("interval", "scrape_interval"), ("timeout", "scrape_timeout")):
        if key in service:
            if not _DURATION.match(str(service[key])):
                plan.problems.append("%s: %s must be a Prometheus duration such as 30s or 1m, got %r" % (where, key, service[key]))
                return
            job_settings[setting] = str(service[key])
    address = service.get("address") or host_address(plan.getter(host), host)
    labels = plan.labels_of(host, where + " labels", service.get("labels", {}))
    labels.update(instance=host, service=name)
    target = {"address": "%s:%d" % (bracket(address), port), "scheme": scheme, "path": path,
              "username": "", "password": "", "client_cert": False}
    buckets = service.get("latency_buckets")
    if buckets is not None:
        if (not isinstance(buckets, list) or not buckets
                or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and b > 0 for b in buckets)):
            plan.problems.append("%s: latency_buckets must list the positive upper bounds (seconds) of the service's "
                                 "http_request_duration_seconds buckets, got %r" % (where, buckets))
            return
        previous = plan.latency_buckets.setdefault(name, sorted(float(b) for b in buckets))
        if previous != sorted(float(b) for b in buckets):
            plan.problems.append("%s: latency_buckets of service %s differ from those declared on another host" % (where, name))
            return
    services.setdefault(name, []).append((target, {"targets": [target["address"]], "labels": labels}, job_settings))
    events = service.get("business_events", {})
    if not isinstance(events, dict):
        plan.problems.append("%s: business_events must map event names to counter metric names" % where)
        return
    for event, metric in events.items():
        if not _LABEL.match(str(event)) or not isinstance(metric, str) or not _METRIC.match(metric):
            plan.problems.append("%s: business_events entry %r: %r must be an event name and a counter metric name"
                                 % (where, event, metric))
            continue
        previous = business.setdefault((name, str(event)), metric)
        if previous != metric:
            plan.problems.append("%s: business event %r of service %s is counted by %s here and by %s elsewhere"
                                 % (where, event, name, metric, previous))


def _add_probe(plan, host, index, probe, var, probes):
    where = "%s[%d] on host %s" % (var, index, host)
    if isinstance(probe, str):
        probe = {"target": probe}
    problem = shape_problem(probe, where, _PROBE_KEYS, "a URL or a dict with target, module and labels")
    if problem:
        plan.problems.append(problem)
        return
    target = probe.get("target")
    if not isinstance(target, str) or not target:
        plan.problems.append("%s: target must be a URL or host:port, got %r" % (where, target))
        return
    module = probe.get("module", "http_2xx")
    if not isinstance(module, str) or not _LABEL.match(module):
        plan.problems.append("%s: module must be a blackbox module name such as http_2xx, got %r" % (where, module))
        return
    labels = probe.get("labels", {})
    if not isinstance(labels, dict):
        plan.problems.append("%s: labels must be a dict" % where)
        return
    checked = {}
    for key, value in labels.items():
        if not _LABEL.match(str(key)) or str(key).startswith("__") or key in ("job", "instance", "module", "prober"):
            plan.problems.append("%s: label name %r is not allowed" % (where, key))
            return
        checked[str(key)] = str(value)
    previous = probes.setdefault((module, target), checked)
    if previous != checked:
        plan.problems.append("%s: probe %s %s is declared elsewhere with other labels" % (where, module, target))


def _result(plan, alertmanagers, business, services):
    alerting = {}
    for endpoint in alertmanagers:
        key = (endpoint["scheme"], endpoint["path"], endpoint["username"], _password_id(endpoint["password"]), endpoint["client_cert"])
        alerting.setdefault(key, (endpoint, []))[1].append(endpoint["address"])
    managers = []
    for index, key in enumerate(sorted(alerting)):
        endpoint, targets = alerting[key]
        entry = {"api_version": "v2", "scheme": endpoint["scheme"], "static_configs": [{"targets": sorted(targets)}]}
        if endpoint["username"]:
            secret = "alertmanager-%d.password" % (index + 1)
            plan.secrets[secret] = endpoint["password"]
            entry["basic_auth"] = {"username": endpoint["username"], "password_file": "%s/%s" % (plan.paths["secrets_dir"], secret)}
        if endpoint["scheme"] == "https":
            entry["tls_config"] = plan.tls_config(endpoint["client_cert"])
        managers.append(entry)
    rules = []
    for (service, event), metric in sorted(business.items()):
        rules.append({
            "record": "vigil:business_events:rate5m",
            "expr": 'sum by (job, service) (rate(%s{job="%s"}[5m]))' % (metric, service),
            "labels": {"event": event},
        })
    return {
        "scrape_configs": plan.scrape_configs,
        "file_sd": plan.file_sd,
        "secrets": plan.secrets,
        "alertmanagers": managers,
        "rule_groups": [{"name": "vigil-business-events", "rules": rules}] if rules else [],
        "services": dict((name, {"latency_buckets": plan.latency_buckets.get(name)}) for name in sorted(services)),
        "problems": plan.problems,
    }


def config_paths(data, found=None, trail="config"):
    """Every value of a key ending in _file or _files in a nested structure, as (where, path) pairs."""
    found = [] if found is None else found
    if isinstance(data, dict):
        for key, value in data.items():
            where = "%s.%s" % (trail, key)
            if isinstance(key, str) and key.endswith("_file") and isinstance(value, str):
                found.append([where, value])
            elif isinstance(key, str) and key in ("files", "rule_files") and isinstance(value, list):
                found.extend([where, v] for v in value if isinstance(v, str))
            else:
                config_paths(value, found, where)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            config_paths(value, found, "%s[%d]" % (trail, index))
    return found


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_PART = re.compile(r"([0-9]+)(ms|s|m|h|d|w|y)")


def duration_seconds(value):
    """A Prometheus duration such as 1h30m, in seconds."""
    text = str(value)
    if not _DURATION.match(text):
        raise AnsibleFilterError("duration_seconds: %r is not a Prometheus duration such as 15s or 1h30m" % (value,))
    return sum(int(number) * _UNITS[unit] for number, unit in _PART.findall(text))


def mount_of(mounts, path):
    """The entry of ansible_facts.mounts holding `path` (longest mount point that contains it), or {}."""
    best = {}
    for entry in mounts or []:
        point = entry.get("mount", "")
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and (not best or len(point) > len(best["mount"])):
            best = entry
    return best


def secret_fields(entries, secrets_dir, prefix):
    """Move inline secrets of remote_write-style entries into files.

    basic_auth.password becomes basic_auth.password_file and
    authorization.credentials becomes authorization.credentials_file, in
    `secrets_dir`. Returns {"config": entries, "secrets": {file name: secret}}.
    """
    config, secrets = [], {}
    for index, entry in enumerate(entries or []):
        entry = dict(entry)
        for block, field in (("basic_auth", "password"), ("authorization", "credentials"), ("oauth2", "client_secret")):
            if isinstance(entry.get(block), dict) and field in entry[block]:
                values = dict(entry[block])
                name = "%s-%d.%s" % (prefix, index + 1, field)
                secrets[name] = str(values.pop(field))
                values[field + "_file"] = "%s/%s" % (secrets_dir, name)
                entry[block] = values
        config.append(entry)
    return {"config": config, "secrets": secrets}


class FilterModule(object):
    """Prometheus configuration filters."""

    def filters(self):
        return {
            "prometheus_scrape_plan": prometheus_scrape_plan,
            "config_paths": config_paths,
            "duration_seconds": duration_seconds,
            "mount_of": mount_of,
            "secret_fields": secret_fields,
        }
