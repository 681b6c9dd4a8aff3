"""Each preflight rule: one inventory that passes, one that fails naming the culprit."""

import copy

import pytest

from ansible_collections.quorum.k8s.plugins.module_utils import _preflight as pf
from ansible_collections.quorum.k8s.plugins.module_utils._defaults import CLUSTER_DEFAULTS, KUBERNETES_VERSION

GOOD_VARS = {
    "quorum_cluster_name": "prod-1",
    "quorum_etcd_topology": "stacked",
    "quorum_node_cidr": "10.0.0.0/24",
    "quorum_api_vip": "10.0.0.10",
    "quorum_api_port": 6443,
    "quorum_kubernetes_version": KUBERNETES_VERSION,
    "quorum_pod_cidr": "10.244.0.0/16",
    "quorum_service_cidr": "10.96.0.0/12",
    "quorum_vault_addr": "https://vault.example.org:8200",
}
LAYOUT = {
    "frontend": {"fe1": "10.0.0.11", "fe2": "10.0.0.12"},
    "control_plane": {"cp1": "10.0.0.21", "cp2": "10.0.0.22", "cp3": "10.0.0.23"},
    "worker": {"w1": "10.0.0.41"},
    "meta_worker": {"m1": "10.0.0.31"},
}


def inventory(layout=None, **overrides):
    """(groups, hostvars) with the cluster variables on every host, as group_vars/all does."""
    layout = copy.deepcopy(LAYOUT if layout is None else layout)
    cluster = dict(GOOD_VARS)
    for key, value in overrides.items():
        if value is None:
            cluster.pop(key, None)
        else:
            cluster[key] = value
    groups, hostvars = {"all": []}, {}
    for group, hosts in layout.items():
        groups[group] = list(hosts)
        for host, addr in hosts.items():
            if host not in hostvars:
                groups["all"].append(host)
                hostvars[host] = dict(cluster, ansible_host=addr)
    return groups, hostvars


def run(layout=None, **overrides):
    return pf.check_inventory(*inventory(layout, **overrides))


def errors_mentioning(result, *words):
    return [e for e in result["errors"] if all(w in e for w in words)]


def test_good_inventory_passes_without_warnings():
    result = run()
    assert result == {"ok": True, "errors": [], "warnings": []}


def test_external_good_inventory_passes():
    layout = dict(LAYOUT, etcd={"e1": "10.0.0.51", "e2": "10.0.0.52", "e3": "10.0.0.53"})
    assert run(layout, quorum_etcd_topology="external")["errors"] == []


@pytest.mark.parametrize("count,even", [(1, False), (2, True), (3, False), (4, True), (5, False)])
def test_even_control_plane_count_warns(count, even):
    layout = dict(LAYOUT, control_plane={"cp%d" % i: "10.0.0.%d" % (20 + i) for i in range(count)})
    result = run(layout)
    assert result["ok"]
    assert any("group control_plane" in w and "odd number" in w for w in result["warnings"]) is even


def test_single_control_plane_warns_not_ha():
    layout = dict(LAYOUT, control_plane={"cp1": "10.0.0.21"})
    result = run(layout)
    assert result["ok"]
    assert any("control_plane" in w and "not highly available" in w for w in result["warnings"])


def test_empty_control_plane_is_a_fault():
    layout = dict(LAYOUT, control_plane={})
    assert errors_mentioning(run(layout), "group control_plane", "empty")


def test_external_needs_an_etcd_group_and_warns_on_even():
    assert errors_mentioning(run(dict(LAYOUT, etcd={}), quorum_etcd_topology="external"), "group etcd", "empty")
    result = run(dict(LAYOUT, etcd={"e1": "10.0.0.51", "e2": "10.0.0.52"}), quorum_etcd_topology="external")
    assert result["ok"] and any("group etcd" in w and "odd number" in w for w in result["warnings"])


def test_external_single_etcd_warns():
    result = run(dict(LAYOUT, etcd={"e1": "10.0.0.51"}), quorum_etcd_topology="external")
    assert any("group etcd" in w for w in result["warnings"])


def test_stacked_with_etcd_group_is_refused():
    result = run(dict(LAYOUT, etcd={"e1": "10.0.0.51"}))
    assert errors_mentioning(result, "group etcd", "e1", "stacked")


def test_unknown_topology_is_refused():
    assert errors_mentioning(run(quorum_etcd_topology="stackd"), "quorum_etcd_topology", "stackd")


def test_frontend_required_and_single_warns():
    assert errors_mentioning(run(dict(LAYOUT, frontend={})), "group frontend", "empty")
    result = run(dict(LAYOUT, frontend={"fe1": "10.0.0.11"}))
    assert result["ok"] and any("group frontend" in w for w in result["warnings"])


