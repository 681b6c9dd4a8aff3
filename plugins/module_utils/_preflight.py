# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory checks run before any host is touched.

Pure functions over plain data (groups and per-host variables), so the unit
tests reach every rule without Ansible. ``check_inventory`` returns every
fault at once: the operator fixes the inventory in one pass, not one error
per run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.quorum.k8s.plugins.module_utils._defaults import (
    CLUSTER_DEFAULTS, KUBERNETES_VERSION, NETWORK_PLUGINS)
from ansible_collections.quorum.k8s.plugins.module_utils._inventory import node_address
from ansible_collections.quorum.k8s.plugins.module_utils._vault.client import INVENTORY_VARIABLES as VAULT_VARIABLES

# The inventory contract (docs/inventory.md). Names may grow, never change. The defaults of the
# optional variables are CLUSTER_DEFAULTS (_defaults.py), shared with the roles.
CLUSTER_REQUIRED = (
    "quorum_cluster_name",
    "quorum_node_cidr",
    "quorum_api_vip",
    "quorum_vault_addr",
)
HOST_VARIABLES = ("quorum_node_ip",)
# The Vault connection variables (docs/inventory.md) are known too; their values are never compared
# or shown (credentials among them).
KNOWN_VARIABLES = (frozenset(CLUSTER_REQUIRED) | frozenset(CLUSTER_DEFAULTS) | frozenset(HOST_VARIABLES)
                   | frozenset(VAULT_VARIABLES.values()))

GROUPS = ("frontend", "control_plane", "etcd", "meta_worker", "worker")
WORKLOAD_GROUPS = ("worker", "meta_worker")
TOPOLOGIES = ("stacked", "external")

# Kubernetes minors this release is tested with (docs/kubernetes-version.md).
SUPPORTED_MINORS = ((1, 33), (1, 34), (1, 35))

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")


class Report:
    """Faults (stop the run) and warnings (shown, run goes on)."""

    def __init__(self):
        self.errors = []
        self.warnings = []

    def error(self, msg):
        self.errors.append(msg)

    def warn(self, msg):
        self.warnings.append(msg)

    def as_dict(self):
        return {"errors": list(self.errors), "warnings": list(self.warnings), "ok": not self.errors}


def _group(groups, name):
    return list(groups.get(name) or [])


def cluster_values(groups, hostvars, report):
    """One value per cluster-wide variable, the same on every host that sets it.

    Cluster variables live in group_vars/all; a host or group that sets a
    different value is almost always a mistake, so disagreement is a fault.
    """
    hosts = _group(groups, "all") or sorted(hostvars)
    values = {}
    for name in sorted(set(CLUSTER_REQUIRED) | set(CLUSTER_DEFAULTS)):
        seen = {}
        for host in hosts:
            hv = hostvars.get(host) or {}
            if name in hv and hv[name] is not None:
                seen.setdefault(str(hv[name]), []).append(host)
                values.setdefault(name, hv[name])
        if len(seen) > 1:
            detail = "; ".join("%s on %s" % (v, ", ".join(h)) for v, h in sorted(seen.items()))
            report.error("variable %s: hosts disagree (%s); set it once in group_vars/all" % (name, detail))
        if name not in values:
            if name in CLUSTER_REQUIRED:
                report.error("variable %s: required, not set" % name)
            else:
                values[name] = CLUSTER_DEFAULTS[name]
    return values


def host_address(host, hostvars):
    """The cluster address of a host (the one rule: _inventory.node_address)."""
    return node_address(host, hostvars.get(host))


def _ip(value):
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        return None


def _net(value):
    try:
        return ipaddress.ip_network(str(value), strict=True)
    except (ValueError, TypeError):
        return None


def _port(value):
    try:
        port = int(value)
    except (TypeError, ValueError):
        return None
    if isinstance(value, bool) or str(port) != str(value).strip() or not 1 <= port <= 65535:
        return None
    return port


