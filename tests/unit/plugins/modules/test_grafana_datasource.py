"""grafana_datasource against the fake Grafana: create, idempotence, update, write-only secrets, health, delete."""

import json

from ansible_collections.vigil.observability.tests.unit.plugins.modules.grafana_testlib import (
    EDITOR_TOKEN,
    TOKEN,
    assert_no_secret,
    load,
    run_module,
)

grafana_datasource = load("modules.grafana_datasource")


SECRET = "SENTINEL-ds-basic-pw-51c0"      # noqa: S105
HEADER = "SENTINEL-ds-header-value-9e2d"  # noqa: S105


def run(params, **kwargs):
    return run_module(grafana_datasource, params, **kwargs)


def prometheus(conn, **extra):
    params = dict(conn, name="Prometheus", uid="prometheus", type="prometheus", datasource_url="http://127.0.0.1:9090",
                  is_default=True, json_data={"httpMethod": "POST", "timeInterval": "15s"})
    params.update(extra)
    return params


def test_create_then_rerun_only_reads(grafana, conn):
    outcome, result = run(prometheus(conn, basic_auth_user="grafana", basic_auth_password=SECRET), diff=True)
    assert outcome == "exit", result
    assert result["changed"] is True and result["action"] == "created"
    assert result["datasource"]["secure_json_fields"] == ["basicAuthPassword"]
    stored = grafana.datasources["prometheus"]
    assert stored["url"] == "http://127.0.0.1:9090" and stored["basicAuth"] is True
    assert stored["_secure"] == {"basicAuthPassword": SECRET}
    assert result["diff"]["after"]["secureJsonData"] == {"basicAuthPassword": "(write-only)"}
    assert_no_secret(result, SECRET, TOKEN)

    grafana.clear_log()
    outcome, result = run(prometheus(conn, basic_auth_user="grafana", basic_auth_password=SECRET), diff=True)
    assert outcome == "exit", result
    assert result["changed"] is False and result["action"] == "unchanged"
    assert grafana.mutating() == [] and grafana.count("GET") == 1
    assert "diff" not in result or result["diff"]["before"] == result["diff"]["after"]


def test_update_keeps_unset_fields_and_secrets(grafana, conn):
    run(prometheus(conn, secure_json_data={"httpHeaderValue1": HEADER}))
    outcome, result = run(dict(conn, name="Prometheus", uid="prometheus", json_data={"httpMethod": "GET"},
                               is_default=True), diff=True)
    assert outcome == "exit", result
    assert result["action"] == "updated" and result["changed_keys"] == ["jsonData"]
    put = grafana.mutating()[-1]
    assert put["method"] == "PUT" and put["path"] == "/api/datasources/uid/prometheus"
    assert "secureJsonData" not in put["body"]
    stored = grafana.datasources["prometheus"]
    assert stored["url"] == "http://127.0.0.1:9090" and stored["type"] == "prometheus"
    assert stored["_secure"] == {"httpHeaderValue1": HEADER}
    assert result["diff"]["before"]["jsonData"] == {"httpMethod": "POST", "timeInterval": "15s"}
    assert result["diff"]["after"]["jsonData"] == {"httpMethod": "GET"}
    assert result["diff"]["after"]["secureJsonFields"] == ["httpHeaderValue1"]


def test_secure_update_on_create_and_always(grafana, conn):
    run(prometheus(conn, secure_json_data={"httpHeaderValue1": HEADER}))
    # A rotated value is not noticed with on_create (Grafana cannot tell us the stored one)...
    outcome, result = run(prometheus(conn, secure_json_data={"httpHeaderValue1": "rotated-" + HEADER}))
    assert result["changed"] is False
    # ...but a new key is sent, alone.
    outcome, result = run(prometheus(conn, secure_json_data={"httpHeaderValue1": "rotated-" + HEADER,
                                                             "password": SECRET}), diff=True)
    assert result["changed"] is True and result["changed_keys"] == ["secureJsonData.password"]
    assert grafana.mutating()[-1]["body"]["secureJsonData"] == {"password": SECRET}
    assert grafana.datasources["prometheus"]["_secure"]["httpHeaderValue1"] == HEADER
    assert result["diff"]["after"]["secureJsonData"] == {"password": "(write-only)"}
    assert_no_secret(result, SECRET, HEADER)
    # always: every run writes.
    for _ in range(2):
        outcome, result = run(prometheus(conn, secure_json_data={"httpHeaderValue1": "rotated-" + HEADER},
                                         secure_update="always"))
        assert result["changed"] is True
    assert grafana.datasources["prometheus"]["_secure"]["httpHeaderValue1"] == "rotated-" + HEADER
    assert_no_secret(result, HEADER)


