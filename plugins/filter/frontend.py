# -*- coding: utf-8 -*-
# Copyright: quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deterministic VRRP parameters for the frontend role (VRID, priorities)."""

from __future__ import annotations

import zlib

from ansible.errors import AnsibleFilterError

from ansible_collections.quorum.k8s.plugins.module_utils._inventory import node_address

# VRRP priorities: 255 is reserved for the address owner and 0 for "master is
# leaving"; a BACKUP instance may use 1..254. We stay below 254 so an operator can
# still pin a host above the derived ones by hand.
PRIORITY_TOP = 250
PRIORITY_STEP = 10
PRIORITY_MIN = 1


def frontend_vrid(cluster_name, salt=""):
    """Derive a VRRP virtual router id (1..255) from a cluster name.

    CRC-32 of the UTF-8 name (plus an optional salt to move off a collision),
    folded onto 1..255. Stable across Python versions and hosts.
    """
    if not isinstance(cluster_name, str) or not cluster_name:
        raise AnsibleFilterError("frontend_vrid: the cluster name must be a non-empty string, got %r" % (cluster_name,))
    if not isinstance(salt, str):
        raise AnsibleFilterError("frontend_vrid: salt must be a string, got %r" % (salt,))
    return zlib.crc32((cluster_name + salt).encode("utf-8")) % 255 + 1


def frontend_priorities(hosts, top=PRIORITY_TOP, step=PRIORITY_STEP):
    """Map each frontend host to a distinct VRRP priority.

    Hosts are ordered by name (not inventory order, which changes when a file is
    edited), the first gets ``top`` and each next one ``step`` less. When the
    hosts do not fit between ``top`` and 1 the step shrinks, down to 1, so any
    number of frontends up to ``top`` gets distinct priorities.
    """
    if isinstance(hosts, (str, bytes)) or not hasattr(hosts, "__iter__"):
        raise AnsibleFilterError("frontend_priorities: expected a list of host names, got %r" % (hosts,))
    names = [str(h) for h in hosts]
    if not names:
        raise AnsibleFilterError("frontend_priorities: the list of frontends is empty")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise AnsibleFilterError("frontend_priorities: duplicate host names: %s" % ", ".join(duplicates))
    try:
        top = int(top)
        step = int(step)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError("frontend_priorities: top and step must be integers: %s" % exc)
    if not PRIORITY_MIN <= top <= 254:
        raise AnsibleFilterError("frontend_priorities: top must be within 1..254, got %d" % top)
    if step < 1:
        raise AnsibleFilterError("frontend_priorities: step must be at least 1, got %d" % step)
    count = len(names)
    if count > top - PRIORITY_MIN + 1:
        raise AnsibleFilterError(
            "frontend_priorities: %d frontends do not fit in distinct priorities %d..%d" % (count, PRIORITY_MIN, top)
        )
    if count > 1:
        step = min(step, (top - PRIORITY_MIN) // (count - 1))
    return {name: top - index * step for index, name in enumerate(sorted(names))}


def frontend_node_addresses(hosts, hostvars):
    """Return ``[{name, address}]`` for the hosts, in the given order.

    A host's cluster address is the rule of the inventory contract (``node_address``:
    ``quorum_node_ip``, else ``ansible_host``, else its inventory name).
    """
    if isinstance(hosts, (str, bytes)) or not hasattr(hosts, "__iter__"):
        raise AnsibleFilterError("frontend_node_addresses: expected a list of host names, got %r" % (hosts,))
    result = []
    for name in hosts:
        try:
            hvars = hostvars[name]
        except KeyError:
            raise AnsibleFilterError("frontend_node_addresses: host %r is not in the inventory" % (name,))
        result.append({"name": str(name), "address": node_address(name, hvars)})
    return result


class FilterModule:
    """quorum.k8s frontend filters."""

    def filters(self):
        return {
            "frontend_vrid": frontend_vrid,
            "frontend_priorities": frontend_priorities,
            "frontend_node_addresses": frontend_node_addresses,
        }
