"""Unit tests for the frontend filters (VRID and priority derivation)."""

import zlib

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.quorum.k8s.plugins.filter.frontend import (
    FilterModule,
    frontend_node_addresses,
    frontend_priorities,
    frontend_vrid,
)


def test_vrid_is_stable_and_in_range():
    assert frontend_vrid("prod-a") == zlib.crc32(b"prod-a") % 255 + 1
    assert frontend_vrid("prod-a") == frontend_vrid("prod-a")
    for name in ["a", "lab", "quorum", "prod-a", "prod-b", "x" * 200, "clüster"]:
        assert 1 <= frontend_vrid(name) <= 255


def test_vrid_salt_moves_the_value():
    assert frontend_vrid("lab", salt="1") != frontend_vrid("lab")


def test_vrid_spread_covers_the_range():
    values = {frontend_vrid("cluster-%d" % i) for i in range(2000)}
    assert values == set(range(1, 256))


@pytest.mark.parametrize("bad", ["", None, 5])
def test_vrid_rejects_bad_names(bad):
    with pytest.raises(AnsibleFilterError):
        frontend_vrid(bad)


def test_priorities_two_and_three_hosts_sorted_by_name():
    assert frontend_priorities(["fe-2", "fe-1"]) == {"fe-1": 250, "fe-2": 240}
    assert frontend_priorities(["c", "a", "b"]) == {"a": 250, "b": 240, "c": 230}


def test_priorities_independent_of_inventory_order():
    hosts = ["fe-%d" % i for i in range(7)]
    assert frontend_priorities(hosts) == frontend_priorities(list(reversed(hosts)))


@pytest.mark.parametrize("count", [1, 2, 3, 5, 25, 26, 100, 250])
def test_priorities_distinct_and_valid_for_any_count(count):
    prio = frontend_priorities(["h%03d" % i for i in range(count)])
    values = list(prio.values())
    assert len(set(values)) == count
    assert all(1 <= v <= 250 for v in values)
    assert max(values) == 250


def test_priorities_step_shrinks_only_when_needed():
    prio = frontend_priorities(["h%02d" % i for i in range(26)])
    assert prio["h00"] - prio["h01"] == 9
    assert min(prio.values()) >= 1


def test_priorities_custom_top_and_step():
    assert frontend_priorities(["a", "b"], top=100, step=50) == {"a": 100, "b": 50}


@pytest.mark.parametrize(
    "hosts,kwargs",
    [
        ([], {}),
        (["a", "a"], {}),
        ("fe-1", {}),
        (["h%d" % i for i in range(251)], {}),
        (["a"], {"top": 255}),
        (["a"], {"top": 0}),
        (["a"], {"step": 0}),
        (["a"], {"top": "high"}),
    ],
)
def test_priorities_rejects_bad_input(hosts, kwargs):
    with pytest.raises(AnsibleFilterError):
        frontend_priorities(hosts, **kwargs)


def test_node_addresses_follow_the_inventory_contract():
    hostvars = {
        "a": {"quorum_node_ip": "10.0.0.1", "ansible_host": "192.0.2.1"},
        "b": {"ansible_host": "10.0.0.2"},
        "c": {},
        "d": {"quorum_node_ip": "", "ansible_host": "10.0.0.4"},
    }
    assert frontend_node_addresses(["b", "a", "c", "d"], hostvars) == [
        {"name": "b", "address": "10.0.0.2"},
        {"name": "a", "address": "10.0.0.1"},
        {"name": "c", "address": "c"},
        {"name": "d", "address": "10.0.0.4"},
    ]


def test_node_addresses_rejects_unknown_hosts_and_strings():
    with pytest.raises(AnsibleFilterError, match="not in the inventory"):
        frontend_node_addresses(["x"], {})
    with pytest.raises(AnsibleFilterError):
        frontend_node_addresses("a", {"a": {}})


def test_filter_module_exports():
    filters = FilterModule().filters()
    assert filters["frontend_vrid"] is frontend_vrid
    assert filters["frontend_priorities"] is frontend_priorities
    assert filters["frontend_node_addresses"] is frontend_node_addresses
