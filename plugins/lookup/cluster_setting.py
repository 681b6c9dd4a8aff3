# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The resolved value of an optional cluster-wide variable (inventory value, else the collection's default)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: cluster_setting
author:
  - quorum.k8s developers (@quorum-k8s)
version_added: 0.1.0
short_description: The value of an optional cluster-wide variable, or the collection's default
description:
  - Returns the inventory's value of each named C(quorum_*) variable when it is set, else the
    collection's default for it (the table in docs/inventory.md; in code C(CLUSTER_DEFAULTS) of
    C(plugins/module_utils/_defaults.py)).
  - This is the one place the defaults of the cluster-wide variables come from. Roles, playbooks
    and scenarios use this lookup instead of restating a default with C(| default(...)).
  - The value is read from the variables of the host the task runs for, so inventory, play and
    extra variables keep their usual precedence.
  - Required variables (C(quorum_cluster_name), C(quorum_node_cidr), C(quorum_api_vip),
    C(quorum_vault_addr)) have no default and are read directly; naming one here, or any other
    variable without a default, is an error.
options:
  _terms:
    description: Names of cluster-wide variables with a default.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Port of the API on the VIP (6443 unless the inventory sets quorum_api_port)
  ansible.builtin.debug:
    msg: "{{ lookup('quorum.k8s.cluster_setting', 'quorum_api_port') }}"

- name: External etcd only
  ansible.builtin.debug:
    msg: etcd runs on its own hosts
  when: lookup('quorum.k8s.cluster_setting', 'quorum_etcd_topology') == 'external'
"""

RETURN = r"""
_raw:
  description: The value of each named variable, in the order given.
  type: list
  elements: raw
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.quorum.k8s.plugins.module_utils._defaults import CLUSTER_DEFAULTS
from ansible_collections.quorum.k8s.plugins.module_utils._inventory import UnknownSetting, cluster_setting


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        variables = variables if variables is not None else {}
        values = []
        for name in terms:
            if not isinstance(name, str):
                raise AnsibleLookupError("cluster_setting: a variable name must be a string, got %r" % (name,))
            raw = variables[name] if name in variables else None
            try:
                value = cluster_setting(name, {name: self._templar.template(raw)} if raw is not None else {})
            except UnknownSetting:
                raise AnsibleLookupError(
                    "cluster_setting: %s is not a cluster-wide variable with a default (those are: %s)"
                    % (name, ", ".join(sorted(CLUSTER_DEFAULTS))))
            values.append(value)
        return values
