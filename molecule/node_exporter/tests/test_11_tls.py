"""TLS on the archive-method host (debian12); debian13 serves plain HTTP."""

from test_10_exporter import SENTINEL, _address, _curl

testinfra_hosts = ["ansible://debian12"]


def test_tls_served_and_verified(host):
    ip = _address(host)
    plain = host.run("curl -sS -o /dev/null -w '%%{http_code}' http://%s:9100/metrics" % ip)
    assert plain.stdout.strip() in ("400", "000"), "plain HTTP to the TLS listener answered %r" % plain.stdout
    old = host.run("curl -sS -o /dev/null --tlsv1.1 --tls-max 1.1 -k https://%s:9100/metrics" % ip)
    assert old.rc != 0, "TLS 1.1 was accepted"
    assert _curl(host, user="prometheus", password=SENTINEL)[0] == 200
