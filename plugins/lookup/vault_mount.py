# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paths of the cluster's Vault mounts, from the one layout the bootstrap creates."""

from __future__ import annotations

DOCUMENTATION = r"""
name: vault_mount
author:
  - quorum.k8s developers (@quorum-k8s)
version_added: 0.1.0
short_description: The path of one of the cluster's Vault mounts
description:
  - Returns, for each term, the path of a Vault mount of the cluster that C(playbooks/vault_bootstrap.yml)
    creates, built from C(quorum_vault_prefix) (default V(quorum)) and C(quorum_cluster_name) by the same
    code as the bootstrap (docs/vault.md).
  - V(kv) is the KV v2 mount of the generated secrets, V(k8s-pki), V(etcd-pki) and V(front-proxy-pki) the
    PKI mounts, V(nodes) the AppRole mount of the nodes (without C(auth/)).
  - With the term V(node-role), returns the AppRole role of the host the task runs for.
options:
  _terms:
    description: Which mounts.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Read the frontend secrets
  quorum.k8s.vault_secret:
    mount: "{{ lookup('quorum.k8s.vault_mount', 'kv') }}"
    names: [vrrp-auth, haproxy-stats]
  delegate_to: localhost
  run_once: true
  no_log: true
"""

RETURN = r"""
_raw:
  description: The path of each named mount, in the order given.
  type: list
  elements: str
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.quorum.k8s.plugins.module_utils._inventory import cluster_setting
from ansible_collections.quorum.k8s.plugins.module_utils._vault.bootstrap import Layout
from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import VaultConfigError

PKI = ("k8s-pki", "etcd-pki", "front-proxy-pki")


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        variables = variables if variables is not None else {}
        if not variables.get("quorum_cluster_name"):
            raise AnsibleLookupError("vault_mount: variable quorum_cluster_name is not set")
        raw = variables.get("quorum_vault_prefix")
        prefix = cluster_setting("quorum_vault_prefix", {"quorum_vault_prefix": self._templar.template(raw)} if raw else {})
        try:
            layout = Layout(prefix, self._templar.template(variables["quorum_cluster_name"]))
        except VaultConfigError as exc:
            raise AnsibleLookupError("vault_mount: %s" % exc)
        values = []
        for term in terms:
            if term == "kv":
                values.append(layout.kv)
            elif term in PKI:
                values.append(layout.pki(term))
            elif term == "nodes":
                values.append(layout.approle)
            elif term == "node-role":
                values.append(layout.role(variables.get("inventory_hostname", "")))
            else:
                raise AnsibleLookupError("vault_mount: %r is not one of kv, %s, nodes, node-role" % (term, ", ".join(PKI)))
        return values
