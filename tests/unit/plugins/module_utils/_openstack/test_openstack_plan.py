"""The OpenStack plan and its checks (pure functions over plain data)."""

from __future__ import annotations

import base64
import copy

import pytest
import yaml

from ansible_collections.quorum.k8s.plugins.module_utils._openstack import plan as p

KEY = "ssh-ed25519 " + base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519" + bytes(range(32))).decode() + " lab"

SETTINGS = {
    "cluster": "lab-os",
    "topology": "stacked",
    "node_cidr": "10.20.0.0/24",
    "pod_cidr": "10.244.0.0/16",
    "api_vip": "10.20.0.10",
    "api_port": 6443,
    "admin_cidr": "10.231.0.0/24",
    "network": "",
    "subnet": "",
    "external_network": "public",
    "dns_nameservers": [],
    "server_group_policy": "anti-affinity",
    "key_name": "",
    "public_key": KEY,
    "flavor": "lab.small",
    "image": "debian-lab",
    "volume_size": 0,
    "user_data": "",
    "nodes": {
        "frontend": {"count": 2},
        "control_plane": {"count": 3, "flavor": "lab.medium"},
        "etcd": {"count": 0},
        "meta_worker": {"count": 1, "flavor": "lab.medium"},
        "worker": {"count": 1},
    },
    "ssh_user": "debian",
    "inventory_file": "/srv/site/hosts.yml",
    "inventory_directory": True,
    "inventory_first_line": None,
}


def settings(**changes):
    s = copy.deepcopy(SETTINGS)
    for key, value in changes.items():
        s[key] = value
    return s


def plan(**changes):
    return p.build_plan(settings(**changes))


def faults(**changes):
    return plan(**changes)["errors"]


def one(errors, *fragments):
    """Exactly one fault holds every fragment."""
    hits = [e for e in errors if all(f in e for f in fragments)]
    assert len(hits) == 1, (fragments, errors)
    return hits[0]


# --- the plan --------------------------------------------------------------------------------

def test_a_good_plan_has_no_fault_and_names_everything_after_the_cluster():
    pl = plan()
    assert pl["ok"] and pl["errors"] == []
    assert [s["name"] for s in pl["servers"]] == [
        "lab-os-fe-1", "lab-os-fe-2", "lab-os-cp-1", "lab-os-cp-2", "lab-os-cp-3", "lab-os-meta-1", "lab-os-worker-1"]
    assert pl["network"] == {"name": "lab-os-net", "create": True}
    assert pl["subnet"]["name"] == "lab-os-subnet" and pl["subnet"]["gateway"] == "10.20.0.1"
    assert pl["router"] == {"name": "lab-os-router", "create": True}
    assert pl["keypair"] == {"name": "lab-os-key", "create": True, "public_key": KEY}
    assert [g["name"] for g in pl["server_groups"]] == ["lab-os-frontend", "lab-os-control-plane"]
    assert all(g["policy"] == "anti-affinity" for g in pl["server_groups"])
    assert [g["name"] for g in pl["security_groups"]] == ["lab-os-frontend", "lab-os-node"]
    assert pl["ports"][0]["name"] == "lab-os-vip" and pl["ports"][0]["fixed_address"] == "10.20.0.10"
    assert pl["flavors"] == ["lab.medium", "lab.small"] and pl["images"] == ["debian-lab"]
    assert pl["networks"] == ["public"]
    assert pl["tag"] == "quorum-cluster=lab-os"


def test_the_vip_is_outside_the_allocation_pools():
    assert plan()["subnet"]["allocation_pools"] == [
        {"start": "10.20.0.2", "end": "10.20.0.9"}, {"start": "10.20.0.11", "end": "10.20.0.254"}]
    assert plan(api_vip="10.20.0.2")["subnet"]["allocation_pools"] == [{"start": "10.20.0.3", "end": "10.20.0.254"}]
    assert plan(api_vip="10.20.0.254")["subnet"]["allocation_pools"] == [{"start": "10.20.0.2", "end": "10.20.0.253"}]


def test_allowed_address_pairs_vip_on_frontends_pod_network_on_kubernetes_nodes():
    pairs = dict((s["name"], s["allowed_address_pairs"]) for s in plan(topology="external", nodes=dict(
        SETTINGS["nodes"], etcd={"count": 3}))["servers"])
    assert pairs["lab-os-fe-1"] == ["10.20.0.10"]
    assert pairs["lab-os-cp-1"] == pairs["lab-os-worker-1"] == pairs["lab-os-meta-1"] == ["10.244.0.0/16"]
    assert pairs["lab-os-etcd-1"] == []


