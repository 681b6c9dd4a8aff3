# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the OpenStack modules read and write, over one openstacksdk connection.

Reads return plain dicts and lists (JSON-able, the shape plan.py expects); which resources are
the cluster's is decided by plan.owned, never here. openstacksdk is imported by argspec.py, not
here: these functions take a connection, so the unit tests pass a fake one.
"""

from __future__ import annotations

import time

from ansible_collections.quorum.k8s.plugins.module_utils._openstack import plan as planlib
from ansible_collections.quorum.k8s.plugins.module_utils._openstack.errors import (
    OpenStackAPIError, OpenStackAuthError, OpenStackTimeoutError, cloud_label)

# Service types the catalog may list block storage (Cinder) under (os-service-types aliases).
BLOCK_STORAGE_TYPES = ("block-storage", "block-store", "volume", "volumev2", "volumev3")
# Ports that connect a subnet to a router.
ROUTER_INTERFACE_OWNERS = ("network:router_interface", "network:router_interface_distributed",
                           "network:ha_router_replicated_interface")
# Per kind: the network proxy's getter (tags are set on the fetched resource).
TAG_GETTERS = {
    "network": "get_network",
    "subnet": "get_subnet",
    "router": "get_router",
    "security_group": "get_security_group",
    "port": "get_port",
    "floating_ip": "get_ip",
}


def _get(obj, name, default=None):
    """An attribute of an SDK resource (or a key of a dict, as the fakes in the tests give)."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    value = getattr(obj, name, default)
    return default if value is None else value


