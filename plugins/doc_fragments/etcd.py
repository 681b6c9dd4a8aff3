# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Connection options shared by the etcd modules (argument spec in module_utils/_etcd/argspec.py).
    DOCUMENTATION = r"""
options:
  endpoints:
    description:
      - Client URLs of etcd members, for example V(https://10.0.0.11:2379).
      - Cluster calls try them in order and fail only when none answers, naming each endpoint and its error.
      - Falls back to the E(ETCDCTL_ENDPOINTS) environment variable (comma-separated).
    type: list
    elements: str
    required: true
  ca_cert:
    description:
      - Path of the CA bundle that signed the members' client (server) certificates.
      - For kubeadm's stacked etcd this is V(/etc/kubernetes/pki/etcd/ca.crt).
      - Falls back to E(ETCDCTL_CACERT).
    type: path
  client_cert:
    description:
      - Path of the client certificate (PEM) presented to etcd.
      - For kubeadm's stacked etcd use V(/etc/kubernetes/pki/etcd/healthcheck-client.crt) or
        V(/etc/kubernetes/pki/apiserver-etcd-client.crt).
      - Falls back to E(ETCDCTL_CERT).
    type: path
  client_key:
    description:
      - Path of the private key of O(client_cert). Falls back to E(ETCDCTL_KEY).
    type: path
  validate_certs:
    description:
      - Verify the members' certificates. Only turn this off to debug.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each HTTP request.
    type: float
    default: 5
  health_timeout:
    description:
      - Seconds to wait for each member's status probe when judging health. Dead members cost this much each.
    type: float
    default: 3
notes:
  - Talks to the etcd v3 HTTP/JSON gateway (etcd 3.4 or later) with Ansible's own URL helpers;
    the managed node needs no extra Python package.
"""
