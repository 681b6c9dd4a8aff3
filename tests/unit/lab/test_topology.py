"""Topology -> VMs, groups, addresses and sizes."""

import ipaddress

import pytest

from lab import config, topology

EXPECTED_COUNTS = {
    "single": {"nodes": 1},
    "smoke": {"nodes": 3},
    "minimal": {"frontend": 1, "control_plane": 1, "worker": 1, "meta_worker": 1},
    "frontend": {"frontend": 2, "control_plane": 3},
    "frontend3": {"frontend": 3, "control_plane": 2},
    "etcd": {"etcd": 3, "etcd_spare": 1},
    "stacked": {"frontend": 2, "control_plane": 3, "worker": 1, "meta_worker": 1},
    "lifecycle": {"frontend": 3, "control_plane": 5, "worker": 2},
    "external": {"frontend": 2, "etcd": 3, "control_plane": 3, "worker": 1, "meta_worker": 1},
}


@pytest.mark.parametrize("name", sorted(EXPECTED_COUNTS))
def test_group_counts(name):
    counts = {}
    for node in topology.nodes(name, env={}):
        counts[node.group] = counts.get(node.group, 0) + 1
    assert counts == EXPECTED_COUNTS[name]


@pytest.mark.parametrize("name", sorted(topology.TOPOLOGIES))
def test_addresses_are_unique_host_addresses_and_never_gateway_or_vip(name):
    net = ipaddress.ip_network(config.NODE_CIDR)
    nodes = topology.nodes(name, env={})
    ips = [n.ip for n in nodes]
    assert len(set(ips)) == len(ips)
    for ip in ips:
        assert ipaddress.ip_address(ip) in net
        assert ip not in (config.GATEWAY, config.API_VIP)
    assert len({n.mac for n in nodes}) == len(nodes)
    assert all(len(n.tap) <= 15 for n in nodes)


def test_vip_is_inside_the_node_network_and_not_a_host():
    net = ipaddress.ip_network(config.NODE_CIDR)
    vip = ipaddress.ip_address(config.API_VIP)
    assert vip in net and vip not in (net.network_address, net.broadcast_address)
    all_ips = {n.ip for t in topology.TOPOLOGIES for n in topology.nodes(t, env={})}
    assert config.API_VIP not in all_ips


def test_a_name_has_the_same_address_in_every_topology():
    seen = {}
    for name in topology.TOPOLOGIES:
        for node in topology.nodes(name, env={}):
            assert seen.setdefault(node.name, node.ip) == node.ip


def test_stacked_addresses_and_order():
    nodes = topology.nodes("stacked", env={})
    assert [(n.name, n.ip) for n in nodes] == [
        ("fe-1", "10.231.0.11"), ("fe-2", "10.231.0.12"),
        ("cp-1", "10.231.0.21"), ("cp-2", "10.231.0.22"), ("cp-3", "10.231.0.23"),
        ("worker-1", "10.231.0.41"), ("meta-1", "10.231.0.51"),
    ]


def test_frontend3_addresses_sizes_and_memory():
    nodes = topology.nodes("frontend3", env={})
    assert [(n.name, n.group, n.size_role, n.ip) for n in nodes] == [
        ("fe-1", "frontend", "frontend", "10.231.0.11"),
        ("fe-2", "frontend", "frontend", "10.231.0.12"),
        ("fe-3", "frontend", "frontend", "10.231.0.13"),
        ("be-1", "control_plane", "backend", "10.231.0.21"),
        ("be-2", "control_plane", "backend", "10.231.0.22"),
    ]
    assert [n.mac for n in nodes][2] == "52:54:00:e7:00:0d"
    assert all(n.size == config.Size(512, 1, 64) for n in nodes)
    # 5 small VMs: 2.5 GiB, the same as the 2-frontend scenario
    assert topology.memory_needed_mib(nodes) == 5 * 512 == topology.memory_needed_mib(topology.nodes("frontend", env={}))
    assert topology.memory_needed_mib(topology.nodes("frontend3", env={"QUORUM_LAB_MEM_FRONTEND": "768"})) == 3 * 768 + 2 * 512


def test_control_planes_get_enough_memory_for_kubeadm():
    for node in topology.nodes("external", env={}):
        if node.group == "control_plane":
            assert node.size.memory_mib >= 2048
            assert node.size.cpus >= 2
    frontend_backends = [n for n in topology.nodes("frontend", env={}) if n.group == "control_plane"]
    assert all(n.size.memory_mib < 2048 for n in frontend_backends)


def test_size_overrides_from_environment():
    env = {"QUORUM_LAB_MEM_CONTROL_PLANE": "3072", "QUORUM_LAB_CPUS_CONTROL_PLANE": "1", "QUORUM_LAB_TB_FRONTEND": "32"}
    nodes = {n.name: n for n in topology.nodes("stacked", env=env)}
    assert nodes["cp-1"].size == config.Size(3072, 1, 256)
    assert nodes["fe-1"].size.tb_size_mib == 32
    assert topology.memory_needed_mib(list(nodes.values())) == 2 * 512 + 3 * 3072 + 2 * 1536


@pytest.mark.parametrize("value", ["lots", "0", "-5"])
def test_bad_size_override_is_a_clear_error(value):
    with pytest.raises(config.LabError, match="QUORUM_LAB_MEM_WORKER"):
        topology.nodes("stacked", env={"QUORUM_LAB_MEM_WORKER": value})


def test_unknown_topology_names_the_choices():
    with pytest.raises(config.LabError, match="unknown topology 'big'.*smoke"):
        topology.nodes("big", env={})


def test_check_addresses_rejects_duplicates_and_reserved():
    node = topology.nodes("smoke", env={})[0]
    with pytest.raises(config.LabError, match="used twice"):
        topology.check_addresses([node, node])
    with pytest.raises(config.LabError, match="reserved"):
        topology.check_addresses([node.__class__(**{**node.__dict__, "ip": config.API_VIP})])
    with pytest.raises(config.LabError, match="not a host address"):
        topology.check_addresses([node.__class__(**{**node.__dict__, "ip": "10.9.9.9"})])
