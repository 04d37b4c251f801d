#!/usr/bin/python3
"""A stand-in service for the tests: the service and business metrics contract of docs/metrics.md, and a
remote-write sink. It does no real work: every number is made up, deterministic and grows with time.

Usage: fake_api.py ADDRESS PORT REMOTE_WRITE_PASSWORD.
- GET /metrics returns, in the Prometheus text format:
  - http_requests_total{code, method, route} and the histogram http_request_duration_seconds{code, method,
    route} for the routes of TRAFFIC below (about 21 requests a second, 0.8 % of them 5xx; one route, the
    import, is slower than the 500 ms objective but too rare to move the service's P95);
  - memories_created_total (one memory a second, the business event of the inventory) and
    memory_operations_total{operation};
  - the histograms memory_search_duration_seconds{search_type} and memory_search_results{search_type};
  - the gauge active_users and the counter feature_usage_total{feature};
  - the standard process_* metrics of this process (real values).
- POST /api/v1/write counts remote-write requests, and those whose basic auth
  carries REMOTE_WRITE_PASSWORD; GET /received returns both counts as JSON.
"""
import base64
import json
import math
import os
import resource
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

START = time.time()
RECEIVED = {"posts": 0, "authorized": 0, "bytes": 0}
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
RESULT_BUCKETS = (0, 1, 5, 10, 25, 50, 100)
# (method, route, code, requests per second, median duration in seconds)
TRAFFIC = (
    ("GET", "/v1/memories/{id}", "200", 6.0, 0.02),
    ("GET", "/v1/memories/{id}", "404", 0.4, 0.008),
    ("GET", "/v1/memories", "200", 2.0, 0.06),
    ("POST", "/v1/memories", "201", 1.0, 0.09),
    ("POST", "/v1/memories", "400", 0.1, 0.004),
    ("PUT", "/v1/memories/{id}", "200", 0.5, 0.07),
    ("DELETE", "/v1/memories/{id}", "204", 0.2, 0.03),
    ("POST", "/v1/search", "200", 3.0, 0.12),
    ("POST", "/v1/search", "500", 0.15, 0.3),
    ("POST", "/v1/memories/import", "202", 0.1, 0.9),
    ("GET", "/healthz", "200", 8.0, 0.002),
    ("GET", "/v1/memories", "503", 0.02, 0.001),
)
OPERATIONS = {"create": 1.0, "read": 8.0, "update": 0.5, "delete": 0.2, "search": 3.15}
# search type -> (searches per second, median duration, share of searches with at most each RESULT_BUCKETS bound)
SEARCHES = {
    "semantic": (2.0, 0.15, (0.02, 0.05, 0.25, 0.6, 0.9, 0.99, 1.0)),
    "keyword": (1.15, 0.03, (0.10, 0.20, 0.55, 0.85, 0.97, 1.0, 1.0)),
}
FEATURES = {"tagging": 0.5, "sharing": 0.2, "export": 0.05, "reminders": 0.1}
SIGMA = 0.6  # spread of the log-normal request durations
HELP = {
    "http_requests_total": "Finished HTTP requests.",
    "http_request_duration_seconds": "HTTP request duration in seconds.",
    "memories_created_total": "Memories created.",
    "memory_operations_total": "Completed memory operations by kind.",
    "memory_search_duration_seconds": "Duration of a memory search in seconds.",
    "memory_search_results": "Results returned by a memory search.",
    "active_users": "Users with a request in the last 5 minutes.",
    "feature_usage_total": "Uses of a product feature.",
}


def lognormal_cdf(x, median):
    return 0.5 * (1 + math.erf((math.log(x) - math.log(median)) / (SIGMA * math.sqrt(2))))


def labels(**pairs):
    return "{" + ",".join('%s="%s"' % (k, v) for k, v in pairs.items()) + "}"


