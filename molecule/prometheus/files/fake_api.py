#!/usr/bin/python3
"""A stand-in service for the tests: the HTTP metrics contract, a business counter and a remote-write sink.

Usage: fake_api.py ADDRESS PORT REMOTE_WRITE_PASSWORD.
- GET /metrics returns counters that grow with time: 19 of every 20 requests
  succeed, and one memory is created per second.
- POST /api/v1/write counts remote-write requests, and those whose basic auth
  carries REMOTE_WRITE_PASSWORD; GET /received returns both counts as JSON.
"""
import base64
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

START = time.time()
RECEIVED = {"posts": 0, "authorized": 0, "bytes": 0}


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
        elapsed = int(time.time() - START)
        body = "\n".join([
            "# TYPE http_requests_total counter",
            'http_requests_total{code="200",method="GET",route="/v1/memories"} %d' % (19 * elapsed),
            'http_requests_total{code="500",method="GET",route="/v1/memories"} %d' % elapsed,
            "# TYPE memories_created_total counter",
            "memories_created_total %d" % elapsed,
            "",
        ]).encode()
        self.reply(body, "text/plain; version=0.0.4")

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
