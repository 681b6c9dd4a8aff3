"""Unit tests for the cluster filters (node summary, pod routes)."""

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.quorum.k8s.plugins.filter.cluster import (
    FilterModule,
    cluster_node_summary,
    cluster_pod_routes,
    cluster_pod_routes_present,
)


def node(name, ip=None, cidr=None, ready="True", labels=None):
    status = {"conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": ready}]}
    if ip:
        status["addresses"] = [{"type": "Hostname", "address": name}, {"type": "InternalIP", "address": ip}]
    spec = {"podCIDR": cidr} if cidr else {}
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": spec, "status": status}


NODES = {"kind": "NodeList", "items": [
    node("cp-1", "10.0.0.21", "10.244.0.0/24", labels={"node-role.kubernetes.io/control-plane": ""}),
    node("worker-1", "10.0.0.41", "10.244.2.0/24", labels={"node-role.kubernetes.io/worker": "", "kubernetes.io/os": "linux"}),
    node("meta-1", "10.0.0.51", "10.244.1.0/24", ready="False",
         labels={"node-role.kubernetes.io/meta-worker": "", "node-role.kubernetes.io/worker": ""}),
    node("late-1", "10.0.0.61"),  # no podCIDR yet
]}


def test_node_summary_lines():
    assert cluster_node_summary(NODES) == [
        "  cp-1  Ready=True  roles=control-plane  podCIDR=10.244.0.0/24",
        "  worker-1  Ready=True  roles=worker  podCIDR=10.244.2.0/24",
        "  meta-1  Ready=False  roles=meta-worker,worker  podCIDR=10.244.1.0/24",
        "  late-1  Ready=True  roles=-  podCIDR=-",
    ]
    assert cluster_node_summary({}) == []
    assert cluster_node_summary([{"metadata": {"name": "x"}}]) == ["  x  Ready=Unknown  roles=-  podCIDR=-"]


def test_pod_routes_for_a_node_skip_itself_and_incomplete_nodes():
    assert cluster_pod_routes(NODES, "worker-1") == {
        "subnet": "10.244.2.0/24",
        "ready": True,
        "routes": [{"dst": "10.244.0.0/24", "gateway": "10.0.0.21"}, {"dst": "10.244.1.0/24", "gateway": "10.0.0.51"}],
    }
    # a node that has no podCIDR yet still gets the routes to the others
    assert cluster_pod_routes(NODES, "late-1")["subnet"] is None
    assert len(cluster_pod_routes(NODES, "late-1")["routes"]) == 3


def test_pod_routes_say_whether_the_node_is_ready_and_take_kubectl_output_as_is():
    assert cluster_pod_routes(json.dumps(NODES), "late-1")["ready"] is True
    assert cluster_pod_routes(NODES, "meta-1")["ready"] is False
    assert cluster_pod_routes(NODES, "gone-1")["ready"] is False


def test_present_routes_keep_only_gateway_routes_inside_the_pod_network():
    table = [
        {"dst": "default", "gateway": "10.0.0.1", "dev": "ens3"},
        {"dst": "10.0.0.0/24", "dev": "ens3", "prefsrc": "10.0.0.41"},
        {"dst": "10.244.2.0/24", "dev": "cni0"},  # the node's own bridge: no gateway
        {"dst": "10.244.1.0/24", "gateway": "10.0.0.51", "dev": "ens3"},
        {"dst": "10.244.0.0/24", "gateway": "10.0.0.21", "dev": "ens3"},
        {"dst": "10.99.0.0/16", "gateway": "10.0.0.5", "dev": "ens3"},
    ]
    assert cluster_pod_routes_present(table, "10.244.0.0/16") == [
        {"dst": "10.244.0.0/24", "gateway": "10.0.0.21"},
        {"dst": "10.244.1.0/24", "gateway": "10.0.0.51"},
    ]


@pytest.mark.parametrize("call", [
    lambda: cluster_node_summary("not json"),
    lambda: cluster_pod_routes('"a string"', "x"),
    lambda: cluster_pod_routes(42, "x"),
    lambda: cluster_pod_routes_present({"dst": "x"}, "10.244.0.0/16"),
    lambda: cluster_pod_routes_present([], "10.244.0.0/33"),
])
def test_bad_input_is_a_filter_error(call):
    with pytest.raises(AnsibleFilterError):
        call()


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"cluster_node_summary", "cluster_pod_routes", "cluster_pod_routes_present",
                                             "cluster_removal_plan"}
