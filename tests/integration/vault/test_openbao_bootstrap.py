"""Bootstrap against a real OpenBao: check mode, apply (-vvv, no value leaks), idempotency, policies, prune."""
from __future__ import annotations

import os

import hvac
import pytest

from vault_helpers import REPO, playbook_file, recap, run_playbook, write_inventory

BOOTSTRAP = os.path.join(REPO, "playbooks", "vault_bootstrap.yml")
CLUSTER = "it"
KV = "quorum/%s/kv" % CLUSTER
SECRET_PATHS = ["control_plane/service-account", "control_plane/encryption-key", "frontend/vrrp-auth",
                "frontend/haproxy-stats"]
# Vault's own environment emptied: the connection can only come from the inventory's quorum_vault_*
NO_VAULT_ENV = {"VAULT_ADDR": "", "VAULT_CACERT": "", "VAULT_TOKEN": ""}


@pytest.fixture(scope="module")
def root(openbao):
    return hvac.Client(url=openbao.addr, token=openbao.root_token, verify=openbao.ca_cert)


@pytest.fixture(scope="module")
def bootstrap_runs(openbao, root, tmp_path_factory):
    """Check mode, then apply with -vvv, then apply again: the outputs, in order."""
    inv = write_inventory(tmp_path_factory.mktemp("inv") / "hosts.yml", openbao, CLUSTER)
    outputs = {}
    outputs["check"] = run_playbook(openbao, inv, BOOTSTRAP, "--check")[1]
    outputs["mounts_after_check"] = sorted(root.sys.list_mounted_secrets_engines()["data"].keys())
    outputs["apply"] = run_playbook(openbao, inv, BOOTSTRAP, "-vvv")[1]
    outputs["again"] = run_playbook(openbao, inv, BOOTSTRAP, "-v")[1]
    outputs["inventory"] = inv
    return outputs


def test_check_mode_writes_nothing(bootstrap_runs):
    assert recap(bootstrap_runs["check"])["localhost"]["changed"] >= 1
    assert not [m for m in bootstrap_runs["mounts_after_check"] if m.startswith("quorum/%s/" % CLUSTER)]


def test_bootstrap_creates_layout(bootstrap_runs, root):
    assert recap(bootstrap_runs["apply"])["localhost"]["changed"] >= 1
    mounts = root.sys.list_mounted_secrets_engines()["data"]
    assert mounts[KV + "/"]["type"] == "kv" and str(mounts[KV + "/"]["options"]["version"]) == "2"
    for pki in ("etcd-pki", "k8s-pki", "front-proxy-pki"):
        assert mounts["quorum/%s/%s/" % (CLUSTER, pki)]["type"] == "pki"
    assert root.sys.list_auth_methods()["data"]["quorum-nodes/"]["type"] == "approle"
    roles = root.list("auth/quorum-nodes/role")["data"]["keys"]
    for host in ("fe1", "cp1", "cp2", "etcd1", "w1", "w2", "mw1", "orchestrator"):
        assert "%s--%s" % (CLUSTER, host) in roles
    policies = root.sys.list_acl_policies()["data"]["keys"]
    for klass in ("frontend", "etcd", "control_plane", "worker", "meta_worker", "orchestrator"):
        assert "quorum-%s-%s" % (CLUSTER, klass) in policies
    # fe1 is in frontend and control_plane: both policies on its role
    fe1 = root.read("auth/quorum-nodes/role/%s--fe1" % CLUSTER)["data"]
    assert sorted(fe1["token_policies"]) == ["quorum-it-control_plane", "quorum-it-frontend"]
    assert fe1["token_ttl"] == 900
    # the Kubernetes CA key was exported once into KV, the etcd CA key was not
    k8s_ca = root.secrets.kv.v2.read_secret_version(path="control_plane/kubernetes-ca", mount_point=KV,
                                                    raise_on_deleted_version=True)["data"]["data"]
    assert "BEGIN" in k8s_ca["private_key"]
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.secrets.kv.v2.read_secret_version(path="control_plane/etcd-ca", mount_point=KV,
                                               raise_on_deleted_version=True)


