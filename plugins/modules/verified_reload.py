#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: verified_reload
short_description: Reload a systemd service and prove from its own metrics that the new configuration took
version_added: 0.1.0
description:
  - Prometheus, blackbox_exporter, Alertmanager and other services built on the Prometheus client libraries keep
    running on their previous configuration when a reload fails, and still look healthy. Only their own gauges
    C(<prefix>_last_reload_successful) and C(<prefix>_last_reload_success_timestamp_seconds) tell.
  - This module reads both gauges from O(url), reloads O(unit) with C(systemctl reload) (SIGHUP for these services),
    then reads O(url) once a second until the success timestamp is strictly larger than before and
    C(<prefix>_last_reload_successful) is 1.
  - It fails when C(<prefix>_last_reload_successful) drops to 0, or when the reload is not reported within
    O(timeout) seconds; the failure shows the last O(journal_lines) lines of the unit's journal. Putting the previous
    configuration back is left to the caller, which knows what it replaced (a C(rescue) section).
  - It fails before sending any signal when the gauges are not on the page or the page cannot be read.
author: vigil.observability maintainers (@vigil-observability)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  unit:
    description: The systemd unit to reload, for example C(alertmanager.service).
    type: str
    required: true
  url:
    description: The service's metrics URL, for example C(https://10.0.0.5:9093/metrics).
    type: str
    required: true
  metric_prefix:
    description:
      - Prefix of the two reload gauges, for example C(prometheus_config), C(blackbox_exporter_config) or
        C(alertmanager_config).
    type: str
    required: true
  url_username:
    description: User name for basic auth. Basic auth is sent (without waiting for a challenge) only when this is not empty.
    type: str
    default: ""
  url_password:
    description: Password for basic auth. Never shown in the output.
    type: str
    default: ""
  validate_certs:
    description: Verify the certificate of an C(https) O(url).
    type: bool
    default: true
  ca_path:
    description: CA bundle to verify the certificate of an C(https) O(url) with. Empty uses the system's trust store.
    type: str
    default: ""
  timeout:
    description:
      - Seconds to wait, after the reload was sent, for the service to report it. Each read of O(url) also gives
        up after at most 10 seconds; reads that fail after the reload are retried until this timeout.
    type: int
    default: 30
  journal_lines:
    description: Lines of C(journalctl -u <unit>) to show when the reload fails or is not reported. C(0) shows none.
    type: int
    default: 20
attributes:
  check_mode:
    support: full
    details: In check mode nothing is read or sent; the module reports that a reload would happen.
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - systemd (C(systemctl) and C(journalctl)) on the target.
notes:
  - Timestamps may have a resolution of one second. When the last successful reload happened in the current second,
    the module waits for the next second before reloading, so that a successful reload always shows as a strictly
    larger timestamp.
  - When C(<prefix>_last_reload_successful) is already 0 before the reload (an earlier reload had failed) and this
    reload fails too, neither gauge changes. That cannot be told apart from a reload not processed yet, so the module
    fails only after O(timeout), with a message saying the gauge was already 0.
  - Only unlabelled series of the two gauges are read.
seealso:
  - module: ansible.builtin.systemd_service
"""

EXAMPLES = r"""
- name: Reload Alertmanager and check the reload took
  vigil.observability.verified_reload:
    unit: alertmanager.service
    url: "https://10.0.0.5:9093/metrics"
    metric_prefix: alertmanager_config
    url_username: monitor
    url_password: "{{ alertmanager_basic_auth_users['monitor'] }}"
    ca_path: /etc/alertmanager/tls/ca.crt

- name: Reload Prometheus, put the previous files back when the new ones do not take
  block:
    - name: Reload Prometheus (SIGHUP) and check that the new configuration took
      vigil.observability.verified_reload:
        unit: prometheus.service
        url: http://127.0.0.1:9090/metrics
        metric_prefix: prometheus_config
        timeout: 60
  rescue:
    - name: Fail with the reason
      ansible.builtin.fail:
        msg: "Prometheus did not take the new configuration ({{ ansible_failed_result.reason }})"
"""

RETURN = r"""
reloaded:
  description: Whether the service was reloaded and reported the new configuration as loaded. False in check mode.
  returned: always
  type: bool
  sample: true
last_reload_success_timestamp:
  description: The value of C(<prefix>_last_reload_success_timestamp_seconds) after the reload (Unix time).
  returned: success, when not in check mode
  type: float
  sample: 1712345678.0
elapsed:
  description: Seconds from sending the reload to seeing it reported.
  returned: success, when not in check mode
  type: float
  sample: 1.012
reason:
  description:
    - Why the module failed, without the journal lines that C(msg) adds. For a reload that was sent but did not take,
      only the cause, without the C(<unit> did not take the new configuration) headline of C(msg).
  returned: failure
  type: str
  sample: alertmanager_config_last_reload_successful is 0 after the reload
journal:
  description: The last O(journal_lines) lines of the unit's journal.
  returned: failure, once the reload was sent
  type: list
  elements: str
  sample: ['... level=ERROR msg="Loading configuration file failed" file=/etc/alertmanager/alertmanager.yml']