def duration_histogram(lines, name, count, median, **pairs):
    for bound in DURATION_BUCKETS:
        lines.append("%s_bucket%s %d" % (name, labels(**pairs, le=repr(float(bound))), int(count * lognormal_cdf(bound, median))))
    lines.append("%s_bucket%s %d" % (name, labels(**pairs, le="+Inf"), count))
    lines.append("%s_sum%s %.6f" % (name, labels(**pairs), count * median * math.exp(SIGMA ** 2 / 2)))
    lines.append("%s_count%s %d" % (name, labels(**pairs), count))


def metrics():
    elapsed = time.time() - START
    lines = ["# TYPE http_requests_total counter"]
    for method, route, code, rate, _ in TRAFFIC:
        lines.append("http_requests_total%s %d" % (labels(code=code, method=method, route=route), int(rate * elapsed)))
    lines.append("# TYPE http_request_duration_seconds histogram")
    for method, route, code, rate, median in TRAFFIC:
        duration_histogram(lines, "http_request_duration_seconds", int(rate * elapsed), median,
                           code=code, method=method, route=route)
    lines += ["# TYPE memories_created_total counter", "memories_created_total %d" % int(OPERATIONS["create"] * elapsed),
              "# TYPE memory_operations_total counter"]
    for operation, rate in OPERATIONS.items():
        lines.append("memory_operations_total%s %d" % (labels(operation=operation), int(rate * elapsed)))
    lines.append("# TYPE memory_search_duration_seconds histogram")
    for search_type, (rate, median, _) in SEARCHES.items():
        duration_histogram(lines, "memory_search_duration_seconds", int(rate * elapsed), median, search_type=search_type)
    lines.append("# TYPE memory_search_results histogram")
    for search_type, (rate, _, shares) in SEARCHES.items():
        count = int(rate * elapsed)
        for bound, share in zip(RESULT_BUCKETS, shares, strict=True):
            lines.append("memory_search_results_bucket%s %d" % (labels(search_type=search_type, le=repr(float(bound))), int(count * share)))
        lines.append("memory_search_results_bucket%s %d" % (labels(search_type=search_type, le="+Inf"), count))
        lines.append("memory_search_results_sum%s %d" % (labels(search_type=search_type), int(count * 9.5)))
        lines.append("memory_search_results_count%s %d" % (labels(search_type=search_type), count))
    lines += ["# TYPE active_users gauge", "active_users %d" % int(80 + 20 * math.sin(elapsed / 300)),
              "# TYPE feature_usage_total counter"]
    for feature, rate in FEATURES.items():
        lines.append("feature_usage_total%s %d" % (labels(feature=feature), int(rate * elapsed)))
    times = os.times()
    with open("/proc/self/statm") as handle:
        resident = int(handle.read().split()[1]) * resource.getpagesize()
    lines += [
        "# TYPE process_cpu_seconds_total counter", "process_cpu_seconds_total %.2f" % (times.user + times.system),
        "# TYPE process_open_fds gauge", "process_open_fds %d" % len(os.listdir("/proc/self/fd")),
        "# TYPE process_max_fds gauge", "process_max_fds %d" % resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "# TYPE process_resident_memory_bytes gauge", "process_resident_memory_bytes %d" % resident,
        "# TYPE process_start_time_seconds gauge", "process_start_time_seconds %.2f" % START,
        "",
    ]
    out = []
    for line in lines:
        if line.startswith("# TYPE "):
            name = line.split()[2]
            out.append("# HELP %s %s" % (name, HELP.get(name, "Standard process metric of the stand-in.")))
        out.append(line)
    return "\n".join(out).encode()


class Handler(BaseHTTPRequestHandler):
    def reply(self, body, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path == "/received":
            self.reply(json.dumps(RECEIVED).encode(), "application/json")
            return
        if self.path != "/metrics":
            self.send_error(404)
            return
        self.reply(metrics(), "text/plain; version=0.0.4")

    def do_POST(self):  # noqa: N802
        if self.path != "/api/v1/write":
            self.send_error(404)
            return
        RECEIVED["bytes"] += len(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        RECEIVED["posts"] += 1
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic ") and base64.b64decode(auth[6:]).decode().split(":", 1)[-1] == sys.argv[3]:
            RECEIVED["authorized"] += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    HTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
