"""prom's web interface: HTTPS with basic auth, and the credential files it uses for scraping."""

import json

import pytest
import requests
import yaml
from prom_api import PROM_USERS, Prometheus

testinfra_hosts = ["prom"]


@pytest.fixture(scope="module")
def prom(host):
    return Prometheus(host, "prom")


@pytest.mark.parametrize("user, password, status", [
    (None, None, 401), ("prometheus", "wrong", 401), ("admin", PROM_USERS["admin"], 200)])
def test_prom_requires_credentials_on_every_path(host, prom, user, password, status):
    for path in ("/-/healthy", "/-/ready", "/metrics", "/api/v1/query?query=up"):
        auth = (user, password) if user else None
        response = requests.get(prom.base + path, verify=prom.kwargs["verify"], auth=auth, timeout=10)
        assert response.status_code == status, path


def test_prom_refuses_old_tls(host):
    result = host.run("curl -sS -o /dev/null --tlsv1.1 --tls-max 1.1 -k https://$(hostname -I | cut -d' ' -f1):9090/-/healthy")
    assert result.rc != 0


def test_password_files_hold_the_scrape_credentials(host):
    names = host.check_output("ls /etc/prometheus/secrets").split()
    assert names, "no credential files"
    for name in names:
        f = host.file("/etc/prometheus/secrets/" + name)
        assert (f.user, f.group, f.mode) == ("root", "prometheus", 0o640)
    web = yaml.safe_load(host.file("/etc/prometheus/web.yml").content_string)
    assert all(h.startswith("$2") for h in web["basic_auth_users"].values())
    assert json.dumps(web).find("S3ntinel") == -1
