#!/usr/bin/env python3
"""Make a signed, empty APT repository (suite stable, component main) for the grafana scenario.

Usage: make_repo.py DIR. Creates a throw-away signing key in DIR/gnupg,
exports it to DIR/gpg.key (as Grafana serves its key), writes
DIR/apt/dists/stable/{Release,InRelease} over empty Packages indexes, and
DIR/FINGERPRINT. A second key (DIR/other.key) lets tests try a wrong key.
"""
import gzip
import hashlib
import os
import subprocess
import sys
import time

root = os.path.abspath(sys.argv[1])
home = os.path.join(root, "gnupg")
os.makedirs(home, mode=0o700, exist_ok=True)
env = dict(os.environ, GNUPGHOME=home)


def gpg(*args, **kwargs):
    return subprocess.run(["gpg", "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", ""] + list(args),
                          env=env, check=True, stdout=subprocess.PIPE, **kwargs).stdout


def fingerprint(uid):
    for line in gpg("--with-colons", "--list-keys", uid).decode().splitlines():
        if line.startswith("fpr:"):
            return line.split(":")[9]
    raise SystemExit("no fingerprint for " + uid)


for uid in ("Vigil Test Grafana Repo <repo@vigil.test>", "Vigil Other Key <other@vigil.test>"):
    try:
        fingerprint(uid)
    except subprocess.CalledProcessError:
        gpg("--quick-gen-key", uid, "ed25519", "sign", "1y")
main = fingerprint("repo@vigil.test")
with open(os.path.join(root, "gpg.key"), "wb") as handle:
    handle.write(gpg("--armor", "--export", main))
with open(os.path.join(root, "other.key"), "wb") as handle:
    handle.write(gpg("--armor", "--export", fingerprint("other@vigil.test")))
with open(os.path.join(root, "FINGERPRINT"), "w") as handle:
    handle.write(main)

dist = os.path.join(root, "apt", "dists", "stable")
files = {}
for arch in ("amd64", "arm64"):
    directory = os.path.join(dist, "main", "binary-" + arch)
    os.makedirs(directory, exist_ok=True)
    for name, data in (("Packages", b""), ("Packages.gz", gzip.compress(b"", mtime=0))):
        with open(os.path.join(directory, name), "wb") as handle:
            handle.write(data)
        files["main/binary-%s/%s" % (arch, name)] = data
lines = ["Origin: vigil-test", "Label: vigil-test", "Suite: stable", "Codename: stable",
         "Date: " + time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime()),
         "Valid-Until: " + time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime(time.time() + 30 * 86400)),
         "Architectures: amd64 arm64", "Components: main", "SHA256:"]
for name, data in sorted(files.items()):
    lines.append(" %s %d %s" % (hashlib.sha256(data).hexdigest(), len(data), name))
release = os.path.join(dist, "Release")
with open(release, "w") as handle:
    handle.write("\n".join(lines) + "\n")
gpg("--local-user", main, "--digest-algo", "SHA512", "--clearsign", "--output", os.path.join(dist, "InRelease"), release)
print(main)
