#!/usr/bin/env python3
"""Scale benchmark for the scrape configuration built from the inventory.

For 100, 1,000 and 5,000 inventory hosts (or the sizes given), writes a
synthetic inventory (every host runs node_exporter; one in ten is a
PostgreSQL host; one in five runs a service with a business event; one in
ten serves node_exporter with TLS and basic auth; a few HTTP probes) and runs
ansible-playbook on the controller only (connection local) with the same
filter call and rendering the prometheus role makes: the scrape plan from
groups and hostvars, then prometheus.yml's scrape section and one file_sd
JSON file per job written to a temporary directory.

Each size is run three times: with only the inventory loaded (the
baseline), with the plan built and every document rendered (render = this
minus the baseline), and with the documents also written (write = the
difference; one copy per file_sd file, a number that grows with jobs, not
hosts). It prints, per size, those seconds, render microseconds per host,
the total, the peak resident memory of the ansible-playbook processes and the
number of targets written, then whether the render cost grows linearly
(render seconds per host at the largest size at most 1.5x that of the
middle size) and whether the largest size renders in under 10 seconds.

Exit status: 0 when both hold, 1 otherwise.

    .venv/bin/python benchmarks/scrape_config.py [--sizes 100 1000 5000]
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS_DIR = os.path.join(ROOT, "benchmarks", "results")
LIMIT_SECONDS = 10.0
LINEAR_FACTOR = 1.5

PLAYBOOK = """\
- name: Render the scrape configuration
  hosts: prom-0
  connection: local
  gather_facts: false
  vars:
    exporters:
      - {job: prometheus, group: prometheus, role: prometheus, port: 9090}
      - {job: alertmanager, group: alertmanager, role: alertmanager, port: 9093}
      - {job: node, group: all, role: node_exporter, port: 9100}
      - {job: postgres, group: postgres, role: postgres_exporter, port: 9187}
      - {job: blackbox_exporter, group: blackbox, role: blackbox_exporter, port: 9115}
  tasks:
    - name: Build the scrape plan from the inventory
      ansible.builtin.set_fact:
        plan: >-
          {{ groups | vigil.observability.prometheus_scrape_plan(hostvars, exporters, inventory_hostname,
               paths={'file_sd_dir': out ~ '/file_sd', 'secrets_dir': out ~ '/secrets', 'tls_dir': out ~ '/tls'},
               tls={'ca': true}) }}
      no_log: true
      when: stage | int >= 1

    - name: Render prometheus.yml's scrape section and the file_sd documents
      ansible.builtin.set_fact:
        rendered:
          prometheus_yml: >-
            {{ {'scrape_configs': plan.scrape_configs, 'alerting': {'alertmanagers': plan.alertmanagers}} | to_nice_yaml(indent=2) }}
          file_sd: "{{ dict(plan.file_sd.keys() | zip(plan.file_sd.values() | map('to_nice_json', indent=2))) }}"
          problems: "{{ plan.problems }}"
      no_log: true
      when: stage | int >= 1

    - name: Fail on inventory problems
      ansible.builtin.assert:
        that: rendered.problems | length == 0
        fail_msg: "{{ rendered.problems[:5] }}"
      when: stage | int >= 1

    - name: Write prometheus.yml's scrape section
      ansible.builtin.copy:
        content: "{{ rendered.prometheus_yml }}"
        dest: "{{ out }}/prometheus.yml"
        mode: "0640"
      when: stage | int >= 2

    - name: Write the file_sd files
      ansible.builtin.copy:
        content: "{{ item.value }}"
        dest: "{{ out }}/file_sd/{{ item.key }}"
        mode: "0640"
      loop: "{{ rendered.file_sd | dict2items if stage | int >= 2 else [] }}"
      loop_control:
        label: "{{ item.key }}"
