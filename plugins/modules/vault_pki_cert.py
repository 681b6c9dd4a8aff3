#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vault_pki_cert
short_description: Issue a node certificate from a Vault PKI role, only when the current one will not do
version_added: 0.1.0
description:
  - Compares O(current_certificate) (the PEM certificate now on the node) with the wanted names and lifetime,
    and issues a new certificate from role O(role) of the PKI mount O(mount) only when it is missing,
    unreadable, expires within O(renew_before), names another common name, DNS names or IP addresses,
    or was signed by another CA than O(issuer_certificate).
  - The private key is generated inside Vault and returned once, with the certificate and the CA chain;
    the whole result is then censored in output as if the task had C(no_log).
  - Runs where Vault is reachable with hvac, normally the controller (C(delegate_to=localhost));
    the role M(quorum.k8s.secret_file) writes the files on the node. The role C(quorum.k8s.vault_cert) does both.
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
    description: Path of the PKI mount, for example C(quorum/prod1/etcd-pki).
    type: str
    required: true
  role:
    description: Issuing role of the mount, for example C(peer).
    type: str
    required: true
  common_name:
    description: Subject common name. Vault also puts it in the DNS names unless it is not a host name.
    type: str
    required: true
  alt_names:
    description: Further DNS names.
    type: list
    elements: str
    default: []
  ip_sans:
    description: IP addresses.
    type: list
    elements: str
    default: []
  ttl:
    description: Lifetime of a new certificate (the role's default when not set), for example V(8760h).
    type: str
  renew_before:
    description: Re-issue when the current certificate expires within this duration, for example V(720h).
    type: str
    default: 720h
  current_certificate:
    description: PEM of the certificate in place now; empty or unset when there is none.
    type: str
    default: ""
  issuer_certificate:
    description: PEM of the CA that must have signed the current certificate (re-issue otherwise).
    type: str
  force:
    description: Issue even when the current certificate would do.
    type: bool
    default: false
  issue_as:
    description:
      - Issue with the policies of this AppRole role of O(issue_as_mount) (for example C(<cluster>--<host>),
        the node's own role made by the bootstrap) instead of the connection's own. The connection's
        credential (the orchestrator) reads the role ID and mints a single-use secret ID valid five minutes.
      - So a host can only get the certificates its node class may have, whatever the task asks.
    type: str
  issue_as_mount:
    description:
      - AppRole mount of the O(issue_as) role, without C(auth/); the bootstrap makes the nodes' roles at
        C(<prefix>-nodes).
      - When not set, O(approle_mount) (the mount of the connection's own credential).
    type: str
notes:
  - In check mode nothing is issued; C(changed) and RV(reason) tell whether it would be.
"""

EXAMPLES = r"""
- name: Read the current etcd peer certificate
  ansible.builtin.slurp:
    src: /etc/etcd/pki/peer.crt
  register: current
  failed_when: false

- name: Issue the etcd peer certificate when needed
  quorum.k8s.vault_pki_cert:
    mount: "quorum/{{ quorum_cluster_name }}/etcd-pki"
    role: peer
    common_name: "{{ inventory_hostname }}"
    ip_sans: ["{{ inventory_hostname | quorum.k8s.node_address(hostvars) }}"]
    current_certificate: "{{ current.content | default('') | b64decode }}"
  delegate_to: localhost
  no_log: true
  register: peer
"""

RETURN = r"""
issued:
  description: Whether a new certificate was issued.
  returned: always
  type: bool
reason:
  description: Why a certificate was (or would be) issued; empty when the current one is kept.
  returned: always
  type: str
  sample: DNS names changed
certificate:
  description: The new PEM certificate.
  returned: when issued
  type: str
private_key:
  description: The new PEM private key (secret).
  returned: when issued
  type: str
issuing_ca:
  description: PEM of the CA that signed it.
  returned: when issued
  type: str
ca_chain:
  description: PEM certificates of the chain, issuing CA first.
  returned: when issued
  type: list
  elements: str
ca_bundle:
  description: The chain as one PEM text, for a trust file.
  returned: when issued
  type: str
serial_number:
  description: Serial number of the new certificate.
  returned: when issued
  type: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.quorum.k8s.plugins.module_utils._vault.client import (
    CONNECTION_REQUIRED_IF,
    VaultClient,
    connection_argument_spec,
)
from ansible_collections.quorum.k8s.plugins.module_utils._vault.durations import seconds
from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import VaultDependencyError, VaultError
from ansible_collections.quorum.k8s.plugins.module_utils._vault.pki import issue, reissue_reason


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        mount=dict(type="str", required=True),
        role=dict(type="str", required=True),
        common_name=dict(type="str", required=True),
        alt_names=dict(type="list", elements="str", default=[]),
        ip_sans=dict(type="list", elements="str", default=[]),
        ttl=dict(type="str"),
        renew_before=dict(type="str", default="720h"),
        current_certificate=dict(type="str", default=""),
        issuer_certificate=dict(type="str"),
        force=dict(type="bool", default=False),
        issue_as=dict(type="str"),
        issue_as_mount=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, required_if=CONNECTION_REQUIRED_IF, supports_check_mode=True)
    p = module.params
    try:
        reason = "forced" if p["force"] else reissue_reason(
            p["current_certificate"], p["common_name"], p["alt_names"], p["ip_sans"],
            seconds(p["renew_before"], "renew_before"), issuer_pem=p["issuer_certificate"])
        if not reason:
            module.exit_json(changed=False, issued=False, reason="")
        if module.check_mode:
            module.exit_json(changed=True, issued=False, reason=reason)
        client = VaultClient.from_params(p)
        if p["issue_as"]:
            client = client.login_as_approle_role(p["issue_as_mount"] or p["approle_mount"], p["issue_as"])
        cert = issue(client, p["mount"], p["role"], p["common_name"], p["alt_names"], p["ip_sans"], p["ttl"])
    except VaultDependencyError as exc:
        module.fail_json(msg=missing_required_lib(exc.library), exception=exc.traceback)
    except VaultError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=True, issued=True, reason=reason, ca_bundle="\n".join(c.strip() for c in cert["ca_chain"]) + "\n",
                     **cert)


if __name__ == "__main__":
    main()
