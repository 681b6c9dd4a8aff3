"""Topology -> inventory that satisfies the inventory contract."""

import ipaddress
import json
from pathlib import Path

import yaml

from lab import config, inventory, qemu, topology

CONTRACT_VARS = {
    "quorum_cluster_name", "quorum_etcd_topology", "quorum_node_cidr", "quorum_api_vip", "quorum_api_port",
    "quorum_kubernetes_version", "quorum_pod_cidr", "quorum_service_cidr", "quorum_vault_addr",
    "quorum_vault_ca_cert", "quorum_vault_prefix", "quorum_artifacts",
}


def build(topo, instance="default"):
    return inventory.build(topo, topology.nodes(topo, env={}), ssh_key=Path("/h/ssh/id_ed25519"),
                           ca_cert=Path("/h/ca/ca.pem"), instance=instance)


def groups(inv):
    return inv["all"]["children"]["lab"]["children"]


def test_stacked_inventory_groups_and_hosts():
    inv = build("stacked")
    g = groups(inv)
    assert sorted(g["frontend"]["hosts"]) == ["fe-1", "fe-2"]
    assert sorted(g["control_plane"]["hosts"]) == ["cp-1", "cp-2", "cp-3"]
    assert list(g["worker"]["hosts"]) == ["worker-1"]
    assert list(g["meta_worker"]["hosts"]) == ["meta-1"]
    assert g["etcd"] == {}
    assert g["control_plane"]["hosts"]["cp-2"] == {"ansible_host": "10.231.0.22"}
    assert inv["all"]["vars"]["quorum_etcd_topology"] == "stacked"


def test_external_inventory_has_an_etcd_group():
    inv = build("external")
    assert sorted(groups(inv)["etcd"]["hosts"]) == ["etcd-1", "etcd-2", "etcd-3"]
    assert inv["all"]["vars"]["quorum_etcd_topology"] == "external"


def test_contract_variables_and_connection():
    v = build("stacked")["all"]["vars"]
    assert CONTRACT_VARS <= set(v)
    assert v["ansible_user"] == "root"
    assert v["ansible_ssh_private_key_file"] == "/h/ssh/id_ed25519"
    assert v["quorum_vault_ca_cert"] == "/h/ca/ca.pem"
    assert v["quorum_vault_addr"] == "https://10.231.0.1:8200"
    assert v["quorum_artifacts"] == "http://10.231.0.1"
    assert v["quorum_api_port"] == 6443
    net = ipaddress.ip_network(v["quorum_node_cidr"])
    assert ipaddress.ip_address(v["quorum_api_vip"]) in net
    assert v["quorum_api_vip"] not in inventory.hosts(build("stacked")).values()
    # the two ranges of the cluster do not overlap the node network
    assert not ipaddress.ip_network(v["quorum_pod_cidr"]).overlaps(net)
    assert not ipaddress.ip_network(v["quorum_service_cidr"]).overlaps(net)


def test_cluster_name_follows_the_instance():
    assert build("smoke")["all"]["vars"]["quorum_cluster_name"] == "lab"
    assert build("smoke", "cluster-external")["all"]["vars"]["quorum_cluster_name"] == "lab-cluster-external"


def test_render_is_yaml_that_ansible_reads_back():
    inv = build("frontend")
    text = inventory.render(inv)
    assert text.startswith("# Written by the quorum.k8s lab")
    assert yaml.safe_load(text) == inv
    assert inventory.hosts(yaml.safe_load(text)) == {
        "fe-1": "10.231.0.11", "fe-2": "10.231.0.12", "be-1": "10.231.0.21", "be-2": "10.231.0.22", "be-3": "10.231.0.23",
    }


