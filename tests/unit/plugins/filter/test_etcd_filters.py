"""etcd_cluster_members / etcd_initial_cluster filters."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.quorum.k8s.plugins.filter.etcd import etcd_cluster_members, etcd_initial_cluster

HOSTVARS = {
    "etcd-1": {"ansible_host": "10.0.0.31"},
    "etcd-2": {"ansible_host": "192.0.2.1", "quorum_node_ip": "10.0.0.32"},
    "etcd-3": {"ansible_host": "10.0.0.33", "etcd_node_ip": "fd00::33", "etcd_name": "third"},
    "etcd-4": {},
}


def test_addresses_names_and_urls():
    members = etcd_cluster_members(["etcd-1", "etcd-2", "etcd-3", "etcd-4"], HOSTVARS)
    assert [m["address"] for m in members] == ["10.0.0.31", "10.0.0.32", "fd00::33", "etcd-4"]
    assert [m["name"] for m in members] == ["etcd-1", "etcd-2", "third", "etcd-4"]
    assert members[2]["peer_url"] == "https://[fd00::33]:2380"
    assert members[0]["client_url"] == "https://10.0.0.31:2379"
    assert etcd_initial_cluster(members[:2]) == "etcd-1=https://10.0.0.31:2380,etcd-2=https://10.0.0.32:2380"


def test_ports_and_unrendered_values():
    hv = {"a": {"ansible_host": "10.0.0.1", "etcd_node_ip": "{{ quorum_node_ip }}"}}
    members = etcd_cluster_members(["a"], hv, client_port=12379, peer_port="12380")
    assert members[0]["client_url"] == "https://10.0.0.1:12379" and members[0]["peer_url"].endswith(":12380")


def test_duplicate_names_and_bad_input_fail():
    hv = {"a": {"etcd_name": "x"}, "b": {"etcd_name": "x"}}
    with pytest.raises(AnsibleFilterError, match="used twice: x"):
        etcd_cluster_members(["a", "b"], hv)
    with pytest.raises(AnsibleFilterError):
        etcd_cluster_members("a", hv)


def test_etcd_access_stacked_and_external():
    from ansible_collections.quorum.k8s.plugins.filter.etcd import etcd_access
    groups = {"control_plane": ["etcd-1", "etcd-2"], "etcd": ["etcd-3", "etcd-4"]}
    stacked = etcd_access(groups, HOSTVARS, "stacked", leaving=["etcd-1"])
    assert stacked["hosts"] == ["etcd-2"] and stacked["endpoints"] == ["https://10.0.0.32:2379"]
    assert stacked["client_cert"] == "/etc/kubernetes/pki/etcd/healthcheck-client.crt"
    external = etcd_access(groups, HOSTVARS, "external")
    assert external["hosts"] == ["etcd-3", "etcd-4"] and external["ca_cert"] == "/etc/etcd/pki/ca.crt"
    with pytest.raises(AnsibleFilterError, match="topology 'other'"):
        etcd_access(groups, HOSTVARS, "other")