def check_groups(groups, values, report):
    """Group sizes, topology and forbidden group overlaps."""
    control_planes = _group(groups, "control_plane")
    etcd = _group(groups, "etcd")
    frontends = _group(groups, "frontend")
    topology = values.get("quorum_etcd_topology")

    if not control_planes:
        report.error("group control_plane: empty; at least one control plane is needed (3 for HA)")
    elif len(control_planes) % 2 == 0:
        # A warning, not a fault: replacing a dead member goes through an even count (remove, then add).
        report.warn("group control_plane: %d hosts tolerate no more failures than %d; use an odd number (1, 3, 5)"
                    % (len(control_planes), len(control_planes) - 1))
    elif len(control_planes) == 1:
        report.warn("group control_plane: 1 host: the cluster works but is not highly available")

    if topology not in TOPOLOGIES:
        report.error("variable quorum_etcd_topology: %r is not one of %s" % (topology, ", ".join(TOPOLOGIES)))
    elif topology == "external":
        if not etcd:
            report.error("group etcd: empty, but quorum_etcd_topology is external; add an odd number of etcd hosts")
        elif len(etcd) % 2 == 0:
            report.warn("group etcd: %d hosts tolerate no more failures than %d; use an odd number (1, 3, 5)"
                        % (len(etcd), len(etcd) - 1))
        elif len(etcd) == 1:
            report.warn("group etcd: 1 host: etcd is not highly available")
    elif etcd:
        report.error("group etcd: %s listed, but quorum_etcd_topology is stacked (etcd runs on the control planes); "
                     "empty the group or set quorum_etcd_topology: external" % ", ".join(etcd))

    if not frontends:
        report.error("group frontend: empty; at least one frontend must hold the API VIP (two for HA)")
    elif len(frontends) == 1:
        report.warn("group frontend: 1 host: the API VIP has no standby")

    both = sorted(set(_group(groups, "worker")) & set(_group(groups, "meta_worker")))
    for host in both:
        report.error("host %s: in both worker and meta_worker; a node is one or the other" % host)
    for host in sorted(set(etcd) & set(h for g in WORKLOAD_GROUPS for h in _group(groups, g))):
        report.error("host %s: in etcd and in a workload group (worker/meta_worker); etcd hosts run nothing else" % host)


