# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster's secrets in KV, each defined once: its path in the cluster's KV mount and how it is made.

Roles and playbooks name a secret (``quorum.k8s.vault_secret`` option ``names``); they never restate
its path, type or length. The paths are those every existing cluster already holds: changing one
orphans the stored value, so a new path is a new name.
"""

from __future__ import annotations

from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import VaultConfigError

# name -> path in <prefix>/<cluster>/kv and the generate options of quorum.k8s.vault_secret
# (None: written by someone else, only read).
SECRETS = {
    # kubeadm's controller-manager signs with the Kubernetes CA key: the bootstrap (vault_layout,
    # pki.export_keys) generates that CA as exported and stores it here once.
    "kubernetes-ca": dict(path="control_plane/kubernetes-ca", generate=None),
    "service-account": dict(path="control_plane/service-account", generate=dict(type="rsa", bits=2048)),
    # Kubernetes encryption at rest (aescbc): 32 random bytes, base64.
    "encryption-key": dict(path="control_plane/encryption-key", generate=dict(type="base64_key")),
    # keepalived's PASS authentication keeps 8 characters: exactly 8. Letters and digits (the default
    # alphabet) are safe in keepalived.conf and in HAProxy's "stats auth user:password".
    "vrrp-auth": dict(path="frontend/vrrp-auth", generate=dict(type="random", length=8)),
    "haproxy-stats": dict(path="frontend/haproxy-stats", generate=dict(type="random", length=24)),
}

# The secrets the bootstrap makes ahead of the roles that read them.
GENERATED = tuple(name for name, entry in SECRETS.items() if entry["generate"] is not None)


def entry(name):
    """The catalogue entry of ``name``: dict(path, generate); unknown names are a VaultConfigError."""
    if name not in SECRETS:
        raise VaultConfigError("no secret named %r in the collection's catalogue (known: %s)"
                               % (name, ", ".join(sorted(SECRETS))))
    found = SECRETS[name]
    return dict(path=found["path"], generate=dict(found["generate"]) if found["generate"] else None)