"""


def inventory(size):
    hosts = {}
    for index in range(size):
        name = "node-%d" % index
        hv = {"ansible_host": "10.%d.%d.%d" % (index // 65536 % 256, index // 256 % 256, index % 256)}
        if index % 5 == 0:
            hv["vigil_services"] = [{"name": "api-%d" % (index % 7), "port": 8000, "labels": {"team": "t%d" % (index % 3)},
                                     "business_events": {"requests_served": "api_requests_served_total"}}]
        if index % 50 == 0:
            hv["vigil_probes"] = ["https://svc-%d.example.com/health" % index]
        hosts[name] = hv
    hosts["prom-0"] = {"ansible_host": "10.255.0.1", "ansible_python_interpreter": sys.executable}
    hosts["bb-0"] = {"ansible_host": "10.255.0.2"}
    names = sorted(hosts)
    return {"all": {
        "hosts": hosts,
        "children": {
            "prometheus": {"hosts": {"prom-0": {}}},
            "blackbox": {"hosts": {"bb-0": {}}},
            "alertmanager": {"hosts": {"prom-0": {}}},
            "postgres": {"hosts": {n: {} for n in names[::10]}},
            "secure": {"hosts": {n: {} for n in names[3::10]},
                       "vars": {"node_exporter_tls_cert": "PEM", "node_exporter_basic_auth_users": {"prometheus": "bench-pw"}}},
        },
    }}


def measure(workdir, stage):
    """Run the playbook in a child that reports its own children's peak RSS; return (seconds, peak MiB)."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".cache", "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"))
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", os.path.join(workdir, "inventory.yml"),
           os.path.join(workdir, "play.yml"), "-e", json.dumps({"stage": stage, "out": os.path.join(workdir, "out")})]
    probe = ("import resource, subprocess, sys, time; t = time.monotonic(); "
             "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True); "
             "d = time.monotonic() - t; "
             "print('%.3f %d %d' % (d, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)); "
             "sys.stderr.write(p.stdout if p.returncode else '')")
    proc = subprocess.run([sys.executable, "-c", probe] + cmd, env=env, capture_output=True, text=True)
    seconds, rss_kib, rc = proc.stdout.split()
    if int(rc) != 0:
        raise SystemExit("ansible-playbook failed:\n" + proc.stderr[-3000:])
    return float(seconds), int(rss_kib) / 1024.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    args = parser.parse_args()
    rows = []
    print("%7s %8s %9s %9s %12s %9s %10s %8s" % ("hosts", "base_s", "render_s", "write_s", "us_per_host", "total_s",
                                                  "peak_MiB", "targets"))
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="vigil-scrape-bench-") as workdir:
            os.makedirs(os.path.join(workdir, "out", "file_sd"))
            with open(os.path.join(workdir, "inventory.yml"), "w") as handle:
                yaml.safe_dump(inventory(size), handle)
            with open(os.path.join(workdir, "play.yml"), "w") as handle:
                handle.write(PLAYBOOK)
            base, _ = measure(workdir, 0)
            rendered, peak = measure(workdir, 1)
            total, peak_total = measure(workdir, 2)
            targets = 0
            for name in os.listdir(os.path.join(workdir, "out", "file_sd")):
                with open(os.path.join(workdir, "out", "file_sd", name)) as handle:
                    targets += len(json.load(handle))
        render = max(rendered - base, 0.0)
        write = max(total - rendered, 0.0)
        rows.append({"hosts": size, "baseline_s": base, "render_s": render, "write_s": write, "total_s": total,
                     "render_us_per_host": render / size * 1e6, "peak_mib": max(peak, peak_total), "targets": targets})
        print("%7d %8.2f %9.2f %9.2f %12.0f %9.2f %10.1f %8d" % (size, base, render, write, render / size * 1e6, total,
                                                                  max(peak, peak_total), targets))

    ok = True
    if len(rows) >= 2:
        middle, largest = rows[-2], rows[-1]
        factor = largest["render_us_per_host"] / max(middle["render_us_per_host"], 1e-9)
        linear = factor <= LINEAR_FACTOR
        print("linear: render cost per host at %d hosts is %.2fx that at %d hosts (limit %.1fx): %s"
              % (largest["hosts"], factor, middle["hosts"], LINEAR_FACTOR, "yes" if linear else "NO"))
        ok = ok and linear
    fast = rows[-1]["render_s"] < LIMIT_SECONDS
    print("%d hosts render in %.2f s (limit %.0f s): %s" % (rows[-1]["hosts"], rows[-1]["render_s"], LIMIT_SECONDS,
                                                        "yes" if fast else "NO"))
    ok = ok and fast
    os.makedirs(RESULTS_DIR, exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    with open(os.path.join(RESULTS_DIR, "scrape-config-%s.json" % stamp), "w") as handle:
        json.dump({"rows": rows, "ok": ok, "time": time.time()}, handle, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
