# -*- coding: utf-8 -*-
# Copyright: quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn `kubectl get nodes -o json` and `ip -j route` into what the cluster roles need."""

from __future__ import annotations

import ipaddress
import json

from ansible.errors import AnsibleFilterError

from ansible_collections.quorum.k8s.plugins.module_utils._removal import removal_plan


def _items(nodes):
    if isinstance(nodes, str):
        # kubectl's output as is: the templates that call this once per host need no from_json first
        try:
            nodes = json.loads(nodes)
        except ValueError as exc:
            raise AnsibleFilterError("expected the JSON of `kubectl get nodes -o json`: %s" % exc)
    if isinstance(nodes, dict):
        nodes = nodes.get("items", [])
    if not isinstance(nodes, list):
        raise AnsibleFilterError("expected the JSON of `kubectl get nodes -o json` (a NodeList), got %r" % (type(nodes).__name__,))
    return nodes


def _internal_ip(node):
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == "InternalIP":
            return address.get("address")
    return None


def _ready(node):
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status", "Unknown")
    return "Unknown"


def cluster_node_summary(nodes):
    """One line per node: name, Ready status, roles (node-role.kubernetes.io/*) and podCIDR."""
    lines = []
    for node in _items(nodes):
        meta = node.get("metadata") or {}
        ready = _ready(node)
        prefix = "node-role.kubernetes.io/"
        roles = sorted(k[len(prefix):] for k in (meta.get("labels") or {}) if k.startswith(prefix))
        lines.append("  %s  Ready=%s  roles=%s  podCIDR=%s" % (
            meta.get("name", "?"), ready, ",".join(roles) or "-", (node.get("spec") or {}).get("podCIDR") or "-"))
    return lines


def cluster_pod_routes(nodes, node_name):
    """This node's podCIDR, whether it is Ready, and the routes to every other node's podCIDR via its InternalIP.

    Returns {"subnet": CIDR or None, "ready": bool, "routes": [{"dst": CIDR, "gateway": IP}, ...]} sorted
    by dst; nodes without a podCIDR or an InternalIP are left out (they get routes on a later run).
    """
    subnet = None
    ready = False
    routes = []
    for node in _items(nodes):
        name = (node.get("metadata") or {}).get("name")
        cidr = (node.get("spec") or {}).get("podCIDR")
        if name == node_name:
            subnet = cidr
            ready = _ready(node) == "True"
            continue
        gateway = _internal_ip(node)
        if cidr and gateway:
            routes.append({"dst": cidr, "gateway": gateway})
    return {"subnet": subnet, "ready": ready, "routes": sorted(routes, key=lambda r: r["dst"])}


def cluster_pod_routes_present(route_table, pod_cidr):
    """The gateway routes of `ip -j -4 route show` whose destination lies inside pod_cidr."""
    if not isinstance(route_table, list):
        raise AnsibleFilterError("expected the JSON list of `ip -j route show`, got %r" % (type(route_table).__name__,))
    try:
        pods = ipaddress.ip_network(pod_cidr, strict=False)
    except ValueError as exc:
        raise AnsibleFilterError("pod CIDR %r: %s" % (pod_cidr, exc))
    out = []
    for route in route_table:
        dst, gateway = route.get("dst"), route.get("gateway")
        if not gateway or not dst or dst == "default":
            continue
        try:
            net = ipaddress.ip_network(dst, strict=False)
        except ValueError:
            continue
        if net.version == pods.version and net.subnet_of(pods):
            out.append({"dst": dst, "gateway": gateway})
    return sorted(out, key=lambda r: r["dst"])


def cluster_removal_plan(nodes, names, groups, etcd_members, etcd_group):
    """What remove_node.yml removes where, and why it must not (module_utils/_removal.py)."""
    if not isinstance(groups, dict) or not isinstance(etcd_members, list):
        raise AnsibleFilterError("cluster_removal_plan expects groups (a dict) and etcd_info's members (a list)")
    return removal_plan(list(names), groups, _items(nodes), etcd_members, etcd_group)


class FilterModule:
    """quorum.k8s cluster filters."""

    def filters(self):
        return {
            "cluster_node_summary": cluster_node_summary,
            "cluster_pod_routes": cluster_pod_routes,
            "cluster_pod_routes_present": cluster_pod_routes_present,
            "cluster_removal_plan": cluster_removal_plan,
        }