def test_kubernetes_version_from_the_artifact_manifest(tmp_path):
    assert inventory.kubernetes_version(tmp_path) == config.DEFAULT_KUBERNETES_VERSION
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "manifest.json").write_text(json.dumps({"kubernetes": {"version": "v1.35.8"}}))
    assert inventory.kubernetes_version(tmp_path) == "1.35.8"
    (tmp_path / "mirror" / "manifest.json").write_text(json.dumps({"kubernetes_version": "1.34.1"}))
    assert inventory.kubernetes_version(tmp_path) == "1.34.1"
    (tmp_path / "mirror" / "manifest.json").write_text("not json")
    assert inventory.kubernetes_version(tmp_path) == config.DEFAULT_KUBERNETES_VERSION


def test_slow_machine_timings_are_role_variables_and_consistent():
    lab_vars = build("stacked")["all"]["children"]["lab"]["vars"]
    specs = {}
    for spec_file in Path(__file__).resolve().parents[3].glob("roles/*/meta/argument_specs.yml"):
        for entry in yaml.safe_load(spec_file.read_text())["argument_specs"].values():
            specs.update(entry.get("options", {}))
    tuned = set(qemu.INVENTORY_VARS)
    assert tuned <= set(lab_vars)
    assert tuned <= set(specs), f"not declared by any role: {sorted(tuned - set(specs))}"
    # etcd's own rule: the election timeout is at least 10 heartbeats
    assert lab_vars["control_plane_etcd_election_timeout_ms"] >= 10 * lab_vars["control_plane_etcd_heartbeat_interval_ms"]


def test_frontend3_inventory_has_three_frontends_and_two_backends():
    g = groups(build("frontend3"))
    assert g["frontend"]["hosts"] == {
        "fe-1": {"ansible_host": "10.231.0.11"},
        "fe-2": {"ansible_host": "10.231.0.12"},
        "fe-3": {"ansible_host": "10.231.0.13"},
    }
    assert g["control_plane"]["hosts"] == {"be-1": {"ansible_host": "10.231.0.21"}, "be-2": {"ansible_host": "10.231.0.22"}}


def test_lab_pki_uses_ecdsa_keys_the_vault_role_accepts():
    v = build("stacked")["all"]["vars"]
    specs = yaml.safe_load(Path("roles/vault/meta/argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert v["vault_pki_key_type"] in specs["vault_pki_key_type"]["choices"]
    assert (v["vault_pki_key_type"], v["vault_pki_key_bits"]) == ("ec", 256)


def test_nspawn_clusters_run_the_firewall_and_reach_nodes_through_the_frontends():
    inv = inventory.build("stacked", topology.nodes("stacked", env={}), ssh_key=Path("/h/ssh/id_ed25519"),
                          ca_cert=Path("/h/ca/ca.pem"), instance="default", backend="nspawn")
    v, g = inv["all"]["vars"], groups(inv)
    assert v["quorum_firewall"] is True and v["quorum_admin_cidr"] == f"{config.GATEWAY}/32"
    assert "vars" not in g["frontend"]
    for group in ("control_plane", "worker", "meta_worker"):
        args = g[group]["vars"]["ansible_ssh_extra_args"]
        assert g[group]["vars"]["ansible_sftp_extra_args"] == g[group]["vars"]["ansible_scp_extra_args"] == args
        # one shell word for ProxyCommand, trying fe-1 then fe-2
        assert args.startswith("-o 'ProxyCommand=ssh -i /h/ssh/id_ed25519")
        assert args.index("root@10.231.0.11") < args.index("|| ssh") < args.index("root@10.231.0.12")


def test_qemu_topologies_keep_direct_ssh_and_no_firewall():
    inv = build("stacked")
    assert "quorum_firewall" not in inv["all"]["vars"]
    assert all("vars" not in (grp or {}) for grp in groups(inv).values())


def test_jump_hosts_are_the_frontends_for_other_nodes_only():
    nodes = topology.nodes("stacked", env={})
    by_name = {n.name: n for n in nodes}
    assert topology.jump_hosts(nodes, by_name["cp-1"]) == ["10.231.0.11", "10.231.0.12"]
    assert topology.jump_hosts(nodes, by_name["fe-1"]) == []
