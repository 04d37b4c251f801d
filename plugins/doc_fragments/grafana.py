# -*- coding: utf-8 -*-
# Copyright: vigil.observability contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection, authentication and TLS options shared by every Grafana HTTP API module.
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of Grafana, for example V(http://127.0.0.1:3000) or V(https://grafana.example.com/grafana) when
        Grafana is served under a sub-path (C(root_url) with C(serve_from_sub_path)).
      - When not set, the environment variable E(GRAFANA_URL) is used.
      - User information in the URL (V(https://user:password@host)) is used for basic auth when neither O(token)
        nor O(url_password) is given, and is never shown in messages.
    type: str
    required: true
  token:
    description:
      - Service account token, sent in the C(Authorization) header as C(Bearer <token>). Used instead of basic auth
        when set.
      - When not set, the environment variable E(GRAFANA_TOKEN) is used.
      - Never shown in the output, in diffs or in error messages.
    type: str
  url_username:
    description:
      - User name for basic auth, used when no O(token) is given.
      - When not set, the environment variable E(GRAFANA_USER) is used, then V(admin).
    type: str
    default: admin
  url_password:
    description:
      - Password for basic auth, used when no O(token) is given. One of O(token) and O(url_password) is required.
      - When not set, the environment variable E(GRAFANA_PASSWORD) is used.
      - Never shown in the output, in diffs or in error messages.
    type: str
  validate_certs:
    description:
      - Verify the TLS certificate of an C(https) O(url), including its host name. Only switch this off for a test
        instance; give O(ca_path) for a private CA instead.
    type: bool
    default: true
  ca_path:
    description: PEM file with the CA certificate(s) to verify an C(https) O(url) with, instead of the system's trust store.
    type: path
  timeout:
    description: Seconds to wait for each HTTP request to connect and answer.
    type: int
    default: 10
  org_id:
    description:
      - Grafana organisation to act in, sent as the C(X-Grafana-Org-Id) header. Without it Grafana uses the current
        organisation of the user (or the organisation of the service account).
    type: int
notes:
  - The modules talk to the Grafana HTTP API with C(ansible.module_utils.urls) and need no Python package on the host
    they run on.
  - Errors name the URL (without user information), the object (for example C(dashboard uid 'vigil-node')) and the
    HTTP status; for 401 the credentials were refused, for 403 the message says which role is usually needed.
  - In check mode no POST, PUT, PATCH or DELETE request is sent; only GET requests are made to read the current state.
"""
