# -*- coding: utf-8 -*-
# Copyright: quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which control plane inits, or hands out join material: the decision of _kubeadm/node.py."""

from __future__ import annotations

import json

from ansible.errors import AnsibleFilterError

from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.errors import KubeadmError
from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.node import choose_leader
from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.nodeobj import plan


def kubeadm_leader(hosts, states):
    """{leader, needs_init, members} of ``hosts`` (inventory order) given ``states`` (host -> node_state)."""
    if not isinstance(states, dict):
        raise AnsibleFilterError("kubeadm_leader: expected a dict of host -> node_state, got %r"
                                 % (type(states).__name__,))
    try:
        return choose_leader(hosts, states)
    except KubeadmError as exc:
        raise AnsibleFilterError("kubeadm_leader: %s" % exc)


# The group roles/control_plane/tasks/state.yml puts the chosen leader in (a member control plane).
API_GROUP = "quorum_api"


def api_host(groups):
    """The control plane to run kubectl and kubeadm on: the leader state.yml chose, else the first one."""
    if not isinstance(groups, dict):
        raise AnsibleFilterError("api_host expects the 'groups' magic variable as input")
    hosts = list(groups.get(API_GROUP) or groups.get("control_plane") or [])
    if not hosts:
        raise AnsibleFilterError("api_host: group control_plane is empty")
    return hosts[0]


def kube_node_pending(nodes, name, labels=None, taints=None):
    """What quorum.k8s.kube_node would change on Node ``name`` of a ``kubectl get nodes -o json``
    listing (its label and taint arguments); ``["unlisted"]`` when the listing lacks the node.
    ``nodes`` may be kubectl's output as is (no from_json in the template)."""
    if isinstance(nodes, str):
        try:
            nodes = json.loads(nodes)
        except ValueError as exc:
            raise AnsibleFilterError("kube_node_pending: expected the output of kubectl get nodes -o json: %s" % exc)
    if not isinstance(nodes, dict):
        raise AnsibleFilterError("kube_node_pending: expected the parsed output of kubectl get nodes -o json, got %r"
                                 % (type(nodes).__name__,))
    node = next((n for n in nodes.get("items") or [] if (n.get("metadata") or {}).get("name") == name), None)
    if node is None:
        return ["unlisted"]
    try:
        change = plan(node, labels, taints)
    except KubeadmError as exc:
        raise AnsibleFilterError("kube_node_pending: %s" % exc)
    return change["label_args"] + change["taint_args"]


class FilterModule:
    def filters(self):
        return {"kubeadm_leader": kubeadm_leader, "api_host": api_host, "kube_node_pending": kube_node_pending}
