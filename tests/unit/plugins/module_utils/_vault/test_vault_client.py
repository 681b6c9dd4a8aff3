from __future__ import annotations

import hvac.exceptions
import pytest
import requests.exceptions

from ansible_collections.quorum.k8s.plugins.module_utils._vault import client as client_mod
from ansible_collections.quorum.k8s.plugins.module_utils._vault.client import VaultClient
from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import (
    VaultAuthError,
    VaultConfigError,
    VaultDependencyError,
    VaultMissingMount,
    VaultNotFound,
    VaultPermissionDenied,
    VaultRequestError,
    VaultSealed,
    VaultUnreachable,
)

URL = "https://vault.test:8200"


class FakeAdapter(object):
    def __init__(self, errors, answer=None):
        self.errors = errors  # path -> exception
        self.answer = answer if answer is not None else {"data": {}}
        self.calls = []

    def request(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs))
        exc = self.errors.get(url) or self.errors.get("*")
        if exc is not None:
            raise exc
        return self.answer


class FakeHvac(object):
    def __init__(self, adapter):
        self.adapter = adapter
        self.token = None


def make(errors, answer=None):
    return VaultClient(URL, hvac_client=FakeHvac(FakeAdapter(errors, answer)))


@pytest.mark.parametrize("exc,kind,words", [
    (requests.exceptions.ConnectionError("refused"), VaultUnreachable, "Vault at %s is unreachable" % URL),
    (requests.exceptions.SSLError("bad cert"), VaultUnreachable, "TLS verification failed for Vault at %s" % URL),
    (requests.exceptions.Timeout("slow"), VaultUnreachable, "unreachable"),
    (hvac.exceptions.VaultDown("sealed"), VaultSealed, "Vault at %s is sealed" % URL),
    (hvac.exceptions.VaultNotInitialized("no"), VaultSealed, "not initialised"),
    (hvac.exceptions.InvalidPath("no handler for route 'x/data/y'"), VaultMissingMount,
     "nothing is mounted at %s/v1/x/data/y" % URL),
    (hvac.exceptions.InvalidPath(""), VaultNotFound, "nothing stored at %s/v1/x/data/y" % URL),
    (hvac.exceptions.InvalidRequest("bad"), VaultRequestError, "rejected"),
    (hvac.exceptions.InternalServerError("boom"), VaultRequestError, "failed on"),
])
def test_errors_are_typed_and_name_the_place(exc, kind, words):
    with pytest.raises(kind) as info:
        make({"/v1/x/data/y": exc}).request("get", "x/data/y")
    assert words in str(info.value)


def test_forbidden_with_a_valid_token_is_permission_denied():
    with pytest.raises(VaultPermissionDenied, match="permission denied writing to %s/v1/a/b" % URL):
        make({"/v1/a/b": hvac.exceptions.Forbidden("permission denied")}).request("post", "a/b", {})


def test_forbidden_with_an_invalid_token_is_an_auth_error():
    with pytest.raises(VaultAuthError, match="invalid or expired"):
        make({"*": hvac.exceptions.Forbidden("permission denied")}).request("get", "a/b")


def test_read_returns_none_when_missing_but_raises_on_missing_mount():
    assert make({"*": hvac.exceptions.InvalidPath("")}).read("kv/data/x") is None
    with pytest.raises(VaultMissingMount):
        make({"*": hvac.exceptions.InvalidPath("no handler for route")}).read("kv/data/x")


def test_list_returns_keys():
    assert make({}, {"data": {"keys": ["a", "b"]}}).list("p") == ["a", "b"]
    assert make({"*": hvac.exceptions.InvalidPath("")}).list("p") == []


def test_from_params_needs_an_address_and_a_token():
    with pytest.raises(VaultConfigError, match="VAULT_ADDR"):
        VaultClient.from_params({}, env={})
    with pytest.raises(VaultConfigError, match="VAULT_TOKEN"):
        VaultClient.from_params({"url": URL}, env={})
    with pytest.raises(VaultConfigError, match="does not exist"):
        VaultClient.from_params({"url": URL, "ca_cert": "/nonexistent.pem"}, env={"VAULT_TOKEN": "t"})


def test_from_params_uses_environment_last():
    client = VaultClient.from_params({"auth_method": "token"}, env={"VAULT_ADDR": URL, "VAULT_TOKEN": "s.env"})
    assert client.url == URL and client.hvac.token == "s.env"
    client = VaultClient.from_params({"url": "https://other", "token": "s.arg"}, env={"VAULT_ADDR": URL, "VAULT_TOKEN": "s.env"})
    assert client.url == "https://other" and client.hvac.token == "s.arg"


def test_approle_login_sets_the_token(monkeypatch):
    fake = FakeHvac(FakeAdapter({}, {"auth": {"client_token": "s.node"}}))
    monkeypatch.setattr(client_mod.hvac, "Client", lambda **kw: fake)
    client = VaultClient.from_params({"url": URL, "auth_method": "approle", "role_id": "r", "secret_id": "s",
                                      "approle_mount": "quorum-nodes"}, env={})
    assert client.hvac.token == "s.node"
    assert fake.adapter.calls[0][1] == "/v1/auth/quorum-nodes/login"


def test_approle_refusal_is_an_auth_error(monkeypatch):
    fake = FakeHvac(FakeAdapter({"*": hvac.exceptions.InvalidRequest("invalid secret id")}))
    monkeypatch.setattr(client_mod.hvac, "Client", lambda **kw: fake)
    with pytest.raises(VaultAuthError, match="AppRole login at %s/v1/auth/approle/login was refused" % URL):
        VaultClient.from_params({"url": URL, "auth_method": "approle", "role_id": "r", "secret_id": "s"}, env={})


def test_missing_hvac_is_a_dependency_error(monkeypatch):
    monkeypatch.setattr(client_mod, "HAS_HVAC", False)
    with pytest.raises(VaultDependencyError) as info:
        VaultClient(URL)
    assert info.value.library == "hvac"


def test_login_as_approle_role_mints_a_single_use_secret_id():
    answer = {"data": {"role_id": "rid", "secret_id": "sid"}, "auth": {"client_token": "s.node"}}
    orchestrator = make({}, answer)
    node_adapter = FakeAdapter({}, answer)
    node = orchestrator.login_as_approle_role("quorum-nodes", "c1--w1", hvac_client=FakeHvac(node_adapter))
    calls = [(m, u) for m, u, kw in orchestrator.hvac.adapter.calls]
    assert calls == [("get", "/v1/auth/quorum-nodes/role/c1--w1/role-id"),
                     ("post", "/v1/auth/quorum-nodes/role/c1--w1/secret-id")]
    assert orchestrator.hvac.adapter.calls[1][2]["json"] == {"num_uses": 1, "ttl": "300s"}
    assert node_adapter.calls[0][1] == "/v1/auth/quorum-nodes/login"
    assert node_adapter.calls[0][2]["json"] == {"role_id": "rid", "secret_id": "sid"}
    assert node.hvac.token == "s.node" and node is not orchestrator


def test_login_as_a_missing_role_names_it():
    with pytest.raises(VaultNotFound, match="no AppRole role at %s/v1/auth/quorum-nodes/role/c1--x" % URL):
        make({"*": hvac.exceptions.InvalidPath("")}).login_as_approle_role("quorum-nodes", "c1--x")