def test_floating_ips_on_the_vip_and_the_frontends_only():
    pl = plan()
    assert [f["port"] for f in pl["floating_ips"]] == ["lab-os-vip", "lab-os-fe-1", "lab-os-fe-2"]
    assert plan(external_network="")["floating_ips"] == []
    assert plan(external_network="")["router"]["create"] is False


def test_security_group_rules_as_documented():
    groups = dict((g["name"], g["rules"]) for g in plan()["security_groups"])
    fe = [(r["protocol"], r["port_range_min"], r["port_range_max"], r["remote_ip_prefix"], r["remote_group"])
          for r in groups["lab-os-frontend"]]
    assert fe == [("tcp", 22, 22, "10.231.0.0/24", None), ("tcp", 6443, 6443, "10.231.0.0/24", None),
                  ("tcp", 6443, 6443, "10.20.0.0/24", None), ("vrrp", None, None, None, "lab-os-frontend")]
    node = [(r["protocol"], r["port_range_min"], r["port_range_max"], r["remote_ip_prefix"], r["remote_group"])
            for r in groups["lab-os-node"]]
    assert node[0] == ("tcp", 22, 22, None, "lab-os-frontend")
    for cidr in ("10.20.0.0/24", "10.244.0.0/16"):
        expected = [("tcp", 1, 21, cidr, None), ("tcp", 23, 65535, cidr, None), ("udp", None, None, cidr, None),
                    ("icmp", None, None, cidr, None)]
        assert [r for r in node if r[3] == cidr] == expected
    assert all(r["direction"] == "ingress" and r["ethertype"] == "IPv4" for rs in groups.values() for r in rs)


def test_class_settings_default_to_the_global_ones():
    pl = plan(volume_size=20, user_data="#cloud-config\n", nodes=dict(SETTINGS["nodes"], worker={
        "count": 1, "image": "other", "volume_size": 0, "user_data": "#!/bin/sh\n"}))
    by = dict((s["name"], s) for s in pl["servers"])
    assert by["lab-os-fe-1"]["volume_size"] == 20 and by["lab-os-fe-1"]["user_data"] == "#cloud-config\n"
    assert by["lab-os-worker-1"]["image"] == "other" and by["lab-os-worker-1"]["volume_size"] == 0
    assert by["lab-os-worker-1"]["user_data"] == "#!/bin/sh\n"
    assert by["lab-os-cp-1"]["flavor"] == "lab.medium" and by["lab-os-fe-1"]["flavor"] == "lab.small"


def test_an_existing_network_is_used_as_it_is():
    pl = plan(network="site-net", external_network="public")
    assert pl["network"] == {"name": "site-net", "create": False}
    assert pl["subnet"]["create"] is False and pl["router"]["create"] is False
    assert pl["networks"] == ["public", "site-net"]
    assert pl["subnet"]["allocation_pools"] == []


def test_an_existing_key_pair_is_not_uploaded():
    pl = plan(public_key="", key_name="mykey")
    assert pl["keypair"] == {"name": "mykey", "create": False, "public_key": ""}


# --- faults of the settings ------------------------------------------------------------------

@pytest.mark.parametrize("nodes, fragment", [
    ({"frontend": {"count": 0}, "control_plane": {"count": 3}}, "openstack_nodes.frontend.count: 0"),
    ({"frontend": {"count": 2}, "control_plane": {"count": 2}}, "openstack_nodes.control_plane.count: 2 is even"),
    ({"frontend": {"count": 2}, "control_plane": {"count": 0}}, "openstack_nodes.control_plane.count: 0"),
    ({"frontend": {"count": 2}, "control_plane": {"count": 3}, "etcd": {"count": 3}}, "quorum_etcd_topology) is stacked"),
    ({"frontend": {"count": "two"}, "control_plane": {"count": 3}}, "openstack_nodes.frontend.count: 'two'"),
    ({"frontend": {"count": 2}, "control_plane": {"count": 3}, "gateway": {"count": 1}}, "openstack_nodes.gateway"),
])
def test_counts_that_break_the_architecture(nodes, fragment):
    one(faults(nodes=nodes), fragment)


