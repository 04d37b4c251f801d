#!/usr/bin/env python3
"""Serve a directory over HTTP on loopback for offline release-mirror tests.

Stops by itself after --idle seconds without a request (and after --max
seconds in any case), so a forgotten server never outlives the test run.
"""
import argparse
import functools
import http.server
import os
import threading
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--idle", type=int, default=900)
    parser.add_argument("--max", type=int, default=7200)
    parser.add_argument("--pidfile")
    args = parser.parse_args()

    last = [time.monotonic()]
    started = time.monotonic()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, fmt, *fargs):  # keep test output quiet
            pass

        def do_GET(self):
            last[0] = time.monotonic()
            super().do_GET()

    handler = functools.partial(Handler, directory=args.dir)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    if args.pidfile:
        with open(args.pidfile, "w") as handle:
            handle.write(str(os.getpid()))

    def watchdog():
        while True:
            time.sleep(5)
            now = time.monotonic()
            if now - last[0] > args.idle or now - started > args.max:
                server.shutdown()
                return

    threading.Thread(target=watchdog, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
