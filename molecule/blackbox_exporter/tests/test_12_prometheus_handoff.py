"""The probes declared in vigil_probes, as the prometheus role hands them to Prometheus, work against this exporter.

The scrape plan is built by the prometheus role's own filter from this
scenario's inventory; each target group is then fetched the way Prometheus
would (address, /probe, __param_* as URL parameters, the job's basic auth),
from the prober host.
"""

import json
import os
import shlex
import urllib.parse

from bbx import PROBER, samples
from vigil_testinfra import molecule_hosts, run_playbook

EXPECTED = {  # (module, target) -> probe_success
    ("http_2xx", "http://bbx-web:8080/"): 1,
    ("https_testca", "https://bbx-web:8443/"): 1,
    ("tcp_connect", "bbx-web:8080"): 1,
    ("tcp_connect", "bbx-web:1"): 0,
    ("icmp", "bbx-web"): 1,
}


def test_probe_jobs_from_the_inventory_run_on_the_exporter():
    result = run_playbook("plan.yml")
    assert result.returncode == 0, result.stdout[-3000:]
    with open(os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "plan.json")) as handle:
        plan = json.load(handle)
    assert plan["problems"] == [], plan["problems"]
    jobs = {config["job_name"]: config for config in plan["scrape_configs"]}
    assert set(jobs) == {"blackbox_exporter", "blackbox"}, sorted(jobs)
    job = jobs["blackbox"]
    assert job["metrics_path"] == "/probe" and job["scheme"] == "http"
    password = plan["secrets"][os.path.basename(job["basic_auth"]["password_file"])]
    prober = molecule_hosts((PROBER,))[PROBER]
    seen = {}
    for group in plan["file_sd"]["blackbox.json"]:
        labels = group["labels"]
        assert labels["prober"] == PROBER and labels["instance"] == labels["__param_target"]
        params = urllib.parse.urlencode({"target": labels["__param_target"], "module": labels["__param_module"]})
        url = "%s://%s%s?%s" % (job["scheme"], group["targets"][0], job["metrics_path"], params)
        auth = shlex.quote("%s:%s" % (job["basic_auth"]["username"], password))
        out = prober.check_output("curl -sS -m 30 -u %s %s" % (auth, shlex.quote(url)))
        seen[(labels["module"], labels["instance"])] = samples(out).get("probe_success")
    assert seen == EXPECTED