def test_external_etcd_needs_an_odd_number():
    one(faults(topology="external"), "openstack_nodes.etcd.count: 0")
    one(faults(topology="external", nodes=dict(SETTINGS["nodes"], etcd={"count": 2})), "etcd.count: 2 is even")
    assert faults(topology="external", nodes=dict(SETTINGS["nodes"], etcd={"count": 3})) == []


@pytest.mark.parametrize("vip, fragment", [
    ("10.30.0.5", "is outside openstack_node_cidr"),
    ("10.20.0.0", "network or broadcast address"),
    ("10.20.0.255", "network or broadcast address"),
    ("10.20.0.1", "is the gateway"),
    ("not-an-ip", "is not an IPv4 address"),
])
def test_vip_faults(vip, fragment):
    one(faults(api_vip=vip), "openstack_api_vip (quorum_api_vip)", fragment)


def test_every_fault_at_once():
    errors = faults(api_vip="10.30.0.5", nodes={"frontend": {"count": 0}, "control_plane": {"count": 4}},
                    admin_cidr=None, public_key="", key_name="", flavor="")
    for fragment in ("openstack_api_vip", "frontend.count: 0", "control_plane.count: 4 is even", "openstack_admin_cidr",
                     "neither is set", "control_plane.flavor: not set"):
        one(errors, fragment)


def test_network_faults():
    one(faults(pod_cidr="10.20.0.0/16"), "the networks overlap")
    one(faults(node_cidr="10.20.0.1/24"), "openstack_node_cidr (quorum_node_cidr): '10.20.0.1/24'")
    one(faults(node_cidr="10.20.0.0/29"), "holds 6 host addresses", "need 10")
    one(faults(subnet="x"), "openstack_subnet: x is set, but openstack_network is empty")
    one(faults(network="lab-os-net"), "openstack_network: lab-os-net is the name provision gives")
    one(faults(api_port=70000), "openstack_api_port (quorum_api_port): 70000")


def test_key_and_name_faults():
    one(faults(key_name="k"), "both set")
    one(faults(public_key="", key_name="lab-os-key"), "lab-os-key is the name of the key pair provision creates")
    one(faults(public_key="not a key"), "not an OpenSSH public key")
    one(faults(cluster="Lab_OS"), "openstack_cluster_name (quorum_cluster_name): 'Lab_OS'")
    one(faults(cluster="c" * 55), "has 64 characters")
    one(faults(server_group_policy="spread"), "openstack_server_group_policy: 'spread'")


def test_inventory_file_faults():
    one(faults(inventory_directory=False), "does not exist; run with -i")
    one(faults(inventory_first_line="all:"), "exists and was not written by provision")
    assert faults(inventory_first_line=p.INVENTORY_HEADER) == []
    one(faults(inventory_file="hosts.yml"), "not an absolute path")


def test_warnings_do_not_stop():
    pl = plan(nodes=dict(SETTINGS["nodes"], frontend={"count": 1}))
    assert pl["ok"] and pl["warnings"] == ["openstack_nodes.frontend.count: 1: the API VIP has no standby"]


# --- against the cloud -----------------------------------------------------------------------

def cloud_info(**changes):
    info = {
        "auth": {"ok": True, "cloud_label": "cloud 'quorum-lab'", "project_id": "p1", "project_name": "quorum"},
        "flavors": {"lab.small": {"id": "f1", "vcpus": 1, "ram": 1024, "disk": 10},
                    "lab.medium": {"id": "f2", "vcpus": 2, "ram": 4096, "disk": 20}},
        "images": {"debian-lab": {"id": "i1", "status": "active", "count": 1, "min_disk": 0, "min_ram": 0}},
        "networks": {"public": {"id": "ext", "external": True, "subnets": []}},
        "keypair": None,
        "vip_holders": [],
        "limits": {"compute": {"instances": {"limit": 10, "used": 0}, "cores": {"limit": 20, "used": 0},
                               "ram": {"limit": 51200, "used": 0}, "server_groups": {"limit": 10, "used": 0},
                               "server_group_members": {"limit": 10}},
                   "network": {"floating_ips": {"limit": 50, "used": 0}, "ports": {"limit": 500, "used": 0},
                               "security_groups": {"limit": 10, "used": 1}}},
        "services": {"types": ["compute", "identity", "image", "network", "placement"], "block_storage": False},
        "cluster": {},
    }
    info.update(changes)
    return info


