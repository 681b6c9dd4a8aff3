# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster address of a host (quorum_node_ip, else ansible_host, else its inventory name)."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.quorum.k8s.plugins.module_utils._inventory import node_address as _node_address


def node_address(host, hostvars=None):
    """A host name with ``hostvars``, or one ``hostvars`` entry alone: that host's cluster address."""
    if isinstance(host, Mapping):
        if hostvars is not None:
            raise AnsibleFilterError("node_address: give a host name with hostvars, or a hostvars entry alone")
        name = host.get("inventory_hostname")
        if not isinstance(name, str) or not name:
            raise AnsibleFilterError("node_address: the hostvars entry has no inventory_hostname; "
                                     "use NAME | quorum.k8s.node_address(hostvars)")
        return _node_address(name, host)
    if not isinstance(host, str) or not host:
        raise AnsibleFilterError("node_address: expected a host name or a hostvars entry, got %r" % (host,))
    if hostvars is None:
        raise AnsibleFilterError("node_address: %s: pass hostvars (NAME | quorum.k8s.node_address(hostvars))" % host)
    try:
        entry = hostvars[host]
    except KeyError:
        raise AnsibleFilterError("node_address: host %r is not in the inventory" % (host,))
    return _node_address(host, entry)


class FilterModule:
    """quorum.k8s node address filter."""

    def filters(self):
        return {"node_address": node_address}
