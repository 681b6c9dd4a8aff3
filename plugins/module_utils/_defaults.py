# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's pinned versions and cluster defaults, stated once.

KUBERNETES_VERSION is the release the collection is tested with: the mirror builder builds it,
the lab installs it, and it is the default of ``quorum_kubernetes_version``.

CLUSTER_DEFAULTS are the defaults of the optional cluster-wide inventory variables
(docs/inventory.md). The preflight checks read them (``_preflight.py``) and roles, playbooks and
scenarios read a resolved value through the lookup ``quorum.k8s.cluster_setting``: no role or
playbook restates a default with ``| default(...)``.
"""

from __future__ import annotations

KUBERNETES_VERSION = "1.35.8"

# The release an upgrade to KUBERNETES_VERSION is tested from (playbooks/upgrade.yml, Molecule
# scenario upgrade): the previous minor's newest patch that the Go module proxy serves.
UPGRADE_FROM_VERSION = "1.34.12"

# The policy-enforcing pod network (quorum_network_plugin: kube-router). v2.1.0 is the only
# release the Go module proxy serves; the mirror builder builds it under this reference.
KUBE_ROUTER_IMAGE = "docker.io/cloudnativelabs/kube-router:v2.1.0"
NETWORK_PLUGINS = ("kube-router", "bridge")

CLUSTER_DEFAULTS = {
    "quorum_etcd_topology": "stacked",
    "quorum_api_port": 6443,
    "quorum_apiserver_port": 6443,
    "quorum_kubernetes_version": KUBERNETES_VERSION,
    "quorum_pod_cidr": "10.244.0.0/16",
    "quorum_service_cidr": "10.96.0.0/12",
    "quorum_network_plugin": "kube-router",
    "quorum_kube_router_image": KUBE_ROUTER_IMAGE,
    "quorum_firewall": False,
    "quorum_admin_cidr": None,
    "quorum_artifacts": "upstream",
    "quorum_vault_prefix": "quorum",
    "quorum_vault_ca_cert": None,
}