def test_a_cloud_that_fits_has_no_fault():
    assert p.cloud_faults(plan(), cloud_info()) == []


def test_authentication_is_the_only_cloud_fault_when_it_fails():
    out = p.cloud_faults(plan(), {"auth": {"ok": False, "error": "cloud 'x': authentication failed: 401"}})
    assert len(out) == 1 and out[0].startswith("cloud 'x': authentication failed: 401")


def test_unknown_flavor_image_and_external_network():
    info = cloud_info(flavors={"lab.small": cloud_info()["flavors"]["lab.small"]}, images={}, networks={})
    errors = p.cloud_faults(plan(), info)
    one(errors, "flavor lab.medium: not found in cloud 'quorum-lab'", "control_plane, meta_worker")
    one(errors, "image debian-lab: not found")
    one(errors, "external network public: not found")


def test_a_network_that_is_not_external():
    info = cloud_info(networks={"public": {"id": "n", "external": False, "subnets": []}})
    one(p.cloud_faults(plan(), info), "not an external network")


def test_image_faults():
    info = cloud_info(images={"debian-lab": {"id": "i", "status": "queued", "count": 1}})
    one(p.cloud_faults(plan(), info), "image debian-lab: its status is queued")
    info = cloud_info(images={"debian-lab": {"id": "i", "status": "active", "count": 2}})
    one(p.cloud_faults(plan(), info), "2 images carry this name")
    info = cloud_info(images={"debian-lab": {"id": "i", "status": "active", "count": 1, "min_ram": 2048,
                                             "min_disk": 15}})
    errors = p.cloud_faults(plan(), info)
    one(errors, "openstack_nodes.frontend: image debian-lab needs 2048 MB of RAM, flavor lab.small has 1024")
    one(errors, "openstack_nodes.frontend: image debian-lab needs a 15 GB disk, flavor lab.small has 10")


def test_a_volume_without_block_storage():
    errors = p.cloud_faults(plan(volume_size=20), cloud_info())
    one(errors, "volume_size is set, but cloud 'quorum-lab' has no block-storage service in its catalog")
    info = cloud_info(services={"types": ["compute", "volumev3"], "block_storage": True})
    assert p.cloud_faults(plan(volume_size=20), info) == []


def test_quota_exceeded_names_each_limit():
    info = cloud_info()
    info["limits"]["compute"]["instances"] = {"limit": 10, "used": 5}
    info["limits"]["compute"]["cores"] = {"limit": 20, "used": 10}
    info["limits"]["compute"]["ram"] = {"limit": 16384, "used": 0}
    info["limits"]["network"]["floating_ips"] = {"limit": 2, "used": 0}
    errors = p.cloud_faults(plan(), info)
    one(errors, "quota instances: 7 more servers needed, 5 of 10 used in project quorum")
    one(errors, "quota cores: 11 more vCPUs needed, 10 of 20 used")
    one(errors, "quota RAM: 19456 more MB needed, 0 of 16384 used")
    one(errors, "quota floating IPs: 3 more floating IPs needed, 0 of 2 used")


def test_quota_counts_only_what_does_not_exist_and_unlimited_passes():
    info = cloud_info()
    info["limits"]["compute"]["instances"] = {"limit": 7, "used": 7}
    info["limits"]["compute"]["cores"] = {"limit": -1, "used": 99}
    info["cluster"] = {"servers": [{"id": str(i), "name": s["name"]} for i, s in enumerate(plan()["servers"])]}
    assert p.cloud_faults(plan(), info) == []


def test_server_group_members_limit():
    info = cloud_info()
    info["limits"]["compute"]["server_group_members"] = {"limit": 2}
    one(p.cloud_faults(plan(), info), "3 control_plane servers in server group lab-os-control-plane", "allows 2")


def test_existing_network_checks():
    base = {"id": "n1", "external": False, "subnets": [
        {"id": "s1", "name": "a", "cidr": "10.20.0.0/24", "gateway_ip": "10.20.0.1", "routed_to": []}]}
    info = cloud_info(networks={"public": {"id": "ext", "external": True, "subnets": []}, "site": base})
    one(p.cloud_faults(plan(network="site"), info), "subnet a: no router of project quorum connects it to external")
    base["subnets"][0]["routed_to"] = ["ext"]
    assert p.cloud_faults(plan(network="site"), info) == []
    one(p.cloud_faults(plan(network="site", api_vip="10.20.0.1"), info), "is the gateway of subnet a")
    one(p.cloud_faults(plan(network="site", subnet="b"), info), "subnet b: not on network site")
    one(p.cloud_faults(plan(network="other"), info), "network other: not found")
    base["subnets"][0]["cidr"] = "10.99.0.0/24"
    one(p.cloud_faults(plan(network="site"), info), "none of its subnets (10.99.0.0/24)")


