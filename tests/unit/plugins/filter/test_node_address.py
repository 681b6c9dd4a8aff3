"""The node_address filter: one rule for every role, template and filter."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.quorum.k8s.plugins.filter.etcd import etcd_cluster_members
from ansible_collections.quorum.k8s.plugins.filter.frontend import frontend_node_addresses
from ansible_collections.quorum.k8s.plugins.filter.node_address import FilterModule, node_address

HOSTVARS = {
    "a": {"inventory_hostname": "a", "quorum_node_ip": "10.0.0.1", "ansible_host": "192.0.2.1"},
    "b": {"inventory_hostname": "b", "ansible_host": "10.0.0.2"},
    "c": {"inventory_hostname": "c"},
}


def test_registered_under_its_name():
    assert FilterModule().filters()["node_address"] is node_address


@pytest.mark.parametrize("host,expected", [("a", "10.0.0.1"), ("b", "10.0.0.2"), ("c", "c")])
def test_host_name_with_hostvars(host, expected):
    assert node_address(host, HOSTVARS) == expected


@pytest.mark.parametrize("host,expected", [("a", "10.0.0.1"), ("b", "10.0.0.2"), ("c", "c")])
def test_hostvars_entry_alone(host, expected):
    assert node_address(HOSTVARS[host]) == expected


def test_every_filter_follows_the_same_rule():
    names = list(HOSTVARS)
    expected = [node_address(h, HOSTVARS) for h in names]
    assert [m["address"] for m in frontend_node_addresses(names, HOSTVARS)] == expected
    assert [m["address"] for m in etcd_cluster_members(names, HOSTVARS)] == expected


@pytest.mark.parametrize("args,match", [
    (("a",), "pass hostvars"),
    (("zz", HOSTVARS), "not in the inventory"),
    (({"ansible_host": "10.0.0.1"},), "no inventory_hostname"),
    ((HOSTVARS["a"], HOSTVARS), "alone"),
    ((None, HOSTVARS), "expected a host name"),
    (("", HOSTVARS), "expected a host name"),
])
def test_bad_input_is_refused(args, match):
    with pytest.raises(AnsibleFilterError, match=match):
        node_address(*args)