def _plain(value):
    """SDK values (munch-like dicts, resources in lists) as plain JSON-able data."""
    if isinstance(value, dict):
        return dict((str(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "to_dict"):
        return _plain(value.to_dict(computed=False))
    return str(value)


def _api(what, call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except Exception as exc:  # pylint: disable=broad-except  # every SDK/keystoneauth error names the call
        raise OpenStackAPIError("%s: %s" % (what, exc))


def _list(what, call, *args, **kwargs):
    """A listing read to the end inside the guard (the SDK's listings are generators)."""
    return _api(what, lambda: list(call(*args, **kwargs)))


class Cloud:
    """One project of one cloud, as seen through an openstacksdk connection."""

    def __init__(self, conn, cloud=None):
        self.conn = conn
        self.cloud = cloud
        self.label = cloud_label(cloud)
        self._project_id = None

    # --- identity -------------------------------------------------------------------------
    def authenticate(self):
        """A token for the project, or OpenStackAuthError naming the cloud and why."""
        try:
            self.conn.authorize()
            access = self.conn.session.auth.get_access(self.conn.session)
        except Exception as exc:  # pylint: disable=broad-except  # keystoneauth/SDK errors alike
            raise OpenStackAuthError(self.cloud, "authentication failed: %s" % exc)
        self._project_id = _get(access, "project_id")
        if not self._project_id:
            raise OpenStackAuthError(self.cloud, "the token is not scoped to a project; set project_name (or "
                                                 "project_id) in the cloud's auth section")
        catalog = _get(access, "service_catalog")
        try:
            types = sorted(catalog.get_endpoints().keys()) if catalog is not None else []
        except Exception:  # pylint: disable=broad-except  # a catalog without endpoints
            types = []
        self._services = types
        return {
            "ok": True,
            "cloud_label": "cloud %s" % self.label,
            "project_id": self._project_id,
            "project_name": _get(access, "project_name"),
            "user_id": _get(access, "user_id"),
        }

    @property
    def project_id(self):
        return self._project_id

    def services(self):
        types = list(getattr(self, "_services", []))
        return {"types": types, "block_storage": any(t in BLOCK_STORAGE_TYPES for t in types)}

    # --- what the project offers ------------------------------------------------------------
    def flavors(self, wanted):
        out = {}
        for name in wanted or []:
            flavor = _api("flavor %s" % name, self.conn.compute.find_flavor, name, ignore_missing=True)
            if flavor is not None:
                out[name] = {"id": _get(flavor, "id"), "name": _get(flavor, "name"), "vcpus": _get(flavor, "vcpus", 0),
                             "ram": _get(flavor, "ram", 0), "disk": _get(flavor, "disk", 0)}
        return out

    def images(self, wanted):
        out = {}
        for name in wanted or []:
            found = _list("image %s" % name, self.conn.image.images, name=name)
            if not found:
                image = _api("image %s" % name, self.conn.image.find_image, name, ignore_missing=True)
                found = [image] if image is not None else []
            if found:
                image = found[0]
                out[name] = {"id": _get(image, "id"), "status": _get(image, "status"), "count": len(found),
                             "min_disk": _get(image, "min_disk", 0) or 0, "min_ram": _get(image, "min_ram", 0) or 0}
        return out

    def _routed_to(self, network_id):
        """subnet id -> the external networks its routers' gateways are on (routers this project can read)."""
        routed = {}
        ports = _list("ports of network %s" % network_id, self.conn.network.ports, network_id=network_id)
        for port in ports:
            if _get(port, "device_owner") not in ROUTER_INTERFACE_OWNERS:
                continue
            try:
                router = self.conn.network.get_router(_get(port, "device_id"))
            except Exception:  # pylint: disable=broad-except  # another project's router: not readable
                continue
            gateway = (_get(router, "external_gateway_info") or {}).get("network_id")
            for ip in _get(port, "fixed_ips", []) or []:
                if gateway:
                    routed.setdefault(ip.get("subnet_id"), []).append(gateway)
        return routed

    def networks(self, wanted):
        out = {}
        for name in wanted or []:
            found = _list("network %s" % name, self.conn.network.networks, name=name)
            if not found:
                network = _api("network %s" % name, self.conn.network.find_network, name, ignore_missing=True)
                found = [network] if network is not None else []
            if not found:
                continue
            net = found[0]
            net_id = _get(net, "id")
            subnets = _list("subnets of network %s" % name, self.conn.network.subnets, network_id=net_id)
            routed = self._routed_to(net_id) if subnets else {}
            out[name] = {
                "id": net_id, "name": _get(net, "name"), "count": len(found),
                "external": bool(_get(net, "is_router_external", False)),
                "shared": bool(_get(net, "is_shared", False)), "project_id": _get(net, "project_id"),
                "subnets": [{"id": _get(sn, "id"), "name": _get(sn, "name"), "cidr": _get(sn, "cidr"),
                             "gateway_ip": _get(sn, "gateway_ip"),
                             "routed_to": sorted(set(routed.get(_get(sn, "id"), [])))} for sn in subnets],
            }
        return out

    def keypair(self, name):
        """A key pair of this user by name: {name, fingerprint}, or None."""
        if not name:
            return None
        found = _api("key pair %s" % name, self.conn.compute.find_keypair, name, ignore_missing=True)
        return {"name": _get(found, "name"), "fingerprint": _get(found, "fingerprint")} if found is not None else None

    def address_holders(self, network, address):
        """The ports that hold an address on a network (by name or ID); [] when the network does not exist."""
        if not network or not address:
            return []
        net = _api("network %s" % network, self.conn.network.find_network, network, ignore_missing=True)
        if net is None:
            return []
        ports = _list("ports holding %s" % address, self.conn.network.ports,
                      network_id=_get(net, "id"), fixed_ips=["ip_address=%s" % address])
        return [{"id": _get(p, "id"), "name": _get(p, "name")} for p in ports]

    def limits(self):
        """The project's compute limits and network quota with their usage; a quota this user may not read is
        left out (``unreadable`` says which and why)."""
        out = {"compute": {}, "network": {}, "unreadable": []}
        try:
            absolute = _get(self.conn.compute.get_limits(), "absolute")
        except Exception as exc:  # pylint: disable=broad-except  # unreadable limits are not a fault
            out["unreadable"].append("compute limits: %s" % exc)
            absolute = None
        if absolute is not None:
            def pair(limit, used):
                return {"limit": _get(absolute, limit), "used": _get(absolute, used, 0) or 0}
            out["compute"] = {
                "instances": pair("instances", "instances_used"),
                "cores": pair("total_cores", "total_cores_used"),
                "ram": pair("total_ram", "total_ram_used"),
                "server_groups": pair("server_groups", "server_groups_used"),
                "server_group_members": {"limit": _get(absolute, "server_group_members")},
            }
        try:
            quota = self.conn.network.get_quota(self._project_id, details=True)
        except Exception as exc:  # pylint: disable=broad-except  # Neutron's policy may hide it
            out["unreadable"].append("network quota: %s" % exc)
            quota = None
        if quota is not None:
            for key in ("floating_ips", "ports", "security_groups", "security_group_rules", "networks", "subnets",
                        "routers"):
                entry = _get(quota, key)
                if isinstance(entry, dict):
                    out["network"][key] = {"limit": entry.get("limit"), "used": entry.get("used", 0) or 0}
        return out

    # --- what the cluster owns --------------------------------------------------------------
    def cluster(self, cluster):
        """Every resource of the project that is the cluster's (plan.owned), per kind, sorted by name."""
        patterns = planlib.owner_patterns(cluster)
        pid = self._project_id
        net = self.conn.network
        compute = self.conn.compute

        def keep(kind, items):
            return sorted((x for x in items if planlib.owned(kind, x, cluster, patterns)),
                          key=lambda x: (str(x.get("name") or x.get("description")), str(x.get("id"))))

        servers = [{
            "id": _get(s, "id"), "name": _get(s, "name"), "status": _get(s, "status"),
            "metadata": _plain(_get(s, "metadata", {})), "fault": (_get(s, "fault") or {}).get("message"),
            "flavor": _plain(_get(s, "flavor", {})),
        } for s in _list("servers", compute.servers, details=True)]
        ports = [{
            "id": _get(p, "id"), "name": _get(p, "name"), "network_id": _get(p, "network_id"),
            "fixed_ips": _plain(_get(p, "fixed_ips", [])), "mac_address": _get(p, "mac_address"),
            "allowed_address_pairs": _plain(_get(p, "allowed_address_pairs", [])),
            "security_group_ids": _plain(_get(p, "security_group_ids", [])),
            "port_security_enabled": _get(p, "is_port_security_enabled"),
            "device_id": _get(p, "device_id"), "device_owner": _get(p, "device_owner"),
            "tags": _plain(_get(p, "tags", [])), "description": _get(p, "description"),
        } for p in _list("ports", net.ports, project_id=pid)]
        fips = [{
            "id": _get(f, "id"), "floating_ip_address": _get(f, "floating_ip_address"),
            "fixed_ip_address": _get(f, "fixed_ip_address"), "port_id": _get(f, "port_id"),
            "floating_network_id": _get(f, "floating_network_id"), "description": _get(f, "description"),
            "tags": _plain(_get(f, "tags", [])),
        } for f in _list("floating IPs", net.ips, project_id=pid)]
        networks = [{"id": _get(n, "id"), "name": _get(n, "name"), "tags": _plain(_get(n, "tags", [])),
                     "port_security_enabled": _get(n, "is_port_security_enabled")}
                    for n in _list("networks", net.networks, project_id=pid)]
        subnets = [{"id": _get(s, "id"), "name": _get(s, "name"), "network_id": _get(s, "network_id"),
                    "cidr": _get(s, "cidr"), "gateway_ip": _get(s, "gateway_ip"),
                    "allocation_pools": _plain(_get(s, "allocation_pools", [])), "tags": _plain(_get(s, "tags", []))}
                   for s in _list("subnets", net.subnets, project_id=pid)]
        interfaces = {}
        for port in ports:
            if port["device_owner"] in ROUTER_INTERFACE_OWNERS:
                interfaces.setdefault(port["device_id"], []).extend(
                    {"port_id": port["id"], "subnet_id": ip.get("subnet_id")} for ip in port["fixed_ips"])
        routers = [{"id": _get(r, "id"), "name": _get(r, "name"), "tags": _plain(_get(r, "tags", [])),
                    "external_network_id": (_get(r, "external_gateway_info") or {}).get("network_id"),
                    "interfaces": interfaces.get(_get(r, "id"), [])}
                   for r in _list("routers", net.routers, project_id=pid)]
        groups = [{"id": _get(g, "id"), "name": _get(g, "name"), "tags": _plain(_get(g, "tags", [])),
                   "description": _get(g, "description"),
                   "rules": [{k: r.get(k) for k in ("id", "direction", "ethertype", "protocol", "port_range_min",
                                                    "port_range_max", "remote_ip_prefix", "remote_group_id",
                                                    "description")}
                             for r in _plain(_get(g, "security_group_rules", []))]}
                  for g in _list("security groups", net.security_groups, project_id=pid)]
        server_groups = []
        for g in _list("server groups", compute.server_groups):
            policy = _get(g, "policy") or (list(_get(g, "policies", []) or []) or [None])[0]
            server_groups.append({"id": _get(g, "id"), "name": _get(g, "name"), "policy": policy,
                                  "member_ids": sorted(_plain(_get(g, "member_ids", [])))})
        keypairs = [{"id": _get(k, "name"), "name": _get(k, "name"), "fingerprint": _get(k, "fingerprint")}
                    for k in _list("key pairs", compute.keypairs)]
        # Router interfaces go with their router (router absent removes them), never on their own.
        owned_ports = [p for p in keep("port", ports) if p["device_owner"] not in ROUTER_INTERFACE_OWNERS]
        return {
            "servers": keep("server", servers),
            "ports": owned_ports,
            "floating_ips": keep("floating_ip", fips),
            "networks": keep("network", networks),
            "subnets": keep("subnet", subnets),
            "routers": keep("router", routers),
            "security_groups": keep("security_group", groups),
            "server_groups": keep("server_group", server_groups),
            "keypairs": keep("keypair", keypairs),
        }

    def wait_servers(self, cluster, names, timeout, interval=5.0, clock=time.monotonic, sleep=time.sleep):
        """Wait until every named server is ACTIVE; fail at once on one in ERROR, with Nova's fault."""
        deadline = clock() + timeout
        wanted = set(names or [])
        while True:
            servers = dict((_get(s, "name"), s) for s in _list("servers", self.conn.compute.servers, details=True)
                           if _get(s, "name") in wanted)
            broken = sorted(n for n, s in servers.items() if _get(s, "status") == "ERROR")
            if broken:
                raise OpenStackAPIError("; ".join(
                    "server %s: ERROR (%s)" % (n, (_get(servers[n], "fault") or {}).get("message") or "no fault given")
                    for n in broken))
            pending = sorted(n for n in wanted if _get(servers.get(n), "status") != "ACTIVE")
            if not pending:
                return
            if clock() >= deadline:
                raise OpenStackTimeoutError("servers not ACTIVE after %d s: %s" % (timeout, ", ".join(
                    "%s (%s)" % (n, _get(servers.get(n), "status") or "missing") for n in pending)))
            sleep(interval)

    # --- the one write: tags ----------------------------------------------------------------
    def tag(self, kind, resource_id, tags, check_mode=False):
        """Add the tags a Neutron resource lacks (its other tags stay). Returns (changed, before, after)."""
        getter = getattr(self.conn.network, TAG_GETTERS[kind])
        resource = _api("%s %s" % (kind.replace("_", " "), resource_id), getter, resource_id)
        before = sorted(_get(resource, "tags", []) or [])
        after = sorted(set(before) | set(tags))
        if after == before:
            return False, before, after
        if not check_mode:
            _api("tagging %s %s" % (kind.replace("_", " "), resource_id), self.conn.network.set_tags, resource, after)
        return True, before, after