def test_the_vip_held_by_another_port():
    info = cloud_info(vip_holders=[{"id": "x1", "name": "someone"}])
    one(p.cloud_faults(plan(), info), "10.20.0.10 is already the address of port someone (x1)")
    assert p.cloud_faults(plan(), cloud_info(vip_holders=[{"id": "v", "name": "lab-os-vip"}])) == []


def test_key_pairs():
    one(p.cloud_faults(plan(public_key="", key_name="mine"), cloud_info()), "key pair mine: not found")
    info = cloud_info(keypair={"name": "lab-os-key", "fingerprint": "00:11"})
    one(p.cloud_faults(plan(), info), "key pair lab-os-key: exists with another key")
    info = cloud_info(keypair={"name": "lab-os-key", "fingerprint": p.key_fingerprint(KEY)})
    assert p.cloud_faults(plan(), info) == []
    assert p.key_fingerprint(KEY).count(":") == 15 and p.key_fingerprint("garbage") is None


def test_two_resources_with_one_name():
    info = cloud_info(cluster={"servers": [{"id": "a", "name": "lab-os-cp-1"}, {"id": "b", "name": "lab-os-cp-1"}]})
    one(p.cloud_faults(plan(), info), "server lab-os-cp-1: 2 of them in project quorum (a, b)")


def test_a_changed_server_group_policy_is_a_warning():
    info = cloud_info(cluster={"server_groups": [{"id": "g", "name": "lab-os-frontend", "policy": "anti-affinity"}]})
    assert p.server_group_warnings(plan(server_group_policy="soft-anti-affinity"), info)[0].startswith(
        "server group lab-os-frontend: created with policy anti-affinity")


def test_servers_no_longer_asked_for_are_reported_not_removed():
    info = cloud_info(cluster={"servers": [{"id": "a", "name": "lab-os-worker-1"}, {"id": "b", "name": "lab-os-worker-2"}]})
    assert p.surplus_warnings(plan(), info)[0].startswith("servers lab-os-worker-2: the cluster's, but openstack_nodes no longer")
    assert p.surplus_warnings(plan(), cloud_info()) == []


# --- ownership -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, resource, mine", [
    ("server", {"name": "lab-os-cp-1"}, True),
    ("server", {"name": "lab-os-cp-x"}, False),
    ("server", {"name": "lab-os-cp-01"}, False),
    ("server", {"name": "other", "metadata": {"quorum_cluster": "lab-os"}}, True),
    ("server", {"name": "lab-os-os-cp-1"}, False),
    ("port", {"name": "lab-os-vip"}, True),
    ("port", {"name": "lab-os-fe-2"}, True),
    ("port", {"name": "x", "tags": ["quorum-cluster=lab-os"]}, True),
    ("port", {"name": "x", "tags": ["quorum-cluster=lab"]}, False),
    ("floating_ip", {"description": "lab-os-vip"}, True),
    ("floating_ip", {"description": "", "tags": []}, False),
    ("network", {"name": "lab-os-net"}, True),
    ("network", {"name": "lab-os-net2"}, False),
    ("security_group", {"name": "lab-os-node"}, True),
    ("server_group", {"name": "lab-os-control-plane"}, True),
    ("keypair", {"name": "lab-os-key"}, True),
    ("keypair", {"name": "lab-os-key2"}, False),
])
def test_owned(kind, resource, mine):
    assert p.owned(kind, resource, "lab-os") is mine


def test_cluster_names_never_match_another_clusters():
    names_of_a_fe = ["a-fe-fe-1", "a-fe-cp-1", "a-fe-net", "a-fe-vip", "a-fe-frontend", "a-fe-key"]
    for kind in ("server", "port", "network", "security_group", "keypair"):
        assert not any(p.owned(kind, {"name": n}, "a") for n in names_of_a_fe), kind


# --- resolve, inventory, teardown ------------------------------------------------------------

