"""The catalogue of secrets: each defined once, at the paths existing clusters hold, and every copy of
its names (module docs, the vault role's defaults and spec) agrees with it."""
from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.quorum.k8s.plugins.module_utils._vault import catalogue
from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import VaultConfigError
from ansible_collections.quorum.k8s.plugins.modules import vault_secret

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))))

# Where every cluster bootstrapped so far keeps its values: a path changed here orphans them.
EXISTING_PATHS = {
    "kubernetes-ca": "control_plane/kubernetes-ca",
    "service-account": "control_plane/service-account",
    "encryption-key": "control_plane/encryption-key",
    "vrrp-auth": "frontend/vrrp-auth",
    "haproxy-stats": "frontend/haproxy-stats",
}


def load(*parts):
    with open(os.path.join(REPO, *parts)) as f:
        return yaml.safe_load(f)


def test_paths_are_those_of_existing_clusters():
    assert dict((name, e["path"]) for name, e in catalogue.SECRETS.items()) == EXISTING_PATHS


def test_lengths_fit_their_readers():
    # keepalived's PASS authentication keeps 8 characters; the stats password every cluster holds has 24
    assert catalogue.entry("vrrp-auth")["generate"] == {"type": "random", "length": 8}
    assert catalogue.entry("haproxy-stats")["generate"] == {"type": "random", "length": 24}


def test_the_unread_bootstrap_token_is_gone():
    assert not [e for e in catalogue.SECRETS.values() if "bootstrap-token" in e["path"]]


def test_read_only_entries_are_not_generated():
    assert catalogue.entry("kubernetes-ca")["generate"] is None
    assert "kubernetes-ca" not in catalogue.GENERATED


def test_entry_is_a_copy_and_unknown_names_fail():
    catalogue.entry("vrrp-auth")["generate"]["length"] = 99
    assert catalogue.SECRETS["vrrp-auth"]["generate"]["length"] == 8
    with pytest.raises(VaultConfigError, match="no-such"):
        catalogue.entry("no-such")


def test_module_documents_every_name_and_path():
    doc = yaml.safe_load(vault_secret.DOCUMENTATION)["options"]["names"]
    assert doc["choices"] == list(catalogue.SECRETS)
    text = " ".join(doc["description"])
    for name, e in catalogue.SECRETS.items():
        assert "V(%s) (C(%s)" % (name, e["path"]) in text


def test_vault_role_generates_the_catalogue():
    defaults = load("roles", "vault", "defaults", "main.yml")
    spec = load("roles", "vault", "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]["vault_secrets"]
    assert defaults["vault_secrets"] == list(catalogue.GENERATED)
    assert spec["default"] == list(catalogue.GENERATED) and spec["choices"] == list(catalogue.GENERATED)
