"""What the grafana scenario's tests share."""

from vigil_testinfra import run_playbook

HOST = "grafana-d13"
SECRETS = ["S3ntinel-9e41-grafana-admin", "S3ntinel-9e41-loki", "S3ntinel-9e41-prom", "S3ntinel-9e41-am",
           "S3ntinel-9e41-ops"]
SKIP = "grafana_package,grafana_run"
INI = "/etc/grafana/grafana.ini"
KEY = "/etc/grafana/secrets/secret_key"
SOURCES = "/etc/apt/sources.list.d/grafana.sources"
KEYRING = "/etc/apt/keyrings/grafana.asc"


def converge(extra_vars=None, verbosity=0, diff=False, check=False, tags=None):
    """Run converge.yml the way Molecule does in this scenario (without the package and run tags).

    tags: only these parts of the role (preflight and the read of the host always run), as an SRE
    changing only the configuration would, for example grafana_configure.
    """
    return run_playbook(extra_vars=extra_vars, verbosity=verbosity, diff=diff, check=check,
                        extra_args=("--skip-tags", SKIP) + (("--tags", tags) if tags else ()))
