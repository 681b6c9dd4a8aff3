from __future__ import annotations

import pytest

from ansible_collections.quorum.k8s.plugins.module_utils._vault.bootstrap import Layout, differing, policies, run
from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import VaultConfigError

from vault_fakes import FakeClient

SPEC = dict(prefix="quorum", cluster="c1",
            pki_roles=[{"mount": "etcd-pki", "name": "peer", "server": True, "client": True}],
            hosts=[{"name": "cp1", "classes": ["control_plane", "frontend"]}, {"name": "w1", "classes": ["worker"]}])


def test_layout_names():
    layout = Layout("quorum", "c1")
    assert layout.kv == "quorum/c1/kv" and layout.pki("etcd-pki") == "quorum/c1/etcd-pki"
    assert layout.approle == "quorum-nodes" and layout.policy("etcd") == "quorum-c1-etcd"
    assert layout.role("node 1") == "c1--node_1"


@pytest.mark.parametrize("prefix,cluster", [("/q", "c"), ("q/", "c"), ("q", "c/d"), ("q", "")])
def test_bad_names(prefix, cluster):
    with pytest.raises(VaultConfigError):
        Layout(prefix, cluster)


def test_worker_policy_grants_no_issuance_nor_other_classes():
    texts = policies(Layout("quorum", "c1"), ["c1--w1"])
    worker = texts["quorum-c1-worker"]
    assert "/issue/" not in worker
    assert 'path "quorum/c1/kv/data/worker/*"' in worker
    assert "control_plane" not in worker and "etcd/" not in worker
    etcd = texts["quorum-c1-etcd"]
    assert 'path "quorum/c1/etcd-pki/issue/peer"' in etcd and "k8s-pki/issue" not in etcd
    orchestrator = texts["quorum-c1-orchestrator"]
    assert 'path "auth/quorum-nodes/role/c1--w1/secret-id"' in orchestrator
    assert "sys/" not in orchestrator


def test_differing_normalises_types():
    assert differing({"ttl": 900, "flag": True, "names": ["a"], "s": "x"},
                     {"ttl": "900", "flag": 1, "names": ["a"], "s": "x"}) == []
    assert differing({"ttl": 900, "names": ["a", "b"]}, {"ttl": 60, "names": ["a"]}) == ["names", "ttl"]


def test_check_mode_on_an_empty_vault_writes_nothing_and_reports_everything():
    client = FakeClient()
    result = run(client, SPEC, check_mode=True)
    assert client.writes == [] and client.deletes == []
    actions = {(c["action"], c["path"]) for c in result["changes"]}
    assert ("mount", "quorum/c1/kv") in actions
    assert ("generate root CA", "quorum/c1/etcd-pki") in actions
    assert ("pki role", "quorum/c1/etcd-pki/roles/peer") in actions
    assert ("approle role", "auth/quorum-nodes/role/c1--cp1") in actions
    assert result["roles"] == {"cp1": "c1--cp1", "w1": "c1--w1"}


def test_host_role_carries_all_its_class_policies():
    client = FakeClient()
    run(client, SPEC)
    written = dict(client.writes)
    assert written["auth/quorum-nodes/role/c1--cp1"]["token_policies"] == ["quorum-c1-control_plane",
                                                                           "quorum-c1-frontend"]
    assert written["auth/quorum-nodes/role/c1--w1"]["token_ttl"] == 900


def test_unknown_class_is_refused():
    spec = dict(SPEC, hosts=[{"name": "x", "classes": ["bastion"]}])
    with pytest.raises(VaultConfigError, match="host x"):
        run(FakeClient(), spec, check_mode=True)


def test_prune_deletes_only_this_clusters_missing_hosts():
    mounts = {"data": {}}
    client = FakeClient(responses={"sys/auth": {"data": {"quorum-nodes/": {"type": "approle"}}}, "sys/mounts": mounts},
                        lists={"auth/quorum-nodes/role": ["c1--cp1", "c1--gone", "c2--gone", "c1--orchestrator"]})
    result = run(client, dict(SPEC, prune=True))
    assert client.deletes == ["auth/quorum-nodes/role/c1--gone"]
    assert result["removed_roles"] == ["c1--gone"]


def test_existing_mount_of_another_type_is_an_error():
    client = FakeClient(responses={"sys/mounts": {"data": {"quorum/c1/kv/": {"type": "pki", "options": None}}}})
    with pytest.raises(VaultConfigError, match="quorum/c1/kv holds a pki engine"):
        run(client, SPEC)
