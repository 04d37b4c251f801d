#!/usr/bin/env python3
"""Stand-in notification receivers for the Alertmanager fire drills.

One HTTP server answers as the Slack webhook, the PagerDuty events API, the
Opsgenie API and generic webhooks (the path tells which); one SMTP server
accepts email. Every request and message is appended as one JSON line to
<dir>/http.jsonl or <dir>/smtp.jsonl, which the tests read.

Usage: notification_sink.py ADDRESS HTTP_PORT SMTP_PORT DIR
"""

import json
import os
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ADDRESS, HTTP_PORT, SMTP_PORT, DIR = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
LOCK = threading.Lock()


def record(name, entry):
    entry["time"] = time.time()
    with LOCK, open(os.path.join(DIR, name), "a") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")


class Http(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0)).decode("utf-8", "replace")
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        record("http.jsonl", {"path": self.path, "authorization": self.headers.get("Authorization", ""),
                              "content_type": self.headers.get("Content-Type", ""), "body": parsed, "raw": body})
        if self.path.startswith("/pagerduty"):
            status, reply = 202, {"status": "success", "message": "Event processed", "dedup_key": "x"}
        elif self.path.startswith("/opsgenie"):
            status, reply = 202, {"result": "Request will be processed", "took": 0.1, "requestId": "x"}
        else:
            status, reply = 200, {"ok": True}
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP for Alertmanager: no AUTH, no STARTTLS."""

    def reply(self, line):
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.reply("220 sink ESMTP")
        sender, recipients = "", []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode("utf-8", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-sink")
                self.reply("250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 sink")
            elif verb == "MAIL":
                sender, recipients = command[10:].strip(), []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command[8:].strip())
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while True:
                    data = self.rfile.readline()
                    if not data or data in (b".\r\n", b".\n"):
                        break
                    lines.append(data.decode("utf-8", "replace"))
                record("smtp.jsonl", {"from": sender, "to": recipients, "data": "".join(lines)})
                self.reply("250 OK queued")
            elif verb == "RSET":
                sender, recipients = "", []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


class SmtpServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    os.makedirs(DIR, exist_ok=True)
    smtp = SmtpServer((ADDRESS, SMTP_PORT), Smtp)
    threading.Thread(target=smtp.serve_forever, daemon=True).start()
    ThreadingHTTPServer((ADDRESS, HTTP_PORT), Http).serve_forever()


if __name__ == "__main__":
    main()