@pytest.mark.parametrize("vip,words", [
    ("10.0.1.10", ("quorum_api_vip", "outside")),
    ("10.0.0.21", ("quorum_api_vip", "cp1")),
    ("not-an-ip", ("quorum_api_vip", "not an IP")),
    ("10.0.0.255", ("quorum_api_vip", "broadcast")),
])
def test_vip_rules(vip, words):
    assert errors_mentioning(run(quorum_api_vip=vip), *words)


@pytest.mark.parametrize("port,ok", [
    (6443, True), ("8443", True), (0, False), (70000, False), ("https", False), (True, False),
])
def test_api_port_valid(port, ok):
    assert bool(errors_mentioning(run(quorum_api_port=port), "quorum_api_port")) is not ok


def test_colocated_frontend_control_plane_needs_distinct_ports():
    layout = dict(LAYOUT, frontend={"cp1": "10.0.0.21", "fe2": "10.0.0.12"})
    clash = run(layout)
    assert errors_mentioning(clash, "cp1", "frontend and control plane", "quorum_api_port")
    assert run(layout, quorum_api_port=8443)["ok"]


def test_host_addresses_unique_and_inside_node_cidr():
    layout = dict(LAYOUT, worker={"w1": "10.0.0.41", "w2": "10.0.0.41", "w3": "10.9.0.1"})
    result = run(layout)
    assert errors_mentioning(result, "w1, w2", "10.0.0.41")
    assert errors_mentioning(result, "host w3", "outside quorum_node_cidr")


def test_quorum_node_ip_wins_over_ansible_host():
    groups, hostvars = inventory()
    hostvars["w1"]["ansible_host"] = "bastion.example.org"
    hostvars["w1"]["quorum_node_ip"] = "10.0.0.41"
    assert pf.check_inventory(groups, hostvars)["ok"]
    hostvars["w1"].pop("quorum_node_ip")
    assert errors_mentioning(pf.check_inventory(groups, hostvars), "host w1", "not an IP")


@pytest.mark.parametrize("name,value,other", [
    ("quorum_pod_cidr", "10.0.0.0/16", "quorum_node_cidr"),
    ("quorum_service_cidr", "10.244.0.0/20", "quorum_pod_cidr"),
])
def test_networks_must_not_overlap(name, value, other):
    assert errors_mentioning(run(**{name: value}), name, other, "overlap")


@pytest.mark.parametrize("name", ["quorum_pod_cidr", "quorum_service_cidr", "quorum_node_cidr"])
def test_networks_must_be_valid(name):
    assert errors_mentioning(run(**{name: "10.1.2.3/8"}), name, "CIDR")


@pytest.mark.parametrize("name,ok", [
    ("prod-1", True), ("a", True), ("Prod", False), ("-x", False), ("x" * 64, False), ("a_b", False),
])
def test_cluster_name_is_dns1123_label(name, ok):
    assert bool(errors_mentioning(run(quorum_cluster_name=name), "quorum_cluster_name")) is not ok


@pytest.mark.parametrize("version,words", [("1.34", "full version"), ("1.20.1", "supported"), ("latest", "full version")])
def test_kubernetes_version_rules(version, words):
    assert errors_mentioning(run(quorum_kubernetes_version=version), "quorum_kubernetes_version", words)


def test_kubernetes_version_with_v_prefix_passes():
    assert run(quorum_kubernetes_version="v" + KUBERNETES_VERSION) == {"ok": True, "errors": [], "warnings": []}


def test_kubernetes_version_defaults_to_the_tested_one():
    result = run(quorum_kubernetes_version=None)
    assert result == {"ok": True, "errors": [], "warnings": []}
    assert CLUSTER_DEFAULTS["quorum_kubernetes_version"] == KUBERNETES_VERSION
    assert "quorum_kubernetes_version" not in pf.CLUSTER_REQUIRED


def test_kubernetes_version_pinned_to_another_patch_warns():
    result = run(quorum_kubernetes_version="1.34.2")
    assert result["ok"]
    assert [w for w in result["warnings"] if "1.34.2" in w and KUBERNETES_VERSION in w and "tested" in w]


def test_defaults_apply_when_the_inventory_leaves_them_out():
    overrides = dict((name, None) for name in CLUSTER_DEFAULTS)
    assert run(**overrides) == {"ok": True, "errors": [], "warnings": []}


def test_worker_and_meta_worker_exclusive():
    layout = dict(LAYOUT, meta_worker={"w1": "10.0.0.41"})
    assert errors_mentioning(run(layout), "host w1", "worker and meta_worker")


def test_etcd_host_not_in_workload_group():
    layout = dict(LAYOUT, etcd={"w1": "10.0.0.41"})
    assert errors_mentioning(run(layout, quorum_etcd_topology="external"), "host w1", "etcd and in a workload")


