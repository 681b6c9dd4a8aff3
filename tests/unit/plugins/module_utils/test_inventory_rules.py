"""The shared rules of the inventory contract: node address and cluster settings."""

import pytest

from ansible_collections.quorum.k8s.plugins.module_utils import _inventory as inv
from ansible_collections.quorum.k8s.plugins.module_utils._defaults import CLUSTER_DEFAULTS, KUBERNETES_VERSION


@pytest.mark.parametrize("hv,expected", [
    ({"quorum_node_ip": "10.0.0.1", "ansible_host": "192.0.2.1"}, "10.0.0.1"),
    ({"ansible_host": "10.0.0.2"}, "10.0.0.2"),
    ({}, "node-a"),
    (None, "node-a"),
    ({"quorum_node_ip": "", "ansible_host": "10.0.0.4"}, "10.0.0.4"),
    ({"quorum_node_ip": None, "ansible_host": "10.0.0.5"}, "10.0.0.5"),
    ({"quorum_node_ip": "{{ undefined_thing }}", "ansible_host": "10.0.0.6"}, "10.0.0.6"),
    ({"quorum_node_ip": " 10.0.0.7 "}, "10.0.0.7"),
    ({"ansible_host": "fd00::8"}, "fd00::8"),
])
def test_node_address_rule(hv, expected):
    assert inv.node_address("node-a", hv) == expected


def test_node_address_with_an_override_key_first():
    hv = {"etcd_node_ip": "10.9.9.9", "quorum_node_ip": "10.0.0.1"}
    assert inv.node_address("a", hv, keys=("etcd_node_ip",) + inv.NODE_ADDRESS_KEYS) == "10.9.9.9"
    assert inv.node_address("a", hv) == "10.0.0.1"


def test_cluster_setting_inventory_value_wins():
    assert inv.cluster_setting("quorum_api_port", {"quorum_api_port": 8443}) == 8443
    assert inv.cluster_setting("quorum_etcd_topology", {"quorum_etcd_topology": "external"}) == "external"


@pytest.mark.parametrize("name", sorted(CLUSTER_DEFAULTS))
def test_cluster_setting_default_when_unset(name):
    assert inv.cluster_setting(name, {}) == CLUSTER_DEFAULTS[name]
    assert inv.cluster_setting(name, {name: None}) == CLUSTER_DEFAULTS[name]


def test_cluster_setting_kubernetes_version_defaults_to_the_pin():
    assert inv.cluster_setting("quorum_kubernetes_version", {}) == KUBERNETES_VERSION


@pytest.mark.parametrize("name", ["quorum_cluster_name", "quorum_api_vip", "quorum_api_prot", "etcd_version"])
def test_cluster_setting_refuses_names_without_a_default(name):
    with pytest.raises(inv.UnknownSetting):
        inv.cluster_setting(name, {name: "x"})
