"""The kubeadm filters: the leader decision of _kubeadm/node.py and the label plan of nodeobj.py, errors as filter errors."""
from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.quorum.k8s.plugins.filter.kubeadm import FilterModule


def kube_node_pending(*args):
    return FilterModule().filters()["kube_node_pending"](*args)


def leader(hosts, states):
    return FilterModule().filters()["kubeadm_leader"](hosts, states)


def test_first_member_leads():
    assert leader(["cp1", "cp2"], {"cp1": "absent", "cp2": "member"})["leader"] == "cp2"


def test_no_member_needs_init():
    assert leader(["cp1", "cp2"], {"cp1": "absent", "cp2": "absent"}) == {
        "leader": "cp1", "needs_init": True, "members": []}


@pytest.mark.parametrize("states", [{}, ["cp1"], {"cp1": "partial"}])
def test_errors(states):
    with pytest.raises(AnsibleFilterError, match="kubeadm_leader"):
        leader(["cp1"], states)


def test_api_host_is_the_recorded_leader_else_the_first_control_plane():
    api_host = FilterModule().filters()["api_host"]
    assert api_host({"control_plane": ["cp1", "cp2"], "quorum_api": ["cp2"]}) == "cp2"
    assert api_host({"control_plane": ["cp1", "cp2"]}) == "cp1"
    with pytest.raises(AnsibleFilterError, match="control_plane is empty"):
        api_host({"control_plane": []})


META = "node-role.kubernetes.io/meta-worker"
NODES = {"items": [
    {"metadata": {"name": "meta-1", "labels": {META: ""}}, "spec": {"taints": [{"key": META, "effect": "NoSchedule"}]}},
    {"metadata": {"name": "worker-1", "labels": {}}, "spec": {}},
]}


def test_kube_node_pending_is_empty_for_a_node_as_wanted():
    assert kube_node_pending(NODES, "meta-1", {META: ""}, [{"key": META, "effect": "NoSchedule"}]) == []


def test_kube_node_pending_names_what_kube_node_would_change():
    assert kube_node_pending(NODES, "worker-1", {"node-role.kubernetes.io/worker": "", META: None},
                             [{"key": META, "state": "absent"}]) == ["node-role.kubernetes.io/worker="]
    assert kube_node_pending(NODES, "meta-1", {META: None}, [{"key": META, "state": "absent"}]) == [
        META + "-", META + "-"]


def test_kube_node_pending_for_a_node_not_listed_and_bad_input():
    assert kube_node_pending(NODES, "worker-9", {}) == ["unlisted"]
    assert kube_node_pending(json.dumps(NODES), "worker-9", {}) == ["unlisted"]
    with pytest.raises(AnsibleFilterError, match="kubectl get nodes"):
        kube_node_pending("not json", "worker-1")
    with pytest.raises(AnsibleFilterError, match="kubectl get nodes"):
        kube_node_pending(["a list"], "worker-1")
    with pytest.raises(AnsibleFilterError, match="effect must be one of"):
        kube_node_pending(NODES, "worker-1", {}, [{"key": "k", "effect": "Never"}])
