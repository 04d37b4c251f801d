"""app sends its samples to long-term storage (a stand-in receiver) with credentials kept out of prometheus.yml."""

import time

import requests
import yaml
from prom_api import address

testinfra_hosts = ["app"]
PASSWORD = "S3ntinel-8c21e94b-remote-write"


def test_remote_write_password_lives_in_a_file(host):
    config = yaml.safe_load(host.file("/etc/prometheus/prometheus.yml").content_string)
    auth = config["remote_write"][0]["basic_auth"]
    assert auth["username"] == "vigil" and "password" not in auth
    secret = host.file(auth["password_file"])
    assert (secret.user, secret.group, secret.mode) == ("root", "prometheus", 0o640)
    assert secret.content_string == PASSWORD
    assert PASSWORD not in host.file("/etc/prometheus/prometheus.yml").content_string


def test_samples_reach_the_receiver_with_credentials(host):
    url = "http://%s:8000/received" % address(host)
    deadline = time.time() + 90
    received = {}
    while time.time() < deadline:
        received = requests.get(url, timeout=5).json()
        if received["authorized"] > 0:
            break
        time.sleep(2)
    assert received.get("authorized", 0) > 0, received
    assert received["authorized"] == received["posts"], received