def test_unknown_quorum_variable_warns():
    groups, hostvars = inventory()
    hostvars["cp2"]["quorum_api_vipp"] = "10.0.0.10"
    result = pf.check_inventory(groups, hostvars)
    assert result["ok"]
    assert any("quorum_api_vipp" in w and "cp2" in w for w in result["warnings"])


@pytest.mark.parametrize("name", pf.CLUSTER_REQUIRED)
def test_required_variables(name):
    assert errors_mentioning(run(**{name: None}), name, "required")


def test_hosts_disagreeing_on_a_cluster_variable():
    groups, hostvars = inventory()
    hostvars["w1"]["quorum_api_vip"] = "10.0.0.99"
    assert errors_mentioning(pf.check_inventory(groups, hostvars), "quorum_api_vip", "disagree", "w1")


@pytest.mark.parametrize("addr,ok", [("http://127.0.0.1:8200", True), ("vault:8200", False)])
def test_vault_addr_is_url(addr, ok):
    assert bool(errors_mentioning(run(quorum_vault_addr=addr), "quorum_vault_addr")) is not ok


@pytest.mark.parametrize("plugin,ok", [("kube-router", True), ("bridge", True), ("calico", False), (None, True)])
def test_network_plugin(plugin, ok):
    assert bool(errors_mentioning(run(quorum_network_plugin=plugin), "quorum_network_plugin")) is not ok


@pytest.mark.parametrize("firewall,admin,ok", [(False, None, True), (True, "192.0.2.0/28", True), ("yes", "192.0.2.7/32", True),
                                               (True, None, False), (True, "192.0.2.1/28", False), ("maybe", None, False)])
def test_firewall_needs_an_admin_network(firewall, admin, ok):
    report = run(quorum_firewall=firewall, quorum_admin_cidr=admin)
    assert bool(errors_mentioning(report, "quorum_firewall") + errors_mentioning(report, "quorum_admin_cidr")) is not ok


def test_network_plugin_defaults_to_kube_router():
    assert CLUSTER_DEFAULTS["quorum_network_plugin"] == "kube-router"


@pytest.mark.parametrize("source,ok", [("upstream", True), ("http://10.0.0.2:8080", True), ("mirror", False)])
def test_artifacts_source(source, ok):
    assert bool(errors_mentioning(run(quorum_artifacts=source), "quorum_artifacts")) is not ok


def test_every_fault_reported_at_once():
    layout = dict(LAYOUT, control_plane={}, frontend={})
    result = run(layout, quorum_cluster_name="Bad_Name", quorum_api_port=0, quorum_kubernetes_version="9")
    message = pf.format_report(result)
    for word in ("control_plane", "frontend", "quorum_cluster_name", "quorum_api_port", "quorum_kubernetes_version"):
        assert word in message
    assert message.startswith("Inventory preflight found %d fault(s)" % len(result["errors"]))


FIVE = dict(LAYOUT, control_plane={"cp%d" % i: "10.0.0.%d" % (20 + i) for i in range(1, 6)})


@pytest.mark.parametrize("layout,remove,words", [
    (LAYOUT, "cp1", None),
    (LAYOUT, "w1,m1", None),
    (LAYOUT, ["fe1"], None),
    (FIVE, "cp1,cp2", None),  # 5 -> 3, the init node among them
    (LAYOUT, "", ("no host named",)),
    (LAYOUT, "nope", ("host nope", "not in the inventory")),
    (LAYOUT, "w1,w1", ("w1 named twice",)),
    (LAYOUT, "cp1,cp2", ("leave 1 of 3", "group control_plane", "at most 1")),
    (FIVE, "cp1,cp2,cp3", ("leave 2 of 5", "at most 2")),
    (dict(LAYOUT, control_plane={"cp1": "10.0.0.21"}), "cp1", ("last of group control_plane",)),
    (LAYOUT, "fe1,fe2", ("last frontend",)),
])
def test_removal_rules(layout, remove, words):
    result = pf.check_inventory(*inventory(layout), remove=remove)
    if words is None:
        assert result["errors"] == []
    else:
        assert errors_mentioning(result, *words), result["errors"]


def test_removal_of_external_etcd_keeps_majority():
    layout = dict(LAYOUT, etcd={"e1": "10.0.0.51", "e2": "10.0.0.52", "e3": "10.0.0.53"})
    assert pf.check_inventory(*inventory(layout, quorum_etcd_topology="external"), remove="e1")["ok"]
    result = pf.check_inventory(*inventory(layout, quorum_etcd_topology="external"), remove="e1,e2")
    assert errors_mentioning(result, "group etcd", "leave 1 of 3")


def test_no_removal_checked_unless_asked():
    assert pf.check_inventory(*inventory())["ok"]
    assert pf.removal_names(None) == [] and pf.removal_names(" a, b ,") == ["a", "b"]
