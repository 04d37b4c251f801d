"""The grafana filters: openpgp_fingerprints against gpg's own answer, and grafana_ini merged as combine() does.

openpgp_fingerprints stays the collection's own: community.crypto's
gpg_fingerprint returns the first fingerprint only, and the role must see
every primary key of a key file (apt trusts them all). The last gpg test
shows that limit; when it fails, community.crypto can do the job.
"""

import copy
import os
import shutil
import subprocess

import pytest
from ansible.errors import AnsibleFilterError
from ansible.plugins.filter.core import combine
from ansible_collections.vigil.observability.plugins.filter.grafana import (
    _merge,
    grafana_config,
    openpgp_fingerprints,
)

needs_gpg = pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg is not installed")


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


@needs_gpg
def test_fingerprint_equals_gpgs_for_each_key_type(keys):
    for armored, fingerprint in keys.values():
        # The subkey (tag 14) is not a primary key and is not listed.
        assert openpgp_fingerprints(armored) == [fingerprint]


@needs_gpg
def test_a_file_with_two_armored_keys_gives_both(keys):
    """apt would trust every key of the file, so a second block must not hide behind the pinned first one."""
    (ed, ed_fpr), (rsa, rsa_fpr) = keys["ed@vigil.test"], keys["rsa@vigil.test"]
    assert openpgp_fingerprints(ed.strip() + "\n" + rsa.strip()) == [ed_fpr, rsa_fpr]


@pytest.mark.parametrize("text", ["", "not a key", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!!\n-----END PGP PUBLIC KEY BLOCK-----",
                                  "<html>404 Not Found</html>"])
def test_anything_else_is_refused(text):
    with pytest.raises(AnsibleFilterError, match="not an OpenPGP public key"):
        openpgp_fingerprints(text)


@needs_gpg
def test_a_truncated_key_is_refused(keys):
    armored = keys["rsa@vigil.test"][0]
    lines = armored.strip().splitlines()
    body = [line for line in lines[2:-2]]
    cut = "\n".join(lines[:2] + body[: len(body) // 2] + lines[-1:])
    with pytest.raises(AnsibleFilterError):
        openpgp_fingerprints(cut)


@needs_gpg
def test_two_keys_in_one_block_give_both(keys, tmp_path):
    """gpg --export of two keys writes one armored block with two primary keys."""
    home = str(tmp_path)
    os.chmod(home, 0o700)
    for armored, _fpr in keys.values():
        subprocess.run(["gpg", "--homedir", home, "--batch", "--import"], input=armored.encode(), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    both = gpg(home, "--armor", "--export")
    assert both.count("BEGIN PGP PUBLIC KEY BLOCK") == 1
    assert sorted(openpgp_fingerprints(both)) == sorted(fpr for _armored, fpr in keys.values())


@needs_gpg
def test_community_crypto_gpg_fingerprint_sees_only_the_first_key(keys):
    """Why the role does not use community.crypto.gpg_fingerprint (3.0.5): a second key would go unnoticed."""
    crypto = pytest.importorskip("ansible_collections.community.crypto.plugins.filter.gpg_fingerprint")
    (ed, ed_fpr), (rsa, _rsa_fpr) = keys["ed@vigil.test"], keys["rsa@vigil.test"]
    assert crypto.gpg_fingerprint(ed.strip() + "\n" + rsa.strip()) == ed_fpr


# -- grafana_ini over the defaults ---------------------------------------------------------------------------------

def _reference_merge(base, override):
    """The filter's former hand-written merge, kept here to show merge_hash behaves the same."""
    result = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _reference_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


MERGE_CASES = [
    ({}, {}),
    ({"server": {"http_port": 3000}}, {}),
    ({}, {"server": {"http_port": 3001}}),
    ({"server": {"http_port": 3000, "http_addr": "127.0.0.1"}}, {"server": {"http_port": 3001}, "users": {"a": 1}}),
    ({"a": {"b": {"c": 1, "d": [1, 2]}}, "x": 1}, {"a": {"b": {"d": [3], "e": None}}, "x": {"now": "a dict"}}),
    ({"a": {"b": 1}}, {"a": "scalar over a dict"}),
    ({"same": {"k": "v"}}, {"same": {"k": "v"}}),
]


@pytest.mark.parametrize("base, override", MERGE_CASES)
def test_merge_is_combine_recursive(base, override):
    merged = _merge(base, override)
    assert merged == _reference_merge(base, override) == combine(base, override, recursive=True)
    # Same key order, which is the order of grafana.ini's sections and options.
    assert list(merged) == list(_reference_merge(base, override))
    for key, value in merged.items():
        if isinstance(value, dict):
            assert list(value) == list(_reference_merge(base, override)[key])


def test_merge_leaves_its_inputs_alone():
    base, override = {"server": {"http_port": 3000}}, {"server": {"http_addr": "10.0.0.1"}}
    _merge(base, override)
    assert base == {"server": {"http_port": 3000}} and override == {"server": {"http_addr": "10.0.0.1"}}


def test_grafana_ini_is_rendered_from_the_merge():
    built = grafana_config({"defaults": {"server": {"http_addr": "127.0.0.1", "http_port": 3000}, "users": {"x": 1}},
                            "ini": {"server": {"http_port": 3001}, "log": {"mode": "console"}}})
    assert built["problems"] == []
    assert built["text"] == ("[server]\nhttp_addr = 127.0.0.1\nhttp_port = 3001\n\n[users]\nx = 1\n\n"
                             "[log]\nmode = console\n")