def found_cluster(pl, with_ports=True, with_fips=True):
    ports = []
    if with_ports:
        for i, port in enumerate(pl["ports"]):
            ip = port["fixed_address"] or "10.20.0.%d" % (100 + i)
            ports.append({"id": "port-%d" % i, "name": port["name"], "mac_address": "fa:16:3e:00:00:%02x" % i,
                          "fixed_ips": [{"subnet_id": "sub", "ip_address": ip}], "tags": [], "device_owner": ""})
    fips = []
    if with_fips:
        for i, fip in enumerate(pl["floating_ips"]):
            port = [x for x in ports if x["name"] == fip["port"]][0]
            fips.append({"id": "fip-%d" % i, "floating_ip_address": "203.0.113.%d" % (20 + i), "port_id": port["id"],
                         "description": fip["description"], "tags": [pl["tag"]]})
    return {
        "networks": [{"id": "net", "name": "lab-os-net", "tags": [pl["tag"]]}],
        "subnets": [{"id": "sub", "name": "lab-os-subnet", "tags": []}],
        "security_groups": [{"id": "sg-f", "name": "lab-os-frontend", "tags": [pl["tag"]], "rules": []},
                            {"id": "sg-n", "name": "lab-os-node", "tags": [pl["tag"]],
                             "rules": [{"remote_group_id": "sg-f"}]}],
        "server_groups": [{"id": "g-" + g["name"], "name": g["name"]} for g in pl["server_groups"]],
        "servers": [{"id": "srv-" + s["name"], "name": s["name"], "status": "ACTIVE"} for s in pl["servers"]],
        "ports": ports,
        "floating_ips": fips,
        "routers": [{"id": "r", "name": "lab-os-router", "tags": [pl["tag"]]}],
        "keypairs": [{"id": "lab-os-key", "name": "lab-os-key"}],
    }


def test_resolve_on_an_empty_project_is_not_ready():
    res = p.resolve(plan(), cloud_info())
    assert res["ready"] == {"ports": False, "servers": False, "floating_ips": False}
    assert res["exists"] == {"network": False, "subnet": False, "security_groups": []}
    assert res["untagged"] == []


def test_resolve_creates_ports_with_the_vip_and_lets_neutron_choose_the_rest():
    pl = plan()
    cluster = found_cluster(pl, with_ports=False, with_fips=False)
    res = p.resolve(pl, cloud_info(cluster=cluster))
    assert res["ready"]["ports"] and not res["ready"]["servers"]
    vip, fe1, cp1 = res["ports"][0], res["ports"][1], res["ports"][3]
    assert vip["fixed_ips"] == [{"subnet_id": "sub", "ip_address": "10.20.0.10"}] and vip["allowed_address_pairs"] == []
    assert fe1["fixed_ips"] == [{"subnet_id": "sub"}] and fe1["allowed_address_pairs"] == [{"ip_address": "10.20.0.10"}]
    assert cp1["allowed_address_pairs"] == [{"ip_address": "10.244.0.0/16"}]
    assert all(x["network"] == "net" and x["port_security_enabled"] for x in res["ports"])


def test_resolve_repeats_what_neutron_stored_so_a_rerun_compares_equal():
    pl = plan()
    res = p.resolve(pl, cloud_info(cluster=found_cluster(pl)))
    assert res["exists"] == {"network": True, "subnet": True, "security_groups": ["lab-os-frontend", "lab-os-node"]}
    fe1 = res["ports"][1]
    assert fe1["fixed_ips"] == [{"subnet_id": "sub", "ip_address": "10.20.0.101"}]
    assert fe1["allowed_address_pairs"] == [{"ip_address": "10.20.0.10", "mac_address": "fa:16:3e:00:00:01"}]
    assert res["ready"] == {"ports": True, "servers": True, "floating_ips": True}
    srv = dict((s["name"], s) for s in res["servers"])
    assert srv["lab-os-cp-1"]["scheduler_hints"] == {"group": "g-lab-os-control-plane"}
    assert srv["lab-os-worker-1"]["scheduler_hints"] is None
    assert srv["lab-os-fe-1"]["nics"] == [{"port-name": "lab-os-fe-1"}]
    assert srv["lab-os-fe-1"]["metadata"] == {"quorum_cluster": "lab-os", "quorum_group": "frontend"}
    assert srv["lab-os-fe-1"]["key_name"] == "lab-os-key" and srv["lab-os-fe-1"]["boot_from_volume"] is False
    assert res["floating_ips"][0] == {"floating_network_id": "ext", "port_id": "port-0", "description": "lab-os-vip"}
    assert sorted(x["name"] for x in res["untagged"]) == sorted(["lab-os-subnet"] + [x["name"] for x in pl["ports"]])


