"""vault_secret, vault_pki_cert, vault_layout and secret_file wiring: options, results, diff, errors."""
from __future__ import annotations

import os
import stat

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import VaultPermissionDenied, VaultSealed
from ansible_collections.quorum.k8s.plugins.modules import secret_file, vault_layout, vault_pki_cert, vault_secret


class Exit(Exception):
    def __init__(self, kind, result):
        super().__init__(kind)
        self.kind = kind
        self.result = result


def _exit(self, **kw):  # pylint: disable=unused-argument
    raise Exit("exit", kw)


def _fail(self, msg, **kw):  # pylint: disable=unused-argument
    kw["msg"] = msg
    raise Exit("fail", kw)


@pytest.fixture(autouse=True)
def no_exit(monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail)


def call(module, args):
    with patch_module_args(args):
        with pytest.raises(Exit) as info:
            module.main()
    return info.value.kind, info.value.result


class Store(object):
    """Stands in for KV2 (the module's only boundary past the client)."""
    data = {}

    def __init__(self, client, mount):
        self.mount = mount

    def where(self, path):
        return "https://v/v1/%s/data/%s" % (self.mount, path)

    def read(self, path):
        return (dict(Store.data[path]), 1) if path in Store.data else None

    def latest(self, path):
        return (1, True) if path in Store.data else (0, False)

    def write(self, path, data, cas):
        Store.data[path] = dict(data)
        return cas + 1


@pytest.fixture
def kv(monkeypatch):
    Store.data = {}
    monkeypatch.setattr(vault_secret.VaultClient, "from_params", classmethod(lambda cls, p: object()))
    monkeypatch.setattr(vault_secret, "KV2", Store)
    return Store


def test_vault_secret_generates_then_reads(kv):
    args = {"mount": "quorum/c/kv", "path": "p", "generate": {"type": "bootstrap_token"}}
    kind, first = call(vault_secret, args)
    assert kind == "exit" and first["changed"] and first["created"] and first["version"] == 1
    kind, second = call(vault_secret, args)
    assert not second["changed"] and second["secret"] == first["secret"]


def test_vault_secret_diff_has_no_value(kv):
    kind, result = call(vault_secret, {"mount": "m", "path": "p", "generate": {"type": "random"},
                                       "_ansible_diff": True})
    assert "diff" in result and result["secret"]["value"] not in repr(result["diff"])


def test_vault_secret_check_mode_stores_nothing(kv):
    kind, result = call(vault_secret, {"mount": "m", "path": "p", "generate": {"type": "base64_key"},
                                       "_ansible_check_mode": True})
    assert result["changed"] and kv.data == {}


def test_vault_secret_rotate_requires_generate(kv):
    kind, result = call(vault_secret, {"mount": "m", "path": "p", "rotate": True})
    assert kind == "fail" and "generate" in result["msg"]


def test_vault_secret_approle_requires_ids(kv):
    kind, result = call(vault_secret, {"mount": "m", "path": "p", "auth_method": "approle", "role_id": "r"})
    assert kind == "fail" and "secret_id" in result["msg"]


def test_vault_secret_token_is_no_log():
    spec = vault_secret.connection_argument_spec()
    assert spec["token"]["no_log"] and spec["secret_id"]["no_log"] and spec["role_id"]["no_log"] is False


def test_vault_errors_become_one_message(monkeypatch):
    def boom(cls, params):
        raise VaultSealed("Vault at https://v is sealed: unseal it")
    monkeypatch.setattr(vault_secret.VaultClient, "from_params", classmethod(boom))
    kind, result = call(vault_secret, {"mount": "m", "path": "p"})
    assert kind == "fail" and result["msg"] == "Vault at https://v is sealed: unseal it"


def test_vault_pki_cert_keeps_a_good_certificate_without_vault(monkeypatch):
    monkeypatch.setattr(vault_pki_cert, "reissue_reason", lambda *a, **k: None)
    monkeypatch.setattr(vault_pki_cert.VaultClient, "from_params", classmethod(lambda c, p: pytest.fail("no Vault")))
    kind, result = call(vault_pki_cert, {"mount": "m", "role": "peer", "common_name": "n", "current_certificate": "x"})
    assert kind == "exit" and not result["changed"] and not result["issued"]


def test_vault_pki_cert_check_mode_does_not_issue(monkeypatch):
    monkeypatch.setattr(vault_pki_cert.VaultClient, "from_params", classmethod(lambda c, p: pytest.fail("no Vault")))
    kind, result = call(vault_pki_cert, {"mount": "m", "role": "peer", "common_name": "n",
                                         "_ansible_check_mode": True})
    assert result["changed"] and result["reason"] == "missing" and "private_key" not in result


def test_vault_pki_cert_issues(monkeypatch):
    monkeypatch.setattr(vault_pki_cert.VaultClient, "from_params", classmethod(lambda c, p: object()))
    monkeypatch.setattr(vault_pki_cert, "issue", lambda *a: {"certificate": "C", "private_key": "K", "issuing_ca": "I",
                                                             "ca_chain": ["I", "R"], "serial_number": "1",
                                                             "expiration": 1})
    kind, result = call(vault_pki_cert, {"mount": "m", "role": "peer", "common_name": "n"})
    assert result["issued"] and result["ca_bundle"] == "I\nR\n" and result["private_key"] == "K"