def check_addresses(groups, hostvars, values, report):
    """Node network, host addresses, VIP, ports, pod and service networks."""
    members = sorted(set(h for g in GROUPS for h in _group(groups, g)))
    node_net = _net(values.get("quorum_node_cidr"))
    if values.get("quorum_node_cidr") is not None and node_net is None:
        report.error("variable quorum_node_cidr: %r is not a network in CIDR form (e.g. 10.0.0.0/24)"
                     % values.get("quorum_node_cidr"))

    owners = {}
    for host in members:
        addr = _ip(host_address(host, hostvars))
        if addr is None:
            report.error("host %s: address %r (quorum_node_ip or ansible_host) is not an IP address"
                         % (host, host_address(host, hostvars)))
            continue
        owners.setdefault(addr, []).append(host)
        if node_net is not None and addr not in node_net:
            report.error("host %s: address %s is outside quorum_node_cidr %s" % (host, addr, node_net))
    for addr, hosts in sorted(owners.items()):
        if len(hosts) > 1:
            report.error("hosts %s: share the address %s; each node needs its own" % (", ".join(hosts), addr))

    vip_value = values.get("quorum_api_vip")
    vip = _ip(vip_value)
    if vip_value is not None and vip is None:
        report.error("variable quorum_api_vip: %r is not an IP address" % vip_value)
    elif vip is not None:
        if node_net is not None and vip not in node_net:
            report.error("variable quorum_api_vip: %s is outside quorum_node_cidr %s" % (vip, node_net))
        if vip in owners:
            report.error("variable quorum_api_vip: %s is the address of host %s; the VIP must be free"
                         % (vip, ", ".join(owners[vip])))
        if node_net is not None and vip in (node_net.network_address, node_net.broadcast_address) \
                and node_net.num_addresses > 2:
            report.error("variable quorum_api_vip: %s is the network or broadcast address of %s" % (vip, node_net))

    ports = {}
    for name in ("quorum_api_port", "quorum_apiserver_port"):
        ports[name] = _port(values.get(name))
        if ports[name] is None:
            report.error("variable %s: %r is not a TCP port (1-65535)" % (name, values.get(name)))

    colocated = sorted(set(_group(groups, "frontend")) & set(_group(groups, "control_plane")))
    if colocated and None not in ports.values() and ports["quorum_api_port"] == ports["quorum_apiserver_port"]:
        report.error(
            "hosts %s: frontend and control plane at once, so HAProxy (VIP:quorum_api_port) and kube-apiserver "
            "(quorum_apiserver_port) run side by side and both use port %d; kube-apiserver also answers on every "
            "address, so give the VIP listener another port (e.g. quorum_api_port: 8443)"
            % (", ".join(colocated), ports["quorum_api_port"]))

    nets = {"quorum_node_cidr": node_net}
    for name in ("quorum_pod_cidr", "quorum_service_cidr"):
        nets[name] = _net(values.get(name))
        if nets[name] is None:
            report.error("variable %s: %r is not a network in CIDR form" % (name, values.get(name)))
    names = sorted(n for n in nets if nets[n] is not None)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            a, b = nets[first], nets[second]
            if a.version == b.version and a.overlaps(b):
                report.error("variables %s (%s) and %s (%s): the networks overlap" % (first, a, second, b))


def check_values(values, report):
    """Cluster name, Kubernetes version, pod network, Vault address, artifact source."""
    name = values.get("quorum_cluster_name")
    if name is not None and (not isinstance(name, str) or len(name) > 63 or not _DNS1123_LABEL.match(name)):
        report.error("variable quorum_cluster_name: %r is not a DNS-1123 label (lower-case letters, digits, '-', "
                     "at most 63 characters, starting and ending with a letter or digit)" % (name,))

    version = values.get("quorum_kubernetes_version")
    if version is not None:
        match = _VERSION.match(str(version))
        supported = ", ".join("%d.%d" % m for m in SUPPORTED_MINORS)
        if not match:
            report.error("variable quorum_kubernetes_version: %r is not a full version X.Y.Z" % (version,))
        elif (int(match.group(1)), int(match.group(2))) not in SUPPORTED_MINORS:
            report.error("variable quorum_kubernetes_version: %s is outside the supported minors (%s)"
                         % (version, supported))
        elif "%s.%s.%s" % match.groups() != KUBERNETES_VERSION:
            report.warn("variable quorum_kubernetes_version: %s is not the version this release is tested with "
                        "(%s, the default); an offline mirror must be built for that version"
                        % (version, KUBERNETES_VERSION))

    plugin = values.get("quorum_network_plugin")
    if plugin not in NETWORK_PLUGINS:
        report.error("variable quorum_network_plugin: %r is not one of %s" % (plugin, ", ".join(NETWORK_PLUGINS)))

    try:
        firewall = boolean(values.get("quorum_firewall"), strict=True)
    except TypeError:
        report.error("variable quorum_firewall: %r is not a boolean" % (values.get("quorum_firewall"),))
    else:
        if firewall and _net(values.get("quorum_admin_cidr")) is None:
            report.error("variable quorum_admin_cidr: %r is not a network in CIDR form; quorum_firewall needs it "
                         "(where SSH to the frontends may come from)" % (values.get("quorum_admin_cidr"),))

    addr = values.get("quorum_vault_addr")
    if addr is not None and not re.match(r"^https?://[^/\s]+", str(addr)):
        report.error("variable quorum_vault_addr: %r is not an http(s) URL" % (addr,))

    artifacts = values.get("quorum_artifacts")
    if artifacts != "upstream" and not re.match(r"^(https?|file)://\S+$", str(artifacts)):
        report.error("variable quorum_artifacts: %r is neither 'upstream' nor a mirror URL" % (artifacts,))


