#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vault_secret
short_description: Ensure a secret exists in a Vault KV version 2 mount, generating it when missing
version_added: 0.1.0
description:
  - Reads the secret at O(path) of the KV version 2 mount O(mount) and returns it; or, with O(names), the
    secrets of the collection's catalogue, returned by name.
  - When it is missing and O(generate) is set, generates a value (random string, kubeadm bootstrap token,
    base64 32-byte key, RSA or ECDSA key pair) and writes it with check-and-set C(cas=0), so two
    concurrent runs converge to one value; the writer that loses the race re-reads and returns the winner's value.
  - With O(rotate=true), writes a newly generated value as a new version (check-and-set against the current version).
  - Values never appear in logs or diffs. The module's action plugin marks the result C(no_log), so every callback
    shows it censored, even at C(-vvv), while C(register) still receives RV(secret). Set C(no_log) on tasks that
    pass the values on.
  - "Run it on the controller (C(delegate_to: localhost), C(run_once: true)) and pass the result to roles as a no_log variable."
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
  mount:
    description:
      - Path of the KV version 2 mount, for example C(quorum/mycluster/kv).
    type: str
    required: true
  path:
    description:
      - Path of the secret inside the mount, for example C(control_plane/join-token).
      - Exactly one of O(path) and O(names) is required.
    type: str
  names:
    description:
      - Secrets of the collection's catalogue, by name. Each has its path in the mount and how it is generated
        when missing, defined once in the collection (C(plugins/module_utils/_vault/catalogue.py)); RV(secrets)
        returns them by name.
      - V(kubernetes-ca) (C(control_plane/kubernetes-ca), the Kubernetes CA the bootstrap exports; read only),
        V(service-account) (C(control_plane/service-account), RSA 2048 key pair),
        V(encryption-key) (C(control_plane/encryption-key), base64 32-byte key),
        V(vrrp-auth) (C(frontend/vrrp-auth), 8 letters and digits),
        V(haproxy-stats) (C(frontend/haproxy-stats), 24 letters and digits).
    type: list
    elements: str
    choices: [kubernetes-ca, service-account, encryption-key, vrrp-auth, haproxy-stats]
  generate:
    description:
      - How to generate the secret when it is missing (or when O(rotate=true)).
      - When not set, a missing secret is an error.
      - Only with O(path); the catalogue defines how the secrets of O(names) are generated.
    type: dict
    suboptions:
      type:
        description:
          - V(random) a string of O(generate.length) characters drawn from O(generate.alphabet), stored as C(value).
          - V(bootstrap_token) a kubeadm bootstrap token C([a-z0-9]{6}.[a-z0-9]{16}), stored as C(value).
          - V(base64_key) 32 random bytes in base64 (Kubernetes encryption at rest), stored as C(value).
          - V(rsa) an RSA key pair of O(generate.bits) bits, stored as PEM C(private_key) (PKCS#8) and C(public_key).
          - V(ecdsa) an ECDSA key pair on O(generate.curve), stored as PEM C(private_key) (PKCS#8) and C(public_key).
        type: str
        required: true
        choices: [random, bootstrap_token, base64_key, rsa, ecdsa]
      length:
        description: Length of a V(random) string.
        type: int
        default: 32
      alphabet:
        description: Characters a V(random) string is drawn from (duplicates ignored).
        type: str
        default: abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789
      bits:
        description: RSA key size (2048 or more).
        type: int
        default: 2048
      curve:
        description: ECDSA curve.
        type: str
        default: secp256r1
        choices: [secp256r1, secp384r1, secp521r1]
  rotate:
    description:
      - Write a newly generated value as a new version even when the secret exists. Needs O(generate) (so O(path)).
      - If another run rotates or creates it at the same moment, that run's value is returned instead.
    type: bool
    default: false
notes:
  - In check mode nothing is written; a missing secret is reported as created and a candidate value,
    never stored, is returned so later tasks can be checked.
seealso:
  - module: community.hashi_vault.vault_kv2_get
    description: Plain reads of a KV version 2 secret.
"""

EXAMPLES = r"""
# The connection once per play, in the play that holds these tasks:
#   module_defaults:
#     group/quorum.k8s.vault: "{{ lookup('quorum.k8s.vault_connection') }}"
- name: Read (or generate) the frontend secrets of the catalogue
  quorum.k8s.vault_secret:
    mount: "quorum/{{ quorum_cluster_name }}/kv"
    names: [vrrp-auth, haproxy-stats]
  delegate_to: localhost
  run_once: true
  no_log: true
  register: frontend_secrets

- name: Use one by name
  ansible.builtin.debug:
    msg: "the stats password has {{ frontend_secrets.secrets['haproxy-stats'].value | length }} characters"

- name: Ensure a secret of your own exists
  quorum.k8s.vault_secret:
    url: "{{ quorum_vault_addr }}"
    ca_cert: "{{ quorum_vault_ca_cert }}"
    mount: "quorum/{{ quorum_cluster_name }}/kv"
    path: site/backup-passphrase
    generate:
      type: random
      length: 40
  delegate_to: localhost
  run_once: true
  no_log: true
  register: passphrase

- name: Ensure the service-account key pair exists (AppRole login)
  quorum.k8s.vault_secret:
    auth_method: approle
    approle_mount: quorum-nodes
    role_id: "{{ orchestrator_role_id }}"
    secret_id: "{{ orchestrator_secret_id }}"
    mount: "quorum/{{ quorum_cluster_name }}/kv"
    path: control_plane/service-account
    generate:
      type: rsa
      bits: 4096
  delegate_to: localhost
  run_once: true
  no_log: true
  register: sa_keys

- name: Rotate a secret of your own
  quorum.k8s.vault_secret:
    mount: "quorum/{{ quorum_cluster_name }}/kv"
    path: site/backup-passphrase
    generate:
      type: random
      length: 40
    rotate: true
  delegate_to: localhost
  run_once: true
  no_log: true
"""

RETURN = r"""
secret:
  description:
    - The secret's data. C(value) for V(random), V(bootstrap_token) and V(base64_key);
      C(private_key) and C(public_key) (PEM) for key pairs; whatever keys an existing secret holds.
  returned: with O(path)
  type: dict
  sample: {"value": "abcdef.0123456789abcdef"}
secrets:
  description: The data of each secret of O(names), by name (as RV(secret)).
  returned: with O(names)
  type: dict
  sample: {"vrrp-auth": {"value": "Ab3dE6gH"}}
created:
  description:
    - With O(path), whether the secret was missing and has been generated (or would be, in check mode).
    - With O(names), the names of the secrets generated (or that would be).
  returned: success
  type: raw
rotated:
  description: Whether a new version replaced an existing one.
  returned: success
  type: bool
version:
  description: The KV version number of the returned secret; with O(names), a dict of the version by name.
  returned: success
  type: raw
  sample: 1
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.quorum.k8s.plugins.module_utils._vault.client import (
    CONNECTION_REQUIRED_IF,
    VaultClient,
    connection_argument_spec,
)
from ansible_collections.quorum.k8s.plugins.module_utils._vault.catalogue import SECRETS
from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import VaultDependencyError, VaultError
from ansible_collections.quorum.k8s.plugins.module_utils._vault.generate import GENERATE_ARGUMENT_SPEC
from ansible_collections.quorum.k8s.plugins.module_utils._vault.kv import KV2, ensure_named_secrets, ensure_secret


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        mount=dict(type="str", required=True),
        path=dict(type="str"),
        names=dict(type="list", elements="str", choices=list(SECRETS)),
        generate=dict(type="dict", options=GENERATE_ARGUMENT_SPEC),
        rotate=dict(type="bool", default=False),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_if=CONNECTION_REQUIRED_IF + [("rotate", True, ("generate",))],
        required_one_of=[("path", "names")],
        mutually_exclusive=[("path", "names"), ("names", "generate")],
        supports_check_mode=True,
    )
    params = module.params
    try:
        client = VaultClient.from_params(params)
        kv = KV2(client, params["mount"])
        if params["names"] is not None:
            result = ensure_named_secrets(kv, params["names"], check_mode=module.check_mode)
        else:
            result = ensure_secret(kv, params["path"], generate=params["generate"],
                                   rotate=params["rotate"], check_mode=module.check_mode)
    except VaultDependencyError as exc:
        module.fail_json(msg=missing_required_lib(exc.library), exception=exc.traceback)
    except VaultError as exc:
        module.fail_json(msg=str(exc))
    output = dict((key, result[key]) for key in ("changed", "created", "rotated", "version"))
    output["secrets" if params["names"] is not None else "secret"] = result["secret"]
    if module._diff:
        output["diff"] = result["diff"]
    module.exit_json(**output)


if __name__ == "__main__":
    main()