def test_vault_layout_permission_error(monkeypatch):
    monkeypatch.setattr(vault_layout.VaultClient, "from_params", classmethod(lambda c, p: object()))

    def denied(client, params, check_mode=False):
        raise VaultPermissionDenied("permission denied writing to https://v/v1/sys/mounts/x: grant it")
    monkeypatch.setattr(vault_layout, "run", denied)
    kind, result = call(vault_layout, {"cluster": "c"})
    assert kind == "fail" and "sys/mounts/x" in result["msg"]


def test_vault_layout_intermediate_needs_parent():
    kind, result = call(vault_layout, {"cluster": "c", "pki": {"mode": "intermediate"}})
    assert kind == "fail" and "parent_mount" in result["msg"]


def test_secret_file_writes_0600_once(tmp_path):
    path = str(tmp_path / "k.pem")
    kind, result = call(secret_file, {"path": path, "content": "SECRET", "_ansible_diff": True})
    assert result["changed"] and open(path).read() == "SECRET"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "SECRET" not in repr(result)
    kind, result = call(secret_file, {"path": path, "content": "SECRET"})
    assert not result["changed"]
    kind, result = call(secret_file, {"path": path, "content": "OTHER", "_ansible_check_mode": True})
    assert result["changed"] and open(path).read() == "SECRET"


def test_secret_file_needs_the_directory(tmp_path):
    kind, result = call(secret_file, {"path": str(tmp_path / "no" / "k"), "content": "x"})
    assert kind == "fail" and "does not exist" in result["msg"]


def test_vault_secret_names_are_read_by_name_from_the_catalogue(kv):
    kind, first = call(vault_secret, {"mount": "m", "names": ["vrrp-auth", "haproxy-stats"]})
    assert kind == "exit" and first["changed"] and first["created"] == ["vrrp-auth", "haproxy-stats"]
    assert "secret" not in first and sorted(first["secrets"]) == ["haproxy-stats", "vrrp-auth"]
    # the catalogue's paths and lengths, not the caller's
    assert sorted(kv.data) == ["frontend/haproxy-stats", "frontend/vrrp-auth"]
    assert len(first["secrets"]["vrrp-auth"]["value"]) == 8
    assert len(first["secrets"]["haproxy-stats"]["value"]) == 24
    kind, again = call(vault_secret, {"mount": "m", "names": ["haproxy-stats"]})
    assert not again["changed"] and again["created"] == []
    assert again["secrets"]["haproxy-stats"] == first["secrets"]["haproxy-stats"]
    assert again["version"] == {"haproxy-stats": 1}


def test_vault_secret_names_keep_existing_values(kv):
    kv.data["frontend/haproxy-stats"] = {"value": "x" * 32}  # a cluster made before the catalogue
    kind, result = call(vault_secret, {"mount": "m", "names": ["haproxy-stats"]})
    assert not result["changed"] and result["secrets"]["haproxy-stats"]["value"] == "x" * 32


def test_vault_secret_read_only_names_are_never_generated(kv):
    kind, result = call(vault_secret, {"mount": "m", "names": ["kubernetes-ca"]})
    assert kind == "fail" and "control_plane/kubernetes-ca" in result["msg"] and kv.data == {}


def test_vault_secret_names_diff_by_name_without_values(kv):
    kind, result = call(vault_secret, {"mount": "m", "names": ["encryption-key"], "_ansible_diff": True})
    assert result["diff"]["before"]["encryption-key"]["exists"] is False
    assert result["diff"]["after"]["encryption-key"]["path"] == "control_plane/encryption-key"
    assert result["secrets"]["encryption-key"]["value"] not in repr(result["diff"])


@pytest.mark.parametrize("args, word", [
    ({"names": ["no-such-secret"]}, "no-such-secret"),
    ({"names": ["vrrp-auth"], "path": "p"}, "mutually exclusive"),
    ({"names": ["vrrp-auth"], "generate": {"type": "random"}}, "mutually exclusive"),
    ({}, "one of the following is required"),
])
def test_vault_secret_names_options_are_checked(kv, args, word):
    kind, result = call(vault_secret, dict(args, mount="m"))
    assert kind == "fail" and word in result["msg"] and kv.data == {}


def _approle_recorder(monkeypatch, mounts):
    class Client(object):
        def login_as_approle_role(self, mount, role):
            mounts.append((mount, role))
            return self
    monkeypatch.setattr(vault_pki_cert.VaultClient, "from_params", classmethod(lambda c, p: Client()))
    monkeypatch.setattr(vault_pki_cert, "issue", lambda *a: {"certificate": "C", "private_key": "K", "issuing_ca": "I",
                                                             "ca_chain": ["I"], "serial_number": "1", "expiration": 1})


def test_vault_pki_cert_issues_as_a_role_of_its_own_mount(monkeypatch):
    mounts = []
    _approle_recorder(monkeypatch, mounts)
    call(vault_pki_cert, {"mount": "m", "role": "peer", "common_name": "n", "issue_as": "c--etcd1",
                          "issue_as_mount": "quorum-nodes"})
    # the node's role lives in the nodes' mount, whatever mount the connection's own credential uses
    call(vault_pki_cert, {"mount": "m", "role": "peer", "common_name": "n", "issue_as": "c--etcd1",
                          "issue_as_mount": "quorum-nodes", "approle_mount": "admins"})
    call(vault_pki_cert, {"mount": "m", "role": "peer", "common_name": "n", "issue_as": "c--etcd1",
                          "approle_mount": "admins"})
    assert mounts == [("quorum-nodes", "c--etcd1"), ("quorum-nodes", "c--etcd1"), ("admins", "c--etcd1")]
