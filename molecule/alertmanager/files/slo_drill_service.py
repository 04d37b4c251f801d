#!/usr/bin/python3
"""A small instrumented HTTP service for the SLO drill (molecule/alertmanager/tests/test_22_slo.py).

Usage: slo_drill_service.py ADDRESS PORT

- GET /api/work is the service's one route. Request number n (counted from 1)
  answers 500 when n is a multiple of `error_every`, and takes `slow_seconds`
  before answering when n is a multiple of `slow_every`; every other request
  answers 200 at once. So the share of bad requests is known exactly.
- Each request to /api/work is counted as the HTTP metrics contract of
  docs/metrics.md says: http_requests_total{code, method, route} and the
  histogram http_request_duration_seconds{code, method, route} with the
  contract's buckets, written as the Python client writes them (le="1.0").
  Both codes' series exist from the start, at 0.
- GET /metrics returns them in the Prometheus text format.
- POST /traffic {"rate": R, "error_every": E, "slow_every": S} sets the
  outcomes and makes the service send itself R real requests a second
  (R = 0 stops); GET /traffic returns the settings and the counts.

No traffic flows until the test asks for it: an idle service has no SLI
(0 / 0), so nothing fires while the other drills run.
"""

import http.client
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
ROUTE = "/api/work"
LOCK = threading.Lock()
SETTINGS = {"rate": 0.0, "error_every": 0, "slow_every": 0, "slow_seconds": 0.3}
STATE = {"requests": 0, "sent": 0}
# code -> [count, sum of durations, [count per bucket]]
SERIES = dict((code, [0, 0.0, [0] * len(BUCKETS)]) for code in ("200", "500"))


def observe(code, seconds):
    with LOCK:
        entry = SERIES[code]
        entry[0] += 1
        entry[1] += seconds
        for index, bound in enumerate(BUCKETS):
            if seconds <= bound:
                entry[2][index] += 1


def exposition():
    lines = ["# HELP http_requests_total Finished HTTP requests.", "# TYPE http_requests_total counter"]
    with LOCK:
        series = dict((code, (entry[0], entry[1], list(entry[2]))) for code, entry in SERIES.items())
    for code, (count, _total, _buckets) in sorted(series.items()):
        lines.append('http_requests_total{code="%s",method="GET",route="%s"} %d' % (code, ROUTE, count))
    lines += ["# HELP http_request_duration_seconds HTTP request duration in seconds.",
              "# TYPE http_request_duration_seconds histogram"]
    for code, (count, total, buckets) in sorted(series.items()):
        labels = 'code="%s",method="GET",route="%s"' % (code, ROUTE)
        for bound, value in zip(BUCKETS, buckets, strict=True):
            lines.append('http_request_duration_seconds_bucket{%s,le="%r"} %d' % (labels, bound, value))
        lines.append('http_request_duration_seconds_bucket{%s,le="+Inf"} %d' % (labels, count))
        lines.append("http_request_duration_seconds_sum{%s} %r" % (labels, total))
        lines.append("http_request_duration_seconds_count{%s} %d" % (labels, count))
    return "\n".join(lines) + "\n"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, status, body, content_type="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == ROUTE:
            started = time.monotonic()
            with LOCK:
                STATE["requests"] += 1
                number = STATE["requests"]
                error_every, slow_every, slow = SETTINGS["error_every"], SETTINGS["slow_every"], SETTINGS["slow_seconds"]
            if slow_every and number % slow_every == 0:
                time.sleep(slow)
            code = "500" if error_every and number % error_every == 0 else "200"
            self._send(int(code), '{"n": %d}' % number)
            observe(code, time.monotonic() - started)
        elif self.path == "/metrics":
            self._send(200, exposition(), "text/plain; version=0.0.4")
        elif self.path == "/traffic":
            with LOCK:
                body = dict(SETTINGS, **STATE)
                body["counts"] = dict((code, entry[0]) for code, entry in SERIES.items())
            self._send(200, json.dumps(body))
        else:
            self._send(404, "{}")

    def do_POST(self):
        if self.path != "/traffic":
            self._send(404, "{}")
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            wanted = json.loads(self.rfile.read(length) or b"{}")
            with LOCK:
                for key in ("rate", "slow_seconds"):
                    if key in wanted:
                        SETTINGS[key] = float(wanted[key])
                for key in ("error_every", "slow_every"):
                    if key in wanted:
                        SETTINGS[key] = int(wanted[key])
        except (ValueError, TypeError) as error:
            self._send(400, json.dumps({"error": str(error)}))
            return
        self._send(200, json.dumps(SETTINGS))


def client(port):
    """Send the service real requests at SETTINGS['rate'] a second, each on its own thread (slow ones must not
    hold the others back)."""
    next_at = time.monotonic()
    while True:
        with LOCK:
            rate = SETTINGS["rate"]
        if rate <= 0:
            time.sleep(0.2)
            next_at = time.monotonic()
            continue
        next_at += 1.0 / rate
        threading.Thread(target=_request, args=(port,), daemon=True).start()
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -5:  # fell far behind (a paused container): do not burst to catch up
            next_at = time.monotonic()


def _request(port):
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", ROUTE)
        connection.getresponse().read()
        connection.close()
        with LOCK:
            STATE["sent"] += 1
    except OSError:
        pass


def main():
    address, port = sys.argv[1], int(sys.argv[2])
    server = ThreadingHTTPServer((address, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=client, args=(port,), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
