"""Record each host's failures and unreachable results as JSON, for the bad-input matrices.

tests/unit/role_input.py runs many input cases in one ansible-playbook run,
one inventory host per case, and reads this file to tell the cases apart.
The stdout callback stays the default one, so the full -vvv output can still
be searched for secrets. Results of no_log tasks are recorded censored.
"""

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: case_results
type: aggregate
short_description: write each host's failed and unreachable results to $VIGIL_CASE_RESULTS
description: Test helper of vigil.observability's bad-input matrices.
requirements: [enabled in callbacks_enabled]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "case_results"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._hosts = {}

    def _host(self, result):
        return self._hosts.setdefault(result._host.get_name(), {"failed": [], "unreachable": False, "tasks": 0})

    @staticmethod
    def _record(result):
        data = result._result
        if data.get("_ansible_no_log"):
            data = {"msg": "censored: no_log"}
        return {"task": result._task.get_name(), "result": data}

    def v2_runner_on_ok(self, result):
        self._host(result)["tasks"] += 1

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self._host(result)["failed"].append(self._record(result))

    def v2_runner_on_unreachable(self, result):
        entry = self._host(result)
        entry["unreachable"] = True
        entry["failed"].append(self._record(result))

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("VIGIL_CASE_RESULTS")
        if path:
            with open(path, "w") as handle:
                json.dump(self._hosts, handle, default=str)
