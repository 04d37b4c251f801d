#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: grafana_datasource
short_description: Create, update or delete a Grafana datasource, with write-only secrets and an optional health check
version_added: 0.1.0
description:
  - Manages one datasource through Grafana's data source HTTP API, found by O(uid) when given, else by O(name).
  - The options given are compared with the datasource in Grafana; options left unset keep their current value.
    O(json_data), when given, is the whole C(jsonData) object.
  - Secure values (O(secure_json_data), O(basic_auth_password)) are write-only. Grafana never returns them, only
    which keys are set (C(secureJsonFields)), so they cannot be compared. With O(secure_update=on_create) a secure key
    is sent only when Grafana has no value for it yet; with O(secure_update=always) every secure value is sent on
    every run, which then always reports a change. Secure values never appear in the result or the diff; the diff
    shows V((write-only)) for each key that is sent.
  - With O(health_check=true) the module then asks Grafana to test the datasource
    (C(GET /api/datasources/uid/<uid>/health)) and fails with Grafana's answer when the test fails.
author: vigil.observability maintainers (@vigil-observability)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vigil.observability.grafana
options:
  name:
    description: The datasource's name, unique in the organisation. Required for O(state=present).
    type: str
  uid:
    description:
      - The datasource's uid, which dashboards refer to. Recommended, so that dashboards and the datasource can be
        provisioned in any order. When not set, Grafana makes one up and the datasource is found by O(name).
    type: str
  type:
    description:
      - The datasource plugin id, for example V(prometheus), V(alertmanager), V(elasticsearch), V(jaeger), V(loki) or
        V(tempo). Required to create the datasource.
    type: str
  datasource_url:
    description:
      - The URL Grafana (access V(proxy)) or the browser (access V(direct)) uses to reach the datasource, for example
        V(http://127.0.0.1:9090) for Prometheus.
      - Named so because O(url) is Grafana's own URL, as in every module of this collection.
    type: str
    aliases: [ds_url]
  access:
    description: V(proxy) (Grafana's server makes the requests; the usual choice) or V(direct) (the browser does).
    type: str
    choices: [proxy, direct]
    default: proxy
  is_default:
    description: Whether this is the organisation's default datasource.
    type: bool
    default: false
  basic_auth_user:
    description: User for basic auth towards the datasource. An empty string switches basic auth off.
    type: str
  basic_auth_password:
    description: Password for basic auth towards the datasource, stored as the secure field C(basicAuthPassword).
    type: str
  json_data:
    description:
      - The plugin's settings (C(jsonData)), for example C(httpMethod), C(timeInterval) and C(prometheusType) for
        Prometheus, C(implementation) and C(handleGrafanaManagedAlerts) for Alertmanager, C(index), C(timeField) and
        C(maxConcurrentShardRequests) for Elasticsearch, C(tracesToLogsV2) for Jaeger, C(tlsAuthWithCACert) for TLS.
      - When set, it replaces the whole C(jsonData); when not set, the current one is kept.
    type: dict
  secure_json_data:
    description:
      - Secure settings (C(secureJsonData)), for example C(httpHeaderValue1), C(password) or C(tlsCACert).
        Write-only, see the description.
    type: dict
  secure_update:
    description:
      - V(on_create) sends a secure value only when Grafana has no value for that key yet (idempotent; a changed
        secret is not noticed). V(always) sends every secure value on every run (picks up rotated secrets; always
        reports a change).
    type: str
    choices: [on_create, always]
    default: on_create
  health_check:
    description:
      - After the datasource is written (or found unchanged), ask Grafana to test it and fail when the test fails.
        Needs a plugin that implements a backend health check (Prometheus, Elasticsearch, Loki, Tempo, Jaeger and
        most core datasources do).
      - Not done in check mode when the datasource would change.
    type: bool
    default: false
  state:
    description: V(present) creates or updates the datasource, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Only GET requests are sent.
  diff_mode:
    support: full
    details: Secure values are shown as V((write-only)).
  platform:
    platforms: posix
notes:
  - Managing datasources needs the organisation's Admin role (C(datasources:write)).
seealso:
  - name: Grafana data source HTTP API
    description: The API this module uses.
    link: https://grafana.com/docs/grafana/latest/developers/http_api/data_source/
"""

EXAMPLES = r"""
- name: Prometheus, checked after it is written
  vigil.observability.grafana_datasource:
    url: http://127.0.0.1:3000
    token: "{{ grafana_api_token }}"
    name: Prometheus
    uid: prometheus
    type: prometheus
    datasource_url: http://127.0.0.1:9090
    is_default: true
    json_data:
      httpMethod: POST
      timeInterval: 15s
      prometheusType: Prometheus
    health_check: true

- name: Prometheus behind basic auth, with a CA
  vigil.observability.grafana_datasource:
    url: http://127.0.0.1:3000
    token: "{{ grafana_api_token }}"
    name: Prometheus
    uid: prometheus
    type: prometheus
    datasource_url: https://prometheus.example.com:9090
    access: proxy
    basic_auth_user: grafana
    basic_auth_password: "{{ vault_prometheus_grafana_password }}"
    json_data:
      httpMethod: POST
      tlsAuthWithCACert: true
    secure_json_data:
      tlsCACert: "{{ lookup('ansible.builtin.file', 'ca.crt') }}"

- name: Alertmanager
  vigil.observability.grafana_datasource:
    url: http://127.0.0.1:3000
    token: "{{ grafana_api_token }}"
    name: Alertmanager
    uid: alertmanager
    type: alertmanager
    datasource_url: http://127.0.0.1:9093
    json_data:
      implementation: prometheus
      handleGrafanaManagedAlerts: false

- name: Elasticsearch logs
  vigil.observability.grafana_datasource:
    url: http://127.0.0.1:3000
    token: "{{ grafana_api_token }}"
    name: Elasticsearch logs
    uid: elasticsearch-logs
    type: elasticsearch
    datasource_url: http://127.0.0.1:9200
    json_data:
      index: "logs-*"
      timeField: "@timestamp"
      maxConcurrentShardRequests: 5

- name: Jaeger traces
  vigil.observability.grafana_datasource:
    url: http://127.0.0.1:3000
    token: "{{ grafana_api_token }}"
    name: Jaeger
    uid: jaeger
    type: jaeger
    datasource_url: http://127.0.0.1:16686
    json_data:
      tracesToLogsV2:
        datasourceUid: elasticsearch-logs

- name: Remove an old datasource
  vigil.observability.grafana_datasource:
    url: http://127.0.0.1:3000
    token: "{{ grafana_api_token }}"
    name: Old Prometheus
    state: absent
"""

RETURN = r"""
datasource:
  description: The datasource after the run, without secure values (empty after a deletion).
  returned: always
  type: dict
  contains:
    uid:
      description: The datasource's uid.
      type: str
      sample: prometheus
    name:
      description: The datasource's name.
      type: str
      sample: Prometheus
    type:
      description: The plugin id.
      type: str
      sample: prometheus
    url:
      description: The datasource's URL.
      type: str
      sample: http://127.0.0.1:9090
    is_default:
      description: Whether it is the default datasource.
      type: bool
      sample: true
    secure_json_fields:
      description: The secure keys that have a value in Grafana (never the values).
      type: list
      elements: str
      sample: [basicAuthPassword]
action:
  description: What was done (or, in check mode, would be done).
  returned: always
  type: str
  choices: [created, updated, unchanged, deleted]
  sample: unchanged
changed_keys:
  description: The API fields that differ (secure keys that are sent included), for V(updated).
  returned: when action is updated
  type: list
  elements: str
  sample: [jsonData, secureJsonData.password]
health:
  description: Grafana's answer to the health check.
  returned: when O(health_check=true) and the check ran
  type: dict
  sample: {status: OK, message: Successfully queried the Prometheus API.}
"""

import urllib.parse

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vigil.observability.plugins.module_utils.grafana_api import (
    GrafanaAPIError,
    GrafanaClient,
    finish,
    diff_pair,
    grafana_argument_spec,
)

WRITE_ONLY = "(write-only)"
KEPT_FIELDS = ("name", "uid", "type", "access", "url", "user", "database", "basicAuth", "basicAuthUser",
               "withCredentials", "isDefault", "jsonData")


def secure_fields(current):
    return sorted(key for key, value in ((current or {}).get("secureJsonFields") or {}).items() if value)


def summary(ds):
    if not ds:
        return {}
    return {"uid": ds.get("uid"), "name": ds.get("name"), "type": ds.get("type"), "url": ds.get("url"),
            "id": ds.get("id"), "is_default": bool(ds.get("isDefault")), "secure_json_fields": secure_fields(ds)}


def shown(ds, sent=()):
    """The compared fields of a datasource for the diff, secure values as (write-only)."""
    if not ds:
        return {}
    view = {key: ds.get(key) for key in KEPT_FIELDS if key in ds}
    view["secureJsonFields"] = sorted(set(secure_fields(ds)) | set(sent))
    if sent:
        view["secureJsonData"] = {key: WRITE_ONLY for key in sorted(sent)}
    return view


class Datasource:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.client = GrafanaClient(module.params, check_mode=module.check_mode)
        p = self.params
        ident = "uid %r" % p["uid"] if p["uid"] else "%r" % p["name"]
        self.what = "datasource %s" % ident

    def read(self):
        p = self.params
        if p["uid"]:
            return self.client.get("/api/datasources/uid/%s" % urllib.parse.quote(p["uid"], safe=""), self.what,
                                   missing_ok=True)
        return self.client.get("/api/datasources/name/%s" % urllib.parse.quote(p["name"], safe=""), self.what,
                               missing_ok=True)

    def desired(self):
        p = self.params
        want = {"name": p["name"], "type": p["type"], "url": p["datasource_url"], "access": p["access"],
                "isDefault": p["is_default"], "jsonData": p["json_data"]}
        if p["uid"]:
            want["uid"] = p["uid"]
        if p["basic_auth_user"] is not None:
            want["basicAuth"] = bool(p["basic_auth_user"])
            want["basicAuthUser"] = p["basic_auth_user"]
        return {key: value for key, value in want.items() if value is not None}

    def secure(self):
        p = self.params
        values = dict(p["secure_json_data"] or {})
        if p["basic_auth_password"]:
            values["basicAuthPassword"] = p["basic_auth_password"]
        return {key: "" if value is None else str(value) for key, value in values.items()}

    def health(self, uid):
        what = self.what + " (health check)"
        answer = self.client.request("GET", "/api/datasources/uid/%s/health" % urllib.parse.quote(uid, safe=""), what,
                                     expected=(200, 400, 500))
        answer = answer if isinstance(answer, dict) else {}
        result = {"status": answer.get("status") or "UNKNOWN", "message": answer.get("message") or ""}
        return result

    def run(self):
        p = self.params
        if not p["name"] and not p["uid"]:
            raise GrafanaAPIError("datasource: set name or uid")
        current = self.read()
        if p["state"] == "absent":
            if current is None:
                return dict(changed=False, action="unchanged", datasource={})
            if not self.module.check_mode:
                self.client.request("DELETE", "/api/datasources/uid/%s" % urllib.parse.quote(current["uid"], safe=""),
                                    self.what, missing_ok=True)
            return dict(changed=True, action="deleted", datasource={}, diff=diff_pair(shown(current), {}))

        if not p["name"]:
            raise GrafanaAPIError("%s: name is required for state=present" % self.what)
        want = self.desired()
        secure = self.secure()
        if current is None:
            if not p["type"]:
                raise GrafanaAPIError("%s: does not exist, and type is needed to create it" % self.what)
            if p["uid"]:
                other = self.client.get("/api/datasources/name/%s" % urllib.parse.quote(p["name"], safe=""),
                                        self.what, missing_ok=True)
                if other is not None:
                    raise GrafanaAPIError("%s: cannot create it: the name %r is taken by datasource uid %r; rename or "
                                          "delete that one, or use its uid" % (self.what, p["name"], other.get("uid")))
            payload = dict(want)
            if secure:
                payload["secureJsonData"] = secure
            after = dict(want, secureJsonFields={key: True for key in secure})
            if not self.module.check_mode:
                answer = self.client.request("POST", "/api/datasources", self.what, payload=payload) or {}
                after = answer.get("datasource") or after
            result = dict(changed=True, action="created", datasource=summary(after),
                          diff=diff_pair({}, shown(dict(want), sent=secure)))
            written = after
        else:
            have = set(secure_fields(current))
            if p["secure_update"] == "always":
                send = dict(secure)
            else:
                send = {key: value for key, value in secure.items() if key not in have}
            changed_keys = sorted(key for key, value in want.items() if current.get(key) != value)
            changed_keys += ["secureJsonData.%s" % key for key in sorted(send)]
            if not changed_keys:
                result = dict(changed=False, action="unchanged", datasource=summary(current))
                written = current
            else:
                payload = {key: current.get(key) for key in KEPT_FIELDS if key in current}
                payload.update(want)
                if "version" in current:
                    payload["version"] = current["version"]
                if send:
                    payload["secureJsonData"] = send
                proposed = dict(payload)
                proposed.pop("secureJsonData", None)
                proposed["secureJsonFields"] = {key: True for key in have | set(send)}
                written = proposed
                if not self.module.check_mode:
                    answer = self.client.request("PUT", "/api/datasources/uid/%s" % urllib.parse.quote(current["uid"], safe=""),
                                                 self.what, payload=payload) or {}
                    written = answer.get("datasource") or proposed
                after_view = {key: proposed.get(key) for key in KEPT_FIELDS if key in proposed}
                after_view["secureJsonFields"] = sorted(proposed["secureJsonFields"])
                if send:
                    after_view["secureJsonData"] = {key: WRITE_ONLY for key in sorted(send)}
                result = dict(changed=True, action="updated", changed_keys=changed_keys, datasource=summary(written),
                              diff=diff_pair(shown(current), after_view))

        if p["health_check"] and not (self.module.check_mode and result["changed"]):
            uid = (written or {}).get("uid") or p["uid"]
            health = self.health(uid)
            result["health"] = health
            if health["status"] != "OK":
                self.module.fail_json(msg="%s: health check failed%s: %s: %s" % (
                    self.what, " after it was written" if result["changed"] else "", health["status"],
                    self.client.scrub(health["message"]) or "(no message)"), **result)
        return result


def main():
    argument_spec = grafana_argument_spec()
    argument_spec.update(
        name=dict(type="str"),
        uid=dict(type="str"),
        type=dict(type="str"),
        datasource_url=dict(type="str", aliases=["ds_url"]),
        access=dict(type="str", choices=["proxy", "direct"], default="proxy"),
        is_default=dict(type="bool", default=False),
        basic_auth_user=dict(type="str"),
        basic_auth_password=dict(type="str", no_log=True),
        json_data=dict(type="dict"),
        secure_json_data=dict(type="dict", no_log=True),
        secure_update=dict(type="str", choices=["on_create", "always"], default="on_create"),
        health_check=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleModule(argument_spec=argument_spec, required_one_of=[("name", "uid")], supports_check_mode=True)

    def work():
        worker = Datasource(module)
        # The secure values are masked in anything the client formats.
        worker.client.secrets.extend(v for v in worker.secure().values() if v)
        return worker.run()

    finish(module, work)


if __name__ == "__main__":
    main()
