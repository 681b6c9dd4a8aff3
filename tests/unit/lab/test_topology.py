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
    "large": {"frontend": 2, "control_plane": 3, "worker": 3},  # without --workers: 3
    "openstack": {},  # the lab's OpenStack is its one node (lab/openstack.py)
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


def test_a_name_has_the_same_address_in_every_topology_of_fixed_size():
    # the workers of `large` have a range of their own (test_large_* below)
    seen = {}
    for name in topology.TOPOLOGIES:
        if name in topology.VARIABLE_WORKERS:
            continue
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


# ---------------------------------------------------------------- large: N workers chosen at `lab up`

# Every address of the topologies of fixed size, as scenarios and docs rely on them (docs/lab.md).
FIXED_ADDRESSES = {
    "single": ["node-1=61"],
    "smoke": ["node-1=61", "node-2=62", "node-3=63"],
    "minimal": ["fe-1=11", "cp-1=21", "worker-1=41", "meta-1=51"],
    "frontend": ["fe-1=11", "fe-2=12", "be-1=21", "be-2=22", "be-3=23"],
    "frontend3": ["fe-1=11", "fe-2=12", "fe-3=13", "be-1=21", "be-2=22"],
    "openstack": [],  # its one node, the cloud, is lab/openstack.py's (10.231.0.5)
    "etcd": ["etcd-1=31", "etcd-2=32", "etcd-3=33", "spare-1=39"],
    "stacked": ["fe-1=11", "fe-2=12", "cp-1=21", "cp-2=22", "cp-3=23", "worker-1=41", "meta-1=51"],
    "lifecycle": ["fe-1=11", "fe-2=12", "fe-3=13", "cp-1=21", "cp-2=22", "cp-3=23", "cp-4=24", "cp-5=25",
                  "worker-1=41", "worker-2=42"],
    "external": ["fe-1=11", "fe-2=12", "etcd-1=31", "etcd-2=32", "etcd-3=33", "cp-1=21", "cp-2=22", "cp-3=23",
                 "worker-1=41", "meta-1=51"],
}


@pytest.mark.parametrize("name", sorted(FIXED_ADDRESSES))
def test_topologies_of_fixed_size_keep_their_names_addresses_and_macs(name):
    nodes = topology.nodes(name, env={})
    assert [f"{n.name}={n.ip.rsplit('.', 1)[1]}" for n in nodes] == FIXED_ADDRESSES[name]
    assert all(n.mac == f"52:54:00:e7:00:{int(n.ip.rsplit('.', 1)[1]):02x}" for n in nodes)


def test_every_topology_but_large_has_a_fixed_size():
    assert set(FIXED_ADDRESSES) | {"large"} == set(topology.TOPOLOGIES)
    assert set(topology.VARIABLE_WORKERS) == {"large"}


def test_large_with_one_worker():
    nodes = topology.nodes("large", env={}, workers=1)
    assert [(n.name, n.group, n.size_role, n.ip) for n in nodes] == [
        ("fe-1", "frontend", "frontend", "10.231.0.11"), ("fe-2", "frontend", "frontend", "10.231.0.12"),
        ("cp-1", "control_plane", "control_plane", "10.231.0.21"),
        ("cp-2", "control_plane", "control_plane", "10.231.0.22"),
        ("cp-3", "control_plane", "control_plane", "10.231.0.23"),
        ("worker-1", "worker", "worker", "10.231.0.100"),
    ]
    assert nodes[-1].mac == "52:54:00:e7:00:64" and nodes[-1].tap == "qt-worker-1"
    assert topology.etcd_topology("large") == "stacked"
    assert topology.backend("large", env={}) == "nspawn"


def test_large_with_150_workers_ends_below_the_vip():
    assert topology.max_workers("large") == 150
    nodes = topology.nodes("large", env={}, workers=150)
    workers = [n for n in nodes if n.group == "worker"]
    assert [w.name for w in workers] == [f"worker-{i}" for i in range(1, 151)]
    assert [w.ip for w in workers] == [f"10.231.0.{99 + i}" for i in range(1, 151)]
    assert workers[-1].ip == "10.231.0.249" and config.API_VIP == "10.231.0.250"
    assert len({n.mac for n in nodes}) == len({n.ip for n in nodes}) == len(nodes) == 155
    assert max(len(n.tap) for n in nodes) <= 15  # qt-worker-150
    # the worker range starts above every other kind's addresses, whatever their counts
    assert min(ipaddress.ip_address(w.ip) for w in workers) > ipaddress.ip_address("10.231.0.69")


def test_large_without_workers_takes_its_default():
    assert topology.worker_count("large", None) == 3
    assert len(topology.nodes("large", env={})) == 8


@pytest.mark.parametrize("bad", [0, -1, 151, 1000])
def test_large_refuses_a_worker_count_out_of_range(bad):
    with pytest.raises(config.LabError, match=rf"--workers {bad}: topology 'large' takes 1 to 150 workers"):
        topology.nodes("large", env={}, workers=bad)


@pytest.mark.parametrize("name", ["stacked", "smoke", "lifecycle"])
def test_a_topology_of_fixed_size_refuses_workers(name):
    with pytest.raises(config.LabError, match=rf"topology '{name}' has a fixed size: --workers is for large"):
        topology.nodes(name, env={}, workers=2)
    assert topology.worker_count(name, None) is None


def test_check_addresses_refuses_a_worker_past_the_range():
    base = topology.nodes("large", env={}, workers=150)
    # worker-151 would take the VIP, worker-157 would leave the node network
    with pytest.raises(config.LabError, match="reserved"):
        topology.check_addresses(base + topology.kind_nodes("many", 151, env={})[150:])
    with pytest.raises(config.LabError, match="not a host address"):
        topology.check_addresses(topology.kind_nodes("many", 157, env={})[156:])
    # large's workers next to the other topologies' worker range would collide only if they met it
    with pytest.raises(config.LabError, match="used twice"):
        topology.check_addresses(base + [base[-1]])


def test_state_nodes_follow_the_recorded_worker_count():
    assert len(topology.state_nodes({"topology": "large", "workers": 12}, env={})) == 17
    assert len(topology.state_nodes({"topology": "stacked"}, env={})) == 7
