"""openpgp_fingerprints (the grafana role's check of Grafana's signing key) against gpg's own answer."""

import os
import shutil
import subprocess
import sys

import pytest
from ansible.errors import AnsibleFilterError

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", ".cache", "collections"))

from ansible_collections.vigil.observability.plugins.filter.grafana import openpgp_fingerprints  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg is not installed")


def gpg(home, *args):
    return subprocess.run(["gpg", "--homedir", home, "--batch", "--yes", "--pinentry-mode", "loopback",
                           "--passphrase", ""] + list(args), check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL).stdout.decode()


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """Two primary keys (ed25519 with a subkey, RSA 2048) made by gpg, with gpg's fingerprints."""
    home = str(tmp_path_factory.mktemp("gnupg"))
    os.chmod(home, 0o700)
    made = {}
    for uid, algo in (("ed@vigil.test", "ed25519"), ("rsa@vigil.test", "rsa2048")):
        gpg(home, "--quick-gen-key", uid, algo, "sign", "1y")
        fprs = [line.split(":")[9] for line in gpg(home, "--with-colons", "--list-keys", uid).splitlines()
                if line.startswith("fpr:")]
        gpg(home, "--quick-add-key", fprs[0], "cv25519", "encr", "1y")
        made[uid] = (gpg(home, "--armor", "--export", uid), fprs[0])
    return made


def test_fingerprint_equals_gpgs_for_each_key_type(keys):
    for armored, fingerprint in keys.values():
        # The subkey (tag 14) is not a primary key and is not listed.
        assert openpgp_fingerprints(armored) == [fingerprint]


def test_a_file_with_two_armored_keys_gives_both(keys):
    """apt would trust every key of the file, so a second block must not hide behind the pinned first one."""
    (ed, ed_fpr), (rsa, rsa_fpr) = keys["ed@vigil.test"], keys["rsa@vigil.test"]
    assert openpgp_fingerprints(ed.strip() + "\n" + rsa.strip()) == [ed_fpr, rsa_fpr]


@pytest.mark.parametrize("text", ["", "not a key", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!!\n-----END PGP PUBLIC KEY BLOCK-----",
                                  "<html>404 Not Found</html>"])
def test_anything_else_is_refused(text):
    with pytest.raises(AnsibleFilterError, match="not an OpenPGP public key"):
        openpgp_fingerprints(text)


def test_a_truncated_key_is_refused(keys):
    armored = keys["rsa@vigil.test"][0]
    lines = armored.strip().splitlines()
    body = [line for line in lines[2:-2]]
    cut = "\n".join(lines[:2] + body[: len(body) // 2] + lines[-1:])
    with pytest.raises(AnsibleFilterError):
        openpgp_fingerprints(cut)