def test_catalogue_secrets_have_their_lengths_and_nothing_else_is_made(bootstrap_runs, root):
    def value(path):
        return root.secrets.kv.v2.read_secret_version(path=path, mount_point=KV,
                                                      raise_on_deleted_version=True)["data"]["data"]["value"]
    assert len(value("frontend/vrrp-auth")) == 8
    assert len(value("frontend/haproxy-stats")) == 24
    assert sorted(root.secrets.kv.v2.list_secrets(path="control_plane", mount_point=KV)["data"]["keys"]) == [
        "encryption-key", "kubernetes-ca", "service-account"]


def test_connection_comes_from_the_inventory_variables(bootstrap_runs, openbao):
    """module_defaults from quorum_vault_*: with Vault's environment empty the token variable is the credential."""
    inv = bootstrap_runs["inventory"]
    rc, out = run_playbook(openbao, inv, BOOTSTRAP, "-e", "quorum_vault_token=%s" % openbao.root_token, env=NO_VAULT_ENV)
    assert recap(out)["localhost"]["changed"] == 0, out[-3000:]
    rc, out = run_playbook(openbao, inv, BOOTSTRAP, env=NO_VAULT_ENV, check=False)
    assert rc != 0 and "no Vault token for %s" % openbao.addr in out


def test_second_run_changes_nothing(bootstrap_runs):
    counts = recap(bootstrap_runs["again"])
    assert counts["localhost"]["changed"] == 0, bootstrap_runs["again"][-3000:]
    assert counts["localhost"]["failed"] == 0


def test_verbose_run_shows_no_generated_value(bootstrap_runs, root):
    output = bootstrap_runs["apply"]
    assert "-vvv" in output or "Using " in output  # the run was verbose
    checked = 0
    for path in SECRET_PATHS:
        data = root.secrets.kv.v2.read_secret_version(path=path, mount_point=KV,
                                                      raise_on_deleted_version=True)["data"]["data"]
        for value in data.values():
            for piece in value.splitlines() if "BEGIN" in value else [value]:
                if len(piece) >= 8 and "-----" not in piece:
                    assert piece not in output, "a generated value of %s appears in the -vvv output" % path
                    checked += 1
    assert checked >= len(SECRET_PATHS)


def _login(openbao, root, host):
    name = "%s--%s" % (CLUSTER, host)
    role_id = root.read("auth/quorum-nodes/role/%s/role-id" % name)["data"]["role_id"]
    secret_id = root.write_data("auth/quorum-nodes/role/%s/secret-id" % name)["data"]["secret_id"]
    status, answer = openbao.api("POST", "auth/quorum-nodes/login", {"role_id": role_id, "secret_id": secret_id},
                                 token="", expect=(200,))
    return answer["auth"]["client_token"]


def test_worker_token_is_refused_etcd_issuance_and_other_classes(bootstrap_runs, openbao, root):
    root.secrets.kv.v2.create_or_update_secret(path="worker/probe", secret={"v": "1"}, mount_point=KV)
    token = _login(openbao, root, "w1")
    status, dummy = openbao.api("POST", "quorum/%s/etcd-pki/issue/peer" % CLUSTER, {"common_name": "w1"},
                                token=token, expect=None)
    assert status == 403
    for path in ("control_plane/encryption-key", "frontend/vrrp-auth", "control_plane/kubernetes-ca"):
        status, dummy = openbao.api("GET", "%s/data/%s" % (KV, path), token=token, expect=None)
        assert status == 403, path
    status, answer = openbao.api("GET", "%s/data/worker/probe" % KV, token=token, expect=None)
    assert status == 200 and answer["data"]["data"] == {"v": "1"}


def test_etcd_token_may_issue_etcd_but_not_kubernetes(bootstrap_runs, openbao, root):
    token = _login(openbao, root, "etcd1")
    status, answer = openbao.api("POST", "quorum/%s/etcd-pki/issue/peer" % CLUSTER,
                                 {"common_name": "etcd1", "ip_sans": "10.1.0.4"}, token=token, expect=None)
    assert status == 200 and "BEGIN CERTIFICATE" in answer["data"]["certificate"]
    status, dummy = openbao.api("POST", "quorum/%s/k8s-pki/issue/admin" % CLUSTER, {"common_name": "x"},
                                token=token, expect=None)
    assert status == 403


