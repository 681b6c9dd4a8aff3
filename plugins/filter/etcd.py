# -*- coding: utf-8 -*-
# Copyright: quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The etcd members of an inventory: names, addresses, URLs, --initial-cluster, how a client reaches them."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.quorum.k8s.plugins.module_utils._inventory import NODE_ADDRESS_KEYS, node_address

# The etcd role's own override first, then the inventory contract's rule.
_ETCD_ADDRESS_KEYS = ("etcd_node_ip",) + NODE_ADDRESS_KEYS


def etcd_cluster_members(hosts, hostvars, client_port=2379, peer_port=2380):
    """One dict per host: host, name, address, client_url, peer_url (sorted by host order given).

    The name is etcd_name from the inventory when set, else the inventory hostname; the
    address is etcd_node_ip, else quorum_node_ip, else ansible_host, else the hostname.
    """
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("etcd_cluster_members: expected a list of hosts, got %r" % (hosts,))
    out = []
    for host in hosts:
        hv = hostvars[host] if host in hostvars else {}
        name = hv.get("etcd_name")
        if not isinstance(name, str) or not name or "{{" in name:
            name = host
        address = node_address(host, hv, keys=_ETCD_ADDRESS_KEYS)
        shown = "[%s]" % address if ":" in address else address
        out.append({
            "host": host,
            "name": name,
            "address": address,
            "client_url": "https://%s:%d" % (shown, int(client_port)),
            "peer_url": "https://%s:%d" % (shown, int(peer_port)),
        })
    names = [m["name"] for m in out]
    dupes = sorted(set(n for n in names if names.count(n) > 1))
    if dupes:
        raise AnsibleFilterError("etcd_cluster_members: member names used twice: %s" % ", ".join(dupes))
    return out


def etcd_initial_cluster(members):
    """--initial-cluster value (name=peer_url,...) from etcd_cluster_members' output."""
    return ",".join("%s=%s" % (m["name"], m["peer_url"]) for m in members)


# Client TLS on the member hosts: kubeadm's fixed paths (stacked), the etcd role's (external).
CLIENT_TLS = {
    "stacked": {
        "ca_cert": "/etc/kubernetes/pki/etcd/ca.crt",
        "client_cert": "/etc/kubernetes/pki/etcd/healthcheck-client.crt",
        "client_key": "/etc/kubernetes/pki/etcd/healthcheck-client.key",
    },
    "external": {
        "ca_cert": "/etc/etcd/pki/ca.crt",
        "client_cert": "/etc/etcd/pki/client.crt",
        "client_key": "/etc/etcd/pki/client.key",
    },
}


def etcd_access(groups, hostvars, topology, leaving=()):
    """Where etcd runs and how a client on one of its hosts reaches it.

    hosts: the member hosts (control_plane when stacked, etcd when external) minus ``leaving``;
    endpoints: their client URLs; ca_cert, client_cert, client_key: the client TLS files on them.
    """
    if topology not in CLIENT_TLS:
        raise AnsibleFilterError("etcd_access: topology %r is not one of %s" % (topology, ", ".join(sorted(CLIENT_TLS))))
    group = "etcd" if topology == "external" else "control_plane"
    hosts = [h for h in (groups.get(group) or []) if h not in (leaving or ())]
    out = {"hosts": hosts, "endpoints": [m["client_url"] for m in etcd_cluster_members(hosts, hostvars)]}
    out.update(CLIENT_TLS[topology])
    return out


class FilterModule:
    def filters(self):
        return {
            "etcd_cluster_members": etcd_cluster_members,
            "etcd_initial_cluster": etcd_initial_cluster,
            "etcd_access": etcd_access,
        }
