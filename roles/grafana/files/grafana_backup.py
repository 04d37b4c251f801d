#!/usr/bin/python3
"""Back up Grafana's state before a risky change (vigil.observability grafana role).

Copies grafana.db with SQLite's online backup API (consistent while Grafana
runs), checks the copy with PRAGMA integrity_check, adds grafana.ini and an
archive of the plugins directory, all into a timestamped directory (0700,
files 0600), and keeps only the newest --keep backups. Prints one JSON line.
"""
import argparse
import json
import os
import shutil
import sqlite3
import sys
import tarfile
import time

PREFIX = "grafana-"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--ini", required=True)
    parser.add_argument("--plugins", required=True)
    parser.add_argument("--dest", required=True)
    parser.add_argument("--keep", type=int, required=True)
    parser.add_argument("--reason", default="")
    args = parser.parse_args()

    os.umask(0o077)
    os.makedirs(args.dest, mode=0o700, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    target = os.path.join(args.dest, PREFIX + stamp)
    suffix = 0
    while os.path.exists(target):
        suffix += 1
        target = os.path.join(args.dest, "%s%s-%d" % (PREFIX, stamp, suffix))
    os.mkdir(target, 0o700)

    copied = []
    if os.path.exists(args.db):
        dest = os.path.join(target, "grafana.db")
        source = sqlite3.connect("file:%s?mode=ro" % args.db, uri=True, timeout=30)
        copy = sqlite3.connect(dest)
        with copy:
            source.backup(copy)
        source.close()
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        copy.close()
        if check != "ok":
            print(json.dumps({"failed": True, "msg": "the copy of %s failed PRAGMA integrity_check: %s" % (args.db, check)}))
            sys.exit(1)
        copied.append(dest)
    if os.path.exists(args.ini):
        dest = os.path.join(target, "grafana.ini")
        shutil.copyfile(args.ini, dest)
        copied.append(dest)
    if os.path.isdir(args.plugins):
        dest = os.path.join(target, "plugins.tar.gz")
        with tarfile.open(dest, "w:gz") as archive:
            archive.add(args.plugins, arcname="plugins")
        copied.append(dest)
    for path in copied:
        os.chmod(path, 0o600)
    with open(os.path.join(target, "REASON"), "w") as handle:
        handle.write(args.reason + "\n")
    os.chmod(os.path.join(target, "REASON"), 0o600)

    backups = sorted(name for name in os.listdir(args.dest)
                     if name.startswith(PREFIX) and os.path.isdir(os.path.join(args.dest, name)))
    removed = []
    for name in backups[:-args.keep] if args.keep > 0 else []:
        shutil.rmtree(os.path.join(args.dest, name))
        removed.append(name)
    print(json.dumps({"backup": target, "files": copied, "removed": removed, "integrity": "ok"}))


if __name__ == "__main__":
    main()
