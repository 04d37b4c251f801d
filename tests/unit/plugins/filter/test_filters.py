"""Unit tests for the collection's filter plugins."""

import bcrypt
import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.vigil.observability.plugins.filter import systemd, web_config

SECRET = "S3ntinel-unit-test-password"


def test_hashes_verify_and_use_the_requested_cost():
    hashed = web_config.bcrypt_users({"prometheus": SECRET}, cost=10)["prometheus"]
    assert hashed.startswith("$2b$10$")
    assert bcrypt.checkpw(SECRET.encode(), hashed.encode())


def test_existing_hash_is_kept_when_it_still_matches():
    first = web_config.bcrypt_users({"prometheus": SECRET}, cost=10)
    second = web_config.bcrypt_users({"prometheus": SECRET}, existing=first, cost=10)
    assert second == first


def test_changed_password_gets_a_new_hash_and_other_users_keep_theirs():
    first = web_config.bcrypt_users({"a": SECRET, "b": "other-password"}, cost=10)
    second = web_config.bcrypt_users({"a": SECRET + "2", "b": "other-password"}, existing=first, cost=10)
    assert second["b"] == first["b"]
    assert second["a"] != first["a"]
    assert bcrypt.checkpw((SECRET + "2").encode(), second["a"].encode())


def test_changed_cost_rehashes():
    first = web_config.bcrypt_users({"a": SECRET}, cost=10)
    second = web_config.bcrypt_users({"a": SECRET}, existing=first, cost=11)
    assert second["a"].startswith("$2b$11$")


def test_garbage_existing_hash_is_replaced():
    result = web_config.bcrypt_users({"a": SECRET}, existing={"a": "plain-text"}, cost=10)
    assert bcrypt.checkpw(SECRET.encode(), result["a"].encode())


def test_removed_user_is_dropped():
    first = web_config.bcrypt_users({"a": SECRET, "b": SECRET}, cost=10)
    assert set(web_config.bcrypt_users({"a": SECRET}, existing=first, cost=10)) == {"a"}


@pytest.mark.parametrize("password, size", [("x" * 73, 73), ("é" * 37, 74)])
def test_passwords_over_72_bytes_are_refused_without_echoing_them(password, size):
    with pytest.raises(AnsibleFilterError) as err:
        web_config.bcrypt_users({"prometheus": password}, cost=10, variable="node_exporter_basic_auth_users")
    message = str(err.value)
    assert "node_exporter_basic_auth_users" in message and "prometheus" in message and str(size) in message
    assert password not in message


def test_72_bytes_is_accepted():
    hashed = web_config.bcrypt_users({"a": "y" * 72}, cost=10)["a"]
    assert bcrypt.checkpw(b"y" * 72, hashed.encode())


@pytest.mark.parametrize("users, fragment", [
    ({"": "pw"}, "empty"),
    ({"a:b": "pw"}, "must not contain ':'"),
    ({"a": ""}, "non-empty string"),
    ({"a": 123}, "non-empty string"),
    (["a"], "dictionary"),
])
def test_password_problems(users, fragment):
    problems = web_config.password_problems(users, "v")
    assert problems and fragment in problems[0] and problems[0].startswith("v")


@pytest.mark.parametrize("cost", [9, 32, "x"])
def test_cost_out_of_range_is_refused(cost):
    with pytest.raises(AnsibleFilterError):
        web_config.bcrypt_users({"a": SECRET}, cost=cost)


def test_hash_cost():
    assert web_config.hash_cost(bcrypt.hashpw(b"x", bcrypt.gensalt(rounds=10)).decode()) == 10
    assert web_config.hash_cost("nope") is None


@pytest.mark.parametrize("value, expected", [
    ("/metrics", '"/metrics"'),
    ("a b", '"a b"'),
    ('say "hi"', '"say \\"hi\\""'),
    ("100%", '"100%%"'),
    ("$HOME", '"$$HOME"'),
    ("back\\slash", '"back\\\\slash"'),
    (True, '"true"'),
    (40, '"40"'),
])
def test_systemd_quote(value, expected):
    assert systemd.systemd_quote(value) == expected


def test_systemd_flags_sorted_bare_and_omitted():
    flags = {"web.max-requests": 40, "collector.systemd": True, "collector.off": False, "x": None}
    assert systemd.systemd_flags(flags) == ["--collector.systemd", '--web.max-requests="40"']
