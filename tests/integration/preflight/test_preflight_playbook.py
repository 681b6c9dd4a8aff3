"""playbooks/preflight.yml against broken inventories: one message naming every fault.

Real ansible-playbook runs; nothing is faked. The inventories are written to a
temporary directory from the stacked example with one or more faults injected.
"""

import os
import subprocess
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PLAYBOOK = os.path.join(REPO, "playbooks", "preflight.yml")
# The ansible-playbook of the interpreter running the tests (the project virtualenv).
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


def base():
    with open(os.path.join(REPO, "inventories", "stacked", "hosts.yml")) as f:
        hosts = yaml.safe_load(f)
    with open(os.path.join(REPO, "inventories", "stacked", "group_vars", "all.yml")) as f:
        hosts["all"]["vars"] = yaml.safe_load(f)
    return hosts


def groups(inv):
    return inv["all"]["children"]


def run_preflight(tmp_path, inv, *args, playbook=PLAYBOOK):
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(inv))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([ANSIBLE_PLAYBOOK, "-i", str(path), *args, playbook], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def no_control_plane(inv):
    groups(inv)["control_plane"]["hosts"] = {}
    return ["group control_plane: empty"]


def external_without_etcd(inv):
    inv["all"]["vars"]["quorum_etcd_topology"] = "external"
    return ["group etcd: empty"]


def stacked_with_etcd(inv):
    groups(inv)["etcd"] = {"hosts": {"e1": {"ansible_host": "192.0.2.51"}}}
    return ["group etcd: e1 listed"]


def no_frontend(inv):
    groups(inv)["frontend"]["hosts"] = {}
    return ["group frontend: empty"]


def vip_outside(inv):
    inv["all"]["vars"]["quorum_api_vip"] = "198.51.100.10"
    return ["quorum_api_vip: 198.51.100.10 is outside"]


def vip_is_host(inv):
    inv["all"]["vars"]["quorum_api_vip"] = "192.0.2.41"
    return ["quorum_api_vip: 192.0.2.41 is the address of host w1"]


def bad_port(inv):
    inv["all"]["vars"]["quorum_api_port"] = 99999
    return ["quorum_api_port: 99999"]


def colocated_same_port(inv):
    groups(inv)["frontend"]["hosts"]["cp1"] = {}
    return ["hosts cp1: frontend and control plane"]


def duplicate_address(inv):
    groups(inv)["worker"]["hosts"]["w2"]["ansible_host"] = "192.0.2.41"
    return ["hosts w1, w2: share the address 192.0.2.41"]


def host_outside(inv):
    groups(inv)["worker"]["hosts"]["w2"]["ansible_host"] = "203.0.113.5"
    return ["host w2: address 203.0.113.5 is outside quorum_node_cidr"]


def overlapping_networks(inv):
    inv["all"]["vars"]["quorum_service_cidr"] = "10.244.128.0/20"
    return ["quorum_pod_cidr (10.244.0.0/16) and quorum_service_cidr (10.244.128.0/20): the networks overlap"]


def bad_cluster_name(inv):
    inv["all"]["vars"]["quorum_cluster_name"] = "Prod_Cluster"
    return ["quorum_cluster_name: 'Prod_Cluster' is not a DNS-1123 label"]


def bad_version(inv):
    inv["all"]["vars"]["quorum_kubernetes_version"] = "1.35"
    return ["quorum_kubernetes_version: '1.35' is not a full version"]


def old_version(inv):
    inv["all"]["vars"]["quorum_kubernetes_version"] = "1.28.4"
    return ["quorum_kubernetes_version: 1.28.4 is outside the supported minors"]


def worker_and_meta(inv):
    groups(inv)["meta_worker"]["hosts"]["w1"] = {}
    return ["host w1: in both worker and meta_worker"]


def missing_vault(inv):
    del inv["all"]["vars"]["quorum_vault_addr"]
    return ["quorum_vault_addr: required"]


def many_at_once(inv):
    return (no_control_plane(inv) + vip_outside(inv) + bad_cluster_name(inv) + worker_and_meta(inv)
            + overlapping_networks(inv))


BROKEN = [no_control_plane, external_without_etcd, stacked_with_etcd, no_frontend, vip_outside, vip_is_host,
          bad_port, colocated_same_port, duplicate_address, host_outside, overlapping_networks, bad_cluster_name,
          bad_version, old_version, worker_and_meta, missing_vault, many_at_once]


def test_example_inventory_passes(tmp_path):
    rc, out = run_preflight(tmp_path, base())
    assert rc == 0, out
    assert "failed=0" in out


@pytest.mark.parametrize("breakage", BROKEN, ids=[b.__name__ for b in BROKEN])
def test_broken_inventory_is_stopped_with_every_fault_named(tmp_path, breakage):
    inv = base()
    expected = breakage(inv)
    rc, out = run_preflight(tmp_path, inv)
    assert rc == 2, out
    assert "Inventory preflight found %d fault(s)" % len(expected) in out, out
    for fragment in expected:
        assert fragment in out, "missing %r in:\n%s" % (fragment, out)


def test_unknown_variable_is_a_warning_not_a_fault(tmp_path):
    inv = base()
    inv["all"]["vars"]["quorum_api_vipp"] = "192.0.2.10"
    rc, out = run_preflight(tmp_path, inv)
    assert rc == 0, out
    assert "quorum_api_vipp" in out and "typo" in out


def test_example_inventory_takes_the_tested_version_without_warning(tmp_path):
    inv = base()
    assert "quorum_kubernetes_version" not in inv["all"]["vars"]
    rc, out = run_preflight(tmp_path, inv)
    assert rc == 0 and "Inventory preflight warnings" not in out, out


def test_another_pinned_version_is_a_warning_not_a_fault(tmp_path):
    inv = base()
    inv["all"]["vars"]["quorum_kubernetes_version"] = "1.35.0"
    rc, out = run_preflight(tmp_path, inv)
    assert rc == 0, out
    assert "quorum_kubernetes_version: 1.35.0 is not the version" in out, out


def test_limit_does_not_skip_the_preflight_of_a_playbook_that_changes_hosts(tmp_path):
    """reset.yml --limit one worker: the preflight still runs (on the controller) and stops the run."""
    inv = base()
    expected = no_frontend(inv)
    rc, out = run_preflight(tmp_path, inv, "--limit", "w1", "-e", "reset_confirm=x",
                            playbook=os.path.join(REPO, "playbooks", "reset.yml"))
    assert rc != 0
    assert all(e in out for e in expected), out
    assert "Refuse without the cluster" not in out  # stopped before the first task on a host
    assert "UNREACHABLE" not in out


@pytest.mark.parametrize("remove,reason", [
    ("cp1,cp2", "would leave 1 of 3 in group control_plane"),
    ("nope", "host nope is not in the inventory"),
    ("fe1,fe2", "would remove the last frontend"),
])
def test_remove_node_refuses_before_any_host_is_contacted(tmp_path, remove, reason):
    rc, out = run_preflight(tmp_path, base(), "-e", "remove_node=" + remove,
                            playbook=os.path.join(REPO, "playbooks", "remove_node.yml"))
    assert rc != 0 and reason in out, out
    assert "UNREACHABLE" not in out  # the example inventory's hosts do not exist: none was tried
