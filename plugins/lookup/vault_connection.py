# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Vault connection options of the inventory, as module_defaults for group/quorum.k8s.vault."""

from __future__ import annotations

DOCUMENTATION = r"""
name: vault_connection
author:
  - quorum.k8s developers (@quorum-k8s)
version_added: 0.1.0
short_description: The inventory's Vault connection, as module_defaults for the quorum.k8s Vault modules
description:
  - Returns the connection options of the modules of the action group C(quorum.k8s.vault) (quorum.k8s.vault_layout,
    quorum.k8s.vault_secret, quorum.k8s.vault_pki_cert) from the collection-wide C(quorum_vault_*) variables, so a play
    states the connection once, as C(module_defaults) of C(group/quorum.k8s.vault).
  - An option whose variable is unset (or empty) is left out, so the module's default applies and then Vault's
    own environment (E(VAULT_ADDR), E(VAULT_CACERT), E(VAULT_TOKEN)).
  - The values are read from the variables of the host the task runs for; keep them in C(group_vars/all), and the
    credentials in an Ansible vault or the environment.
options:
  url:
    description: Vault (or OpenBao) address the controller reaches.
    type: str
    vars:
      - name: quorum_vault_addr
  ca_cert:
    description: CA bundle on the controller that verifies Vault's TLS certificate.
    type: str
    vars:
      - name: quorum_vault_ca_cert
  validate_certs:
    description: Verify Vault's TLS certificate (the modules verify unless this is V(false)).
    type: bool
    vars:
      - name: quorum_vault_validate_certs
  timeout:
    description: Seconds to wait for each answer of Vault (the modules' default is 30).
    type: int
    vars:
      - name: quorum_vault_timeout
  auth_method:
    description: V(token) (the modules' default) or V(approle).
    type: str
    choices: [token, approle]
    vars:
      - name: quorum_vault_auth_method
  token:
    description: Token for V(token); unset, the modules read E(VAULT_TOKEN).
    type: str
    vars:
      - name: quorum_vault_token
  approle_mount:
    description: Mount of the AppRole credential, without C(auth/) (the modules' default is V(approle)).
    type: str
    vars:
      - name: quorum_vault_approle_mount
  role_id:
    description: AppRole role ID for V(approle).
    type: str
    vars:
      - name: quorum_vault_role_id
  secret_id:
    description: AppRole secret ID for V(approle).
    type: str
    vars:
      - name: quorum_vault_secret_id
notes:
  - The secret options (token, secret ID) reach the modules as module arguments, which the modules declare C(no_log).
seealso:
  - name: Module defaults
    description: Ansible's module defaults and action groups.
    link: https://docs.ansible.com/ansible/latest/playbook_guide/playbooks_module_defaults.html
"""

EXAMPLES = r"""
- name: Every Vault task of this play connects as the inventory says
  hosts: frontend
  module_defaults:
    group/quorum.k8s.vault: "{{ lookup('quorum.k8s.vault_connection') }}"
  tasks:
    - name: Read the frontend secrets
      quorum.k8s.vault_secret:
        mount: "quorum/{{ quorum_cluster_name }}/kv"
        names: [vrrp-auth, haproxy-stats]
      delegate_to: localhost
      run_once: true
      no_log: true
      register: frontend_secrets
"""

RETURN = r"""
_raw:
  description: One dict of connection options (module option name to value), only those set.
  type: list
  elements: dict
"""

from ansible.plugins.lookup import LookupBase

from ansible_collections.quorum.k8s.plugins.module_utils._vault.client import INVENTORY_VARIABLES


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        # Lookups receive the variables untemplated: resolve only the ones this lookup reads.
        variables = variables if variables is not None else {}
        wanted = dict((name, self._templar.template(variables[name]))
                      for name in INVENTORY_VARIABLES.values() if name in variables)
        self.set_options(var_options=wanted, direct=kwargs)
        connection = {}
        for option in INVENTORY_VARIABLES:
            value = self.get_option(option)
            if value is not None and value != "":
                connection[option] = value
        return [connection]