def test_inventory_groups_addresses_and_proxyjump():
    pl = plan()
    inv = p.render_inventory(pl, cloud_info(cluster=found_cluster(pl)))
    assert inv["complete"] and inv["missing"] == []
    assert inv["content"].splitlines()[0] == p.INVENTORY_HEADER
    data = yaml.safe_load(inv["content"])
    children = data["all"]["children"]
    assert list(children) == ["frontend", "control_plane", "etcd", "meta_worker", "worker"]
    assert children["etcd"] == {"hosts": {}}
    fe = children["frontend"]["hosts"]
    assert fe["lab-os-fe-1"] == {"ansible_host": "203.0.113.21", "quorum_node_ip": "10.20.0.101"}
    assert fe["lab-os-fe-2"] == {"ansible_host": "203.0.113.22", "quorum_node_ip": "10.20.0.102"}
    cps = children["control_plane"]["hosts"]
    assert cps["lab-os-cp-1"] == {"ansible_host": "10.20.0.103",
                                  "ansible_ssh_common_args": "-o ProxyJump=debian@203.0.113.21"}
    assert cps["lab-os-cp-2"]["ansible_ssh_common_args"] == "-o ProxyJump=debian@203.0.113.22"
    assert cps["lab-os-cp-3"]["ansible_ssh_common_args"] == "-o ProxyJump=debian@203.0.113.21"
    assert children["worker"]["hosts"]["lab-os-worker-1"]["ansible_ssh_common_args"].endswith("@203.0.113.21")
    assert data["all"]["vars"] == {"ansible_user": "debian"}


def test_inventory_is_byte_for_byte_stable():
    pl = plan()
    cluster = found_cluster(pl)
    first = p.render_inventory(pl, cloud_info(cluster=cluster))["content"]
    shuffled = dict((k, list(reversed(v))) for k, v in cluster.items())
    assert p.render_inventory(pl, cloud_info(cluster=shuffled))["content"] == first


def test_inventory_without_floating_ips_uses_fixed_addresses():
    pl = plan(external_network="")
    data = yaml.safe_load(p.render_inventory(pl, cloud_info(cluster=found_cluster(pl)))["content"])
    assert data["all"]["children"]["frontend"]["hosts"]["lab-os-fe-1"] == {"ansible_host": "10.20.0.101"}
    assert data["all"]["children"]["control_plane"]["hosts"]["lab-os-cp-1"]["ansible_ssh_common_args"] == \
        "-o ProxyJump=debian@10.20.0.101"


def test_inventory_incomplete_without_floating_ips():
    pl = plan()
    inv = p.render_inventory(pl, cloud_info(cluster=found_cluster(pl, with_fips=False)))
    assert not inv["complete"] and inv["missing"] == ["lab-os-fe-1", "lab-os-fe-2"]


def test_teardown_order_and_what_stays():
    pl = plan()
    cluster = found_cluster(pl)
    cluster["networks"].append({"id": "site", "name": "site-net"})
    out = p.teardown(cloud_info(cluster=cluster), p.INVENTORY_HEADER, keep=["site-net", ""])
    assert list(out) == ["floating_ips", "servers", "ports", "server_groups", "routers", "security_groups", "subnets",
                         "networks", "keypairs", "inventory_file"]
    assert [g["name"] for g in out["security_groups"]] == ["lab-os-node", "lab-os-frontend"]
    assert [n["name"] for n in out["networks"]] == ["lab-os-net"]
    assert out["inventory_file"] is True
    assert p.teardown(cloud_info(cluster={}), "all:")["inventory_file"] is False
    assert p.teardown(cloud_info(cluster={}), None)["inventory_file"] is False
    empty = p.teardown(cloud_info(cluster={}))
    assert all(empty[k] == [] for k in empty if k != "inventory_file")


def test_format_faults_numbers_them():
    assert p.format_faults(["a", "b"]).splitlines() == [
        "OpenStack provisioning found 2 fault(s); nothing was created or changed:", "  1. a", "  2. b"]
