# vigil.observability: `make lab` and `make test` are the two commands.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := $(CURDIR)/.venv
export PATH := $(CURDIR)/.cache/tools/bin:$(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.cache/collections
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export NO_COLOR := 1
export PY_COLORS := 0

.PHONY: help test lab lab-destroy bench lint unit roles molecule images venv docker clean-images

help:
	@echo "make lab          deploy the stack to local lab containers and print where to look"
	@echo "make lab-destroy  remove the lab containers and network"
	@echo "make test         lint, unit tests and every Molecule scenario (ends with 'N passed, N failed')"
	@echo "make bench        converge benchmark (fresh lab-style containers, then an unchanged re-run),"
	@echo "                  the role-core converge benchmark (before the core, after it, and prometheus.prometheus,"
	@echo "                  archive installs on fresh containers, first and unchanged, three rounds),"
	@echo "                  the scrape-configuration rendering benchmark (100, 1,000, 5,000 hosts),"
	@echo "                  the Grafana dashboard provisioning benchmark (100 dashboards, cold and unchanged,"
	@echo "                  against the in-process fake Grafana),"
	@echo "                  the SLO rule generation benchmark (10, 100, 1,000 SLOs, with promtool),"
	@echo "                  then the alert latency benchmark (exporter stopped -> notification; about 25 minutes)"

venv:
	@scripts/ensure-venv.sh
	@scripts/ensure-tools.sh
	@scripts/link-collection.sh

docker:
	@scripts/ensure-docker.sh

images: docker
	@scripts/build-images.sh

test: venv images
	@$(VENV)/bin/python scripts/run-tests.py

# Parts of `make test`, for development.
lint: venv
	@$(VENV)/bin/python scripts/run-tests.py tests/lint
unit: venv
	@$(VENV)/bin/python scripts/run-tests.py tests/unit
roles: venv
	@$(VENV)/bin/python scripts/run-tests.py tests/roles
molecule: venv images
	@$(VENV)/bin/python scripts/run-tests.py tests/integration

lab: venv images
	@ansible-playbook playbooks/lab/up.yml
	@ansible-playbook playbooks/site.yml -i inventories/lab
	@ansible-playbook playbooks/lab/report.yml -i inventories/lab

lab-destroy: venv
	@ansible-playbook playbooks/lab/destroy.yml

# Every benchmark runs, also after one has failed (an interrupted one stops
# the rest); the last line names the failed ones.
BENCHMARKS := converge core_converge scrape_config grafana_provision slo_rules alert_latency
bench: venv images
	@start=$$(date +%s); failed=""; \
	for b in $(BENCHMARKS); do \
	  echo "== benchmarks/$$b.py"; \
	  $(VENV)/bin/python benchmarks/$$b.py; rc=$$?; \
	  if [ $$rc -ge 128 ]; then echo "make bench: benchmarks/$$b.py interrupted"; exit $$rc; fi; \
	  [ $$rc -eq 0 ] || failed="$$failed $$b.py"; \
	done; \
	echo "make bench took $$(( $$(date +%s) - start )) s; failed:$${failed:- none}"; \
	[ -z "$$failed" ]

clean-images: docker
	-docker image rm vigil/debian12:latest vigil/debian13:latest
