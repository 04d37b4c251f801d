"""A small client for the Prometheus servers of this scenario, used from the controller."""

import os
import time

import requests

WORK = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "")
CA = os.path.join(WORK, "tls", "ca.crt")
# prom serves HTTPS with basic auth; app plain HTTP (see molecule.yml).
PROM_USERS = {"prometheus": "S3ntinel-8c21e94b-prometheus", "admin": "S3ntinel-8c21e94b-admin"}


def address(host):
    return host.interface("eth0").addresses[0]


class Prometheus(object):
    def __init__(self, host, name):
        self.host = host
        self.name = name
        ip = address(host)
        if name == "prom":
            self.base = "https://%s:9090" % ip
            self.kwargs = {"verify": CA, "auth": ("prometheus", PROM_USERS["prometheus"])}
        else:
            self.base = "http://%s:9090" % ip
            self.kwargs = {}

    def get(self, path, auth=True, **params):
        kwargs = dict(self.kwargs)
        if not auth:
            kwargs.pop("auth", None)
        return requests.get(self.base + path, params=params, timeout=10, **kwargs)

    def post(self, path):
        return requests.post(self.base + path, timeout=10, **self.kwargs)

    def api(self, path, **params):
        response = self.get(path, **params)
        response.raise_for_status()
        body = response.json()
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr, time_=None):
        params = {"query": expr}
        if time_ is not None:
            params["time"] = time_
        return self.api("/api/v1/query", **params)["result"]

    def wait_for(self, expr, predicate=lambda r: len(r) > 0, timeout=60):
        """Poll a query until predicate(result) holds; return the result."""
        deadline = time.time() + timeout
        result = None
        while time.time() < deadline:
            try:
                result = self.query(expr)
            except requests.RequestException:
                result = None
            if result is not None and predicate(result):
                return result
            time.sleep(1)
        raise AssertionError("%s on %s: condition not met in %ds; last result: %r" % (expr, self.name, timeout, result))

    def metric(self, name):
        """A value of Prometheus's own /metrics."""
        for line in self.get("/metrics").text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError("%s not in /metrics of %s" % (name, self.name))