def test_orchestrator_may_mint_node_secret_ids_but_not_manage_vault(bootstrap_runs, openbao, root):
    token = _login(openbao, root, "orchestrator")
    status, answer = openbao.api("POST", "auth/quorum-nodes/role/%s--w1/secret-id" % CLUSTER, {}, token=token,
                                 expect=None)
    assert status == 200 and answer["data"]["secret_id"]
    status, dummy = openbao.api("POST", "sys/policies/acl/evil", {"policy": 'path "*" {capabilities=["sudo"]}'},
                                token=token, expect=None)
    assert status == 403


def test_prune_removes_roles_of_hosts_that_left(bootstrap_runs, openbao, root, tmp_path):
    inv = write_inventory(tmp_path / "hosts.yml", openbao, CLUSTER, drop=("w2",))
    # another cluster's roles are never touched
    root.write_data("auth/quorum-nodes/role/other--w2", data={"token_policies": ["default"]})
    rc, out = run_playbook(openbao, inv, BOOTSTRAP, "-e", "vault_prune_roles=true")
    assert recap(out)["localhost"]["changed"] == 1
    roles = root.list("auth/quorum-nodes/role")["data"]["keys"]
    assert "%s--w2" % CLUSTER not in roles
    assert "%s--w1" % CLUSTER in roles and "other--w2" in roles


def test_kubeconfig_as_the_orchestrator_through_approle(bootstrap_runs, openbao, root, tmp_path):
    """playbooks/kubeconfig.yml with the AppRole settings of the inventory (the orchestrator role)."""
    name = "auth/quorum-nodes/role/%s--orchestrator" % CLUSTER
    role_id = root.read(name + "/role-id")["data"]["role_id"]
    secret_id = root.write_data(name + "/secret-id")["data"]["secret_id"]
    inv = write_inventory(tmp_path / "hosts.yml", openbao, CLUSTER, extra_vars={
        "quorum_api_vip": "10.1.0.100", "quorum_vault_auth_method": "approle",
        "quorum_vault_approle_mount": "quorum-nodes", "quorum_vault_role_id": role_id})
    target = tmp_path / "admin.conf"
    rc, out = run_playbook(openbao, inv, os.path.join(REPO, "playbooks", "kubeconfig.yml"), "-vvv",
                           "-e", "kubeconfig_path=%s" % target, "-e", "quorum_vault_secret_id=%s" % secret_id,
                           env=NO_VAULT_ENV)
    assert oct(os.stat(target).st_mode & 0o777) == "0o600"
    text = target.read_text()
    assert "client-key-data" in text and "https://10.1.0.100:6443" in text
    assert secret_id not in out


def test_state_absent_deletes_one_clusters_layout_and_nothing_else(openbao, root, tmp_path):
    """What reset.yml -e reset_vault=true does: a second cluster "gone" is bootstrapped, then deleted."""
    inv = write_inventory(tmp_path / "hosts.yml", openbao, "gone")
    run_playbook(openbao, inv, BOOTSTRAP)
    assert "quorum/gone/kv/" in root.sys.list_mounted_secrets_engines()["data"]
    delete = playbook_file(tmp_path, "delete.yml", """
- hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/quorum.k8s.vault: "{{ lookup('quorum.k8s.vault_connection') }}"
  tasks:
    - quorum.k8s.vault_layout:
        cluster: gone
        state: absent
""")
    check = run_playbook(openbao, inv, delete, "--check")[1]
    assert recap(check)["localhost"]["changed"] == 1
    assert "quorum/gone/kv/" in root.sys.list_mounted_secrets_engines()["data"]
    out = run_playbook(openbao, inv, delete)[1]
    assert recap(out)["localhost"]["changed"] == 1
    mounts = root.sys.list_mounted_secrets_engines()["data"]
    assert not [m for m in mounts if m.startswith("quorum/gone/")]
    assert "quorum/%s/kv/" % CLUSTER in mounts  # the other cluster keeps its layout
    roles = root.list("auth/quorum-nodes/role")["data"]["keys"]
    assert not [r for r in roles if r.startswith("gone--")] and "%s--w1" % CLUSTER in roles
    policies = root.sys.list_acl_policies()["data"]["keys"]
    assert not [p for p in policies if p.startswith("quorum-gone-")]
    assert recap(run_playbook(openbao, inv, delete)[1])["localhost"]["changed"] == 0
