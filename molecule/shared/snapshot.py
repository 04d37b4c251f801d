#!/usr/bin/env python3
"""Print a digest of the host's persistent state, one line per file.

Used to prove that a check-mode run changed nothing: the prepare step saves a
snapshot, the check-mode converge runs, and the first play of the real
converge compares. Paths that change on their own (logs, journals, caches,
Ansible's own temporary files, compiled Python) are left out.
"""
import hashlib
import os
import stat
import sys

ROOTS = ["/etc", "/usr", "/opt", "/srv", "/var/lib", "/home", "/root"]
SKIP_PREFIXES = (
    "/var/lib/systemd", "/var/lib/apt/lists", "/var/lib/dhcp",
    "/root/.ansible", "/root/.cache", "/var/lib/vigil-snapshot",
)
SKIP_NAMES = {"__pycache__"}
# A running PostgreSQL rewrites its data directory on its own (checkpoints,
# WAL, autovacuum); only its configuration there is compared.
DATA_DIRS = ("/var/lib/postgresql/",)
DATA_DIR_KEEP = {"postgresql.auto.conf"}


def entries():
    for root in ROOTS:
        for dirpath, dirnames, filenames in os.walk(root):
            if dirpath.startswith(SKIP_PREFIXES):
                dirnames[:] = []
                continue
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_NAMES)
            for name in sorted(dirnames + filenames):
                path = os.path.join(dirpath, name)
                if path.startswith(SKIP_PREFIXES):
                    continue
                if path.startswith(DATA_DIRS) and name not in DATA_DIR_KEEP:
                    continue
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                digest = ""
                if stat.S_ISREG(st.st_mode):
                    h = hashlib.sha256()
                    try:
                        with open(path, "rb") as handle:
                            for block in iter(lambda: handle.read(1 << 20), b""):
                                h.update(block)
                        digest = h.hexdigest()
                    except OSError:
                        digest = "unreadable"
                elif stat.S_ISLNK(st.st_mode):
                    digest = "->" + os.readlink(path)
                yield "%s %o %d %d %s" % (path, st.st_mode, st.st_uid, st.st_gid, digest)


if __name__ == "__main__":
    out = sys.stdout
    for line in entries():
        out.write(line + "\n")
