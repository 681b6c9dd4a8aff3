# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rules of the inventory contract that every role, filter and check shares.

Plain functions over plain data (a host's variables as a mapping), so the filters, the lookup
and the preflight checks call the same code and the unit tests reach it without Ansible.
"""

from __future__ import annotations

from ansible_collections.quorum.k8s.plugins.module_utils._defaults import CLUSTER_DEFAULTS

# Where a host's cluster address comes from, first match wins (docs/inventory.md).
NODE_ADDRESS_KEYS = ("quorum_node_ip", "ansible_host")


class UnknownSetting(KeyError):
    """A name that is not an optional cluster-wide variable (CLUSTER_DEFAULTS)."""


def usable(value):
    """A value that names an address: set, not empty, not a template left unrendered."""
    if value is None or isinstance(value, bool):
        return False
    text = str(value).strip()
    return bool(text) and "{{" not in text


def node_address(host, hostvars_entry, keys=NODE_ADDRESS_KEYS):
    """The cluster address of a host: quorum_node_ip, else ansible_host, else its inventory name.

    host: the inventory host name (the last fallback). hostvars_entry: that host's variables
    (``hostvars[host]``, or any mapping; None counts as empty). keys: the variables tried in
    order; callers with a more specific override put it first (the etcd role: etcd_node_ip).
    """
    hv = hostvars_entry if hostvars_entry is not None else {}
    for key in keys:
        value = hv.get(key)
        if usable(value):
            return str(value).strip()
    return str(host)


def cluster_setting(name, variables):
    """The value of an optional cluster-wide variable: the inventory's when set, else the default.

    variables: the host's variables (a mapping). A name outside CLUSTER_DEFAULTS raises
    UnknownSetting: required variables (quorum_cluster_name, ...) are read directly, and a typo
    must not silently become None.
    """
    if name not in CLUSTER_DEFAULTS:
        raise UnknownSetting(name)
    value = variables.get(name) if variables is not None else None
    return CLUSTER_DEFAULTS[name] if value is None else value
