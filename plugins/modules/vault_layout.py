#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vault_layout
short_description: Ensure one cluster's Vault layout (KV, PKI, policies, node AppRoles)
version_added: 0.1.0
description:
  - Creates, for cluster O(cluster) under O(prefix), everything the collection expects in Vault or OpenBao,
    reading first and writing only what differs, so a second run reports no change.
  - A KV version 2 mount C(<prefix>/<cluster>/kv).
  - PKI mounts C(<prefix>/<cluster>/etcd-pki), C(k8s-pki) and C(front-proxy-pki), each with a CA generated
    inside Vault (a root per cluster, or an intermediate signed by the root in O(pki.parent_mount)),
    and the issuing roles of O(pki_roles).
  - ACL policies C(<prefix>-<cluster>-<class>) for the node classes frontend, etcd, control_plane,
    worker, meta_worker, and C(<prefix>-<cluster>-orchestrator) for the controller.
  - An AppRole auth method at C(auth/<prefix>-nodes) with one role C(<cluster>--<host>) per host of
    O(hosts), bound to the policies of its classes, and a role C(<cluster>--orchestrator).
  - With O(prune=true), deletes the AppRole roles of this cluster whose host is no longer in O(hosts).
  - Needs an administrative token (mounts, policies, auth methods); run it on the controller.
author:
  - quorum.k8s developers (@quorum-k8s)
extends_documentation_fragment:
  - quorum.k8s.vault
  - quorum.k8s.vault.ATTRIBUTES
attributes:
  action_group:
    description: Use C(group/quorum.k8s.vault) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - quorum.k8s.vault
options:
  prefix:
    description: Path prefix of every mount of the collection (inventory C(quorum_vault_prefix)).
    type: str
    default: quorum
  cluster:
    description: Cluster name (inventory C(quorum_cluster_name)); letters, digits, C(_), C(.), C(-).
    type: str
    required: true
  pki:
    description: How the three CAs are made.
    type: dict
    default: {}
    suboptions:
      mode:
        description:
          - V(root) generates a self-signed root CA in each mount.
          - V(intermediate) generates a key and CSR in each mount and has the root CA in O(pki.parent_mount) sign it.
        type: str
        choices: [root, intermediate]
        default: root
      parent_mount:
        description: PKI mount of the existing root that signs the intermediates (O(pki.mode=intermediate)).
        type: str
      ca_ttl:
        description: Lifetime of the CAs, also the mounts' maximum lease TTL (V(87600h) is ten years).
        type: str
        default: 87600h
      key_type:
        description: Key type of the CAs and the default of the issuing roles.
        type: str
        choices: [rsa, ec]
        default: rsa
      key_bits:
        description: Key size (RSA 2048, 3072, 4096; EC 256, 384, 521).
        type: int
        default: 2048
      export_keys:
        description:
          - Mounts (V(etcd-pki), V(k8s-pki), V(front-proxy-pki)) whose CA key is generated as exported and
            stored once in KV at C(control_plane/<ca name>) (C(certificate), C(private_key)), because kubeadm's
            controller-manager signs with it. Keys of the other mounts never leave Vault.
        type: list
        elements: str
        default: []
  pki_roles:
    description: Issuing roles.
    type: list
    elements: dict
    default: []
    suboptions:
      mount:
        description: Which PKI mount.
        type: str
        required: true
        choices: [etcd-pki, k8s-pki, front-proxy-pki]
      name:
        description: Role name.
        type: str
        required: true
      ttl:
        description: Default certificate lifetime.
        type: str
        default: 8760h
      max_ttl:
        description: Longest lifetime a request may ask for (default O(pki_roles[].ttl)).
        type: str
      server:
        description: Certificates carry the TLS server usage.
        type: bool
        default: false
      client:
        description: Certificates carry the TLS client usage.
        type: bool
        default: false
      organization:
        description: Subject organisation(s), for example C(system:masters).
        type: list
        elements: str
        default: []
      allowed_domains:
        description: Only these exact names may be requested; any name when empty.
        type: list
        elements: str
        default: []
      key_type:
        description: Key type of issued certificates (default O(pki.key_type)).
        type: str
        choices: [rsa, ec]
      key_bits:
        description: Key size of issued certificates (default O(pki.key_bits)).
        type: int
  hosts:
    description: The inventory's hosts, one AppRole role each.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Inventory hostname.
        type: str
        required: true
      classes:
        description: Node classes of the host (groups it is in).
        type: list
        elements: str
        required: true
      cidrs:
        description: When set, secret IDs and tokens of the role are only usable from these networks.
        type: list
        elements: str
        default: []
  approle:
    description: Lifetimes of the nodes' credentials.
    type: dict
    default: {}
    suboptions:
      token_ttl:
        description: Lifetime of a node's token.
        type: str
        default: 15m
      token_max_ttl:
        description: Longest lifetime of a node's token, renewals included.
        type: str
        default: 30m
      secret_id_ttl:
        description: Lifetime of a secret ID.
        type: str
        default: 1h
      secret_id_num_uses:
        description: Logins a secret ID allows (V(0) for unlimited within its lifetime).
        type: int
        default: 0
      orchestrator_token_ttl:
        description: Lifetime of the orchestrator role's token.
        type: str
        default: 1h
  orchestrator_role:
    description: Also create the AppRole role C(<cluster>--orchestrator) bound to the orchestrator policy.
    type: bool
    default: true
  prune:
    description: Delete this cluster's AppRole roles of hosts that are not in O(hosts).
    type: bool
    default: false
  state:
    description:
      - V(present) ensures the layout. V(absent) deletes this cluster's layout - its AppRole roles, its policies, its KV
        mount and its PKI mounts with their CAs and secrets - and reads only O(prefix) and O(cluster); the AppRole
        auth method, shared by every cluster of the prefix, stays. Used by playbooks/reset.yml with C(reset_vault=true).
    type: str
    choices: [present, absent]
    default: present
