# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by the etcd modules, and the one place that builds a client."""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

from ansible_collections.quorum.k8s.plugins.module_utils._etcd.client import EtcdClient


def connection_argument_spec():
    return dict(
        endpoints=dict(type="list", elements="str", required=True, fallback=(env_fallback, ["ETCDCTL_ENDPOINTS"])),
        ca_cert=dict(type="path", fallback=(env_fallback, ["ETCDCTL_CACERT"])),
        client_cert=dict(type="path", fallback=(env_fallback, ["ETCDCTL_CERT"])),
        client_key=dict(type="path", no_log=False, fallback=(env_fallback, ["ETCDCTL_KEY"])),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="float", default=5),
        health_timeout=dict(type="float", default=3),
    )


def client_from_params(params):
    endpoints = []
    for item in params["endpoints"]:
        endpoints.extend(e.strip() for e in item.split(",") if e.strip())
    return EtcdClient(
        endpoints,
        ca_cert=params.get("ca_cert"),
        client_cert=params.get("client_cert"),
        client_key=params.get("client_key"),
        timeout=params.get("timeout") or 5,
        validate_certs=params.get("validate_certs", True),
    )