"""

import http.client
import time
import urllib.error

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import open_url

from ansible_collections.vigil.observability.plugins.module_utils.reload_check import (
    PENDING,
    SUCCESS,
    TIMESTAMP,
    decide,
    delay_before_reload,
    failure_reason,
    missing_gauges,
    parse_gauges,
)

POLL_INTERVAL = 1.0
READ_TIMEOUT = 10.0
TIMED_OUT = "timeout"

# What a read of the metrics page may raise: socket, TLS and HTTP errors are
# OSError (URLError, HTTPError, ssl.SSLError, TimeoutError), a broken answer
# an HTTPException, a malformed URL a ValueError, a TLS validation problem the
# urls module's ConnectionError.
READ_ERRORS = (OSError, http.client.HTTPException, ValueError, UrlsConnectionError)


def describe_error(exc):
    if isinstance(exc, urllib.error.HTTPError):
        return "HTTP %s %s" % (exc.code, exc.reason)
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or exc.__class__.__name__


class Reloader:
    def __init__(self, module):
        self.module = module
        self.params = module.params

    def read_metrics(self, timeout):
        """The metrics page as text; raises one of READ_ERRORS."""
        params = self.params
        auth = bool(params["url_username"])
        response = open_url(
            params["url"],
            method="GET",
            url_username=params["url_username"] if auth else None,
            url_password=params["url_password"] if auth else None,
            force_basic_auth=auth,
            validate_certs=params["validate_certs"],
            ca_path=params["ca_path"] or None,
            timeout=timeout,
            use_netrc=False,
        )
        try:
            return response.read().decode("utf-8", errors="replace")
        finally:
            response.close()

    def journal(self):
        lines = self.params["journal_lines"]
        if lines <= 0:
            return []
        journalctl = self.module.get_bin_path("journalctl")
        if not journalctl:
            return ["(journalctl not found)"]
        rc, out, err = self.module.run_command([journalctl, "-u", self.params["unit"], "--no-pager", "-n", str(lines)])
        if rc != 0:
            return ["(journalctl -u %s failed: %s)" % (self.params["unit"], (err or out).strip())]
        return out.rstrip("\n").splitlines()

    def fail(self, reason, changed=False, with_journal=False, headline=""):
        """Fail with msg = headline + reason (+ the journal), and the reason alone in C(reason)."""
        result = dict(changed=changed, reloaded=False, reason=reason)
        msg = headline + reason
        if with_journal:
            result["journal"] = self.journal()
            if result["journal"]:
                msg += "\nLast journal lines:\n" + "\n".join(result["journal"])
        self.module.fail_json(msg=msg, **result)

    def run(self):
        params = self.params
        unit, url, prefix = params["unit"], params["url"], params["metric_prefix"]
        if params["timeout"] < 1:
            self.module.fail_json(msg="timeout must be at least 1 second, got %d" % params["timeout"])
        if self.module.check_mode:
            self.module.exit_json(changed=True, reloaded=False)

        try:
            before = parse_gauges(self.read_metrics(READ_TIMEOUT), prefix)
        except READ_ERRORS as exc:
            self.fail("cannot read %s before reloading %s: %s" % (url, unit, describe_error(exc)))
        missing = missing_gauges(before, prefix)
        if missing:
            self.fail("%s not found in %s, so a reload of %s could not be verified; nothing was reloaded "
                      "(is metric_prefix %s right?)" % (" and ".join(missing), url, unit, prefix))

        time.sleep(delay_before_reload(before[TIMESTAMP], time.time()))
        systemctl = self.module.get_bin_path("systemctl", required=True)
        sent = time.monotonic()
        rc, out, err = self.module.run_command([systemctl, "reload", unit])
        if rc != 0:
            self.fail("systemctl reload %s failed (rc %d): %s" % (unit, rc, (err or out).strip()), with_journal=True)

        deadline = sent + params["timeout"]
        last_error = None
        while True:
            read_timeout = max(1.0, min(READ_TIMEOUT, deadline - time.monotonic()))
            try:
                after = parse_gauges(self.read_metrics(read_timeout), prefix)
                last_error = None
            except READ_ERRORS as exc:
                after, last_error = None, describe_error(exc)
            outcome = decide(before, after)
            if outcome != PENDING:
                break
            now = time.monotonic()
            if now >= deadline:
                outcome = TIMED_OUT
                break
            time.sleep(min(POLL_INTERVAL, deadline - now))

        if outcome == SUCCESS:
            self.module.exit_json(changed=True, reloaded=True, last_reload_success_timestamp=after[TIMESTAMP],
                                  elapsed=round(time.monotonic() - sent, 3))
        reason = failure_reason(outcome, prefix, before, params["timeout"])
        if outcome == TIMED_OUT and last_error:
            reason += "; the last read of %s failed: %s" % (url, last_error)
        self.fail(reason, changed=True, with_journal=True, headline="%s did not take the new configuration: " % unit)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            unit=dict(type="str", required=True),
            url=dict(type="str", required=True),
            metric_prefix=dict(type="str", required=True),
            url_username=dict(type="str", default=""),
            url_password=dict(type="str", default="", no_log=True),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="str", default=""),
            timeout=dict(type="int", default=30),
            journal_lines=dict(type="int", default=20),
        ),
        supports_check_mode=True,
    )
    Reloader(module).run()


if __name__ == "__main__":
    main()