def test_check_mode_and_diff(grafana, conn):
    outcome, result = run(prometheus(conn, basic_auth_password=SECRET), check_mode=True, diff=True)
    assert result["changed"] is True and result["action"] == "created"
    assert grafana.datasources == {}
    run(prometheus(conn))
    outcome, result = run(prometheus(conn, datasource_url="http://10.0.0.9:9090"), check_mode=True, diff=True)
    assert result["changed"] is True and result["changed_keys"] == ["url"]
    outcome, result = run(dict(conn, name="Prometheus", state="absent"), check_mode=True)
    assert result["changed"] is True and result["action"] == "deleted"
    assert grafana.mutating()[-1]["method"] == "POST" and len(grafana.mutating()) == 1
    assert grafana.datasources["prometheus"]["url"] == "http://127.0.0.1:9090"
    assert_no_secret(result, SECRET)


def test_found_by_name_and_deleted(grafana, conn):
    run(dict(conn, name="Alertmanager", type="alertmanager", datasource_url="http://127.0.0.1:9093",
             json_data={"implementation": "prometheus"}))
    uid = next(iter(grafana.datasources))
    outcome, result = run(dict(conn, name="Alertmanager", type="alertmanager", datasource_url="http://127.0.0.1:9093",
                               json_data={"implementation": "prometheus"}))
    assert result["changed"] is False
    assert grafana.requests[-1]["path"] == "/api/datasources/name/Alertmanager"
    outcome, result = run(dict(conn, name="Alertmanager", state="absent"))
    assert result["changed"] is True and grafana.mutating()[-1]["path"] == "/api/datasources/uid/%s" % uid
    assert grafana.datasources == {}
    outcome, result = run(dict(conn, name="Alertmanager", state="absent"))
    assert result["changed"] is False


def test_name_taken_by_another_uid(grafana, conn):
    run(dict(conn, name="Prometheus", uid="old", type="prometheus", datasource_url="http://x"))
    outcome, result = run(prometheus(conn))
    assert outcome == "fail"
    assert "datasource uid 'prometheus'" in result["msg"] and "taken by datasource uid 'old'" in result["msg"]


def test_health_check(grafana, conn):
    outcome, result = run(prometheus(conn, health_check=True))
    assert outcome == "exit", result
    assert result["health"]["status"] == "OK"
    assert grafana.count("GET", "/api/datasources/uid/prometheus/health") == 1
    grafana.health_errors["prometheus"] = 'Post "http://127.0.0.1:9090/api/v1/query": dial tcp: connection refused'
    outcome, result = run(prometheus(conn, health_check=True, datasource_url="http://127.0.0.1:9091"))
    assert outcome == "fail"
    assert result["msg"].startswith("datasource uid 'prometheus': health check failed after it was written: ERROR:")
    assert "connection refused" in result["msg"] and result["changed"] is True
    # In check mode a pending change is not health-checked (the old settings would be tested).
    grafana.clear_log()
    run(prometheus(conn, health_check=True), check_mode=True)
    assert grafana.count("GET", "/api/datasources/uid/prometheus/health") == 0


def test_elasticsearch_and_jaeger(grafana, conn):
    for params in (dict(name="Logs", uid="es", type="elasticsearch", datasource_url="http://127.0.0.1:9200",
                        json_data={"index": "logs-*", "timeField": "@timestamp"}),
                   dict(name="Jaeger", uid="jaeger", type="jaeger", ds_url="http://127.0.0.1:16686",
                        json_data={"tracesToLogsV2": {"datasourceUid": "es"}})):
        outcome, result = run(dict(conn, **params))
        assert outcome == "exit" and result["changed"] is True, result
        outcome, result = run(dict(conn, **params))
        assert result["changed"] is False
    assert grafana.datasources["jaeger"]["url"] == "http://127.0.0.1:16686"


def test_editor_gets_a_clear_403(grafana, conn):
    outcome, result = run(prometheus(conn, token=EDITOR_TOKEN, basic_auth_password=SECRET))
    assert outcome == "fail"
    assert "HTTP 403" in result["msg"] and "Admin role" in result["msg"] and "datasource uid 'prometheus'" in result["msg"]
    assert_no_secret(result, SECRET, EDITOR_TOKEN)


def test_secrets_never_in_requests_log_of_reads(grafana, conn):
    run(prometheus(conn, basic_auth_password=SECRET))
    grafana.clear_log()
    outcome, result = run(prometheus(conn, basic_auth_password=SECRET), diff=True)
    assert SECRET not in json.dumps([r["body"] for r in grafana.requests])
    assert_no_secret(result, SECRET)