notes:
  - Existing CAs are never replaced; a mount of another type at a path of the layout is an error.
  - In check mode nothing is written; the changes that would be made are returned.
"""

EXAMPLES = r"""
- name: Ensure the Vault layout of the cluster
  quorum.k8s.vault_layout:
    url: https://vault.example.org:8200
    ca_cert: /etc/ssl/vault-ca.pem
    cluster: prod1
    pki:
      export_keys: [k8s-pki]
    pki_roles:
      - {mount: etcd-pki, name: peer, server: true, client: true}
      - {mount: etcd-pki, name: apiserver-etcd-client, client: true, allowed_domains: [kube-apiserver-etcd-client]}
    hosts:
      - {name: cp1, classes: [control_plane]}
      - {name: w1, classes: [worker]}
    prune: true
  delegate_to: localhost
  run_once: true

- name: Delete a cluster's layout (its CAs and secrets go with it)
  quorum.k8s.vault_layout:
    cluster: prod-1
    state: absent
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
changes:
  description: What was (or, in check mode, would be) created, updated or, with O(state=absent), deleted; never a secret value.
  returned: always
  type: list
  elements: dict
  sample: [{"action": "mount", "path": "quorum/prod1/kv", "detail": "kv"}]
kv_mount:
  description: Path of the KV version 2 mount.
  returned: with O(state=present)
  type: str
  sample: quorum/prod1/kv
pki_mounts:
  description: Paths of the PKI mounts by name.
  returned: with O(state=present)
  type: dict
  sample: {"etcd-pki": "quorum/prod1/etcd-pki"}
approle_mount:
  description: Path of the AppRole auth method, without C(auth/).
  returned: with O(state=present)
  type: str
  sample: quorum-nodes
roles:
  description: AppRole role name of each host.
  returned: with O(state=present)
  type: dict
  sample: {"cp1": "prod1--cp1"}
policies:
  description: Names of the policies of the cluster.
  returned: with O(state=present)
  type: list
  elements: str
removed_roles:
  description: AppRole roles deleted by O(prune).
  returned: with O(state=present)
  type: list
  elements: str
stored_ca_keys:
  description: KV paths where exported CA keys were stored during this run.
  returned: with O(state=present)
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.quorum.k8s.plugins.module_utils._vault.bootstrap import remove, run
from ansible_collections.quorum.k8s.plugins.module_utils._vault.client import (
    CONNECTION_REQUIRED_IF,
    VaultClient,
    connection_argument_spec,
)
from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import VaultDependencyError, VaultError

_PKI_MOUNTS = ["etcd-pki", "k8s-pki", "front-proxy-pki"]


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        prefix=dict(type="str", default="quorum"),
        cluster=dict(type="str", required=True),
        pki=dict(type="dict", default={}, options=dict(
            mode=dict(type="str", default="root", choices=["root", "intermediate"]),
            parent_mount=dict(type="str"),
            ca_ttl=dict(type="str", default="87600h"),
            key_type=dict(type="str", default="rsa", choices=["rsa", "ec"]),
            key_bits=dict(type="int", default=2048),
            export_keys=dict(type="list", elements="str", default=[], no_log=False),
        ), required_if=[("mode", "intermediate", ("parent_mount",))]),
        pki_roles=dict(type="list", elements="dict", default=[], options=dict(
            mount=dict(type="str", required=True, choices=_PKI_MOUNTS),
            name=dict(type="str", required=True),
            ttl=dict(type="str", default="8760h"),
            max_ttl=dict(type="str"),
            server=dict(type="bool", default=False),
            client=dict(type="bool", default=False),
            organization=dict(type="list", elements="str", default=[]),
            allowed_domains=dict(type="list", elements="str", default=[]),
            key_type=dict(type="str", choices=["rsa", "ec"]),
            key_bits=dict(type="int"),
        )),
        hosts=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            classes=dict(type="list", elements="str", required=True),
            cidrs=dict(type="list", elements="str", default=[]),
        )),
        approle=dict(type="dict", default={}, options=dict(
            token_ttl=dict(type="str", default="15m", no_log=False),
            token_max_ttl=dict(type="str", default="30m", no_log=False),
            secret_id_ttl=dict(type="str", default="1h", no_log=False),
            secret_id_num_uses=dict(type="int", default=0, no_log=False),
            orchestrator_token_ttl=dict(type="str", default="1h", no_log=False),
        )),
        orchestrator_role=dict(type="bool", default=True),
        prune=dict(type="bool", default=False),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleModule(argument_spec=argument_spec, required_if=CONNECTION_REQUIRED_IF, supports_check_mode=True)
    try:
        client = VaultClient.from_params(module.params)
        if module.params["state"] == "absent":
            result = remove(client, module.params["prefix"], module.params["cluster"], check_mode=module.check_mode)
        else:
            result = run(client, module.params, check_mode=module.check_mode)
    except VaultDependencyError as exc:
        module.fail_json(msg=missing_required_lib(exc.library), exception=exc.traceback)
    except VaultError as exc:
        module.fail_json(msg=str(exc))
    if module._diff:
        result["diff"] = dict(before="", after="".join("%s %s\n" % (c["action"], c["path"]) for c in result["changes"]))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