def check_unknown(hostvars, report):
    """quorum_* names outside the contract are most likely typos."""
    unknown = {}
    for host in sorted(hostvars):
        for name in (hostvars.get(host) or {}):
            if name.startswith("quorum_") and name not in KNOWN_VARIABLES:
                unknown.setdefault(name, []).append(host)
    for name, hosts in sorted(unknown.items()):
        shown = ", ".join(hosts[:3]) + (" and %d more" % (len(hosts) - 3) if len(hosts) > 3 else "")
        report.warn("variable %s (on %s): not part of the inventory contract; a typo?" % (name, shown))


def removal_names(value):
    """remove_node as given on the command line ("a,b") or as a list; stripped, no empties."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(item).strip() for item in items if str(item).strip()]


def check_removal(groups, values, names, report):
    """What remove_node.yml may take away in one run, read from the inventory alone.

    The members left must keep a majority of today's (so 5 -> 3 and 3 -> 2 pass, 3 -> 1 does not),
    and at least one control plane and one frontend stay. The live health of etcd is checked by
    the playbook before anything changes; this is the part the inventory decides.
    """
    if not names:
        report.error("remove_node: no host named; pass -e remove_node=NAME[,NAME]")
        return
    cluster_hosts = set(h for g in GROUPS for h in _group(groups, g))
    for name in names:
        if name not in cluster_hosts:
            report.error("remove_node: host %s is not in the inventory's %s groups" % (name, "/".join(GROUPS)))
    for name in sorted(set(n for n in names if names.count(n) > 1)):
        report.error("remove_node: host %s named twice" % name)
    members = {"control_plane": _group(groups, "control_plane")}
    if values.get("quorum_etcd_topology") == "external":
        members["etcd"] = _group(groups, "etcd")
    for group, hosts in sorted(members.items()):
        leaving = [h for h in hosts if h in names]
        left = len(hosts) - len(leaving)
        if leaving and left == 0:
            report.error("remove_node: %s would remove the last of group %s" % (", ".join(leaving), group))
        elif leaving and left * 2 <= len(hosts):
            at_most = (len(hosts) - 1) // 2
            report.error("remove_node: %s would leave %d of %d in group %s, no majority of today's members: "
                         "remove fewer at once (at most %d)" % (", ".join(leaving), left, len(hosts), group, at_most))
    frontends = _group(groups, "frontend")
    leaving = [h for h in frontends if h in names]
    if frontends and len(leaving) == len(frontends):
        report.error("remove_node: %s would remove the last frontend; nothing would hold the API VIP"
                     % ", ".join(leaving))


def check_inventory(groups, hostvars, remove=None):
    """Run every rule; return {'ok', 'errors', 'warnings'}.

    groups: group name -> list of host names (Ansible's ``groups``).
    hostvars: host name -> dict of that host's variables.
    remove: the hosts remove_node.yml is asked to remove (None: not a removal).
    """
    report = Report()
    values = cluster_values(groups, hostvars, report)
    check_groups(groups, values, report)
    check_addresses(groups, hostvars, values, report)
    check_values(values, report)
    check_unknown(hostvars, report)
    result = {}
    if remove is not None:
        result["remove"] = removal_names(remove)
        check_removal(groups, values, result["remove"], report)
    result.update(report.as_dict())
    return result


def format_report(result):
    """One message listing every fault, numbered."""
    lines = ["Inventory preflight found %d fault(s); no host was changed:" % len(result["errors"])]
    lines.extend("  %d. %s" % (i, msg) for i, msg in enumerate(result["errors"], 1))
    return "\n".join(lines)
