"""Check a quorum.k8s cluster on OpenStack with openstacksdk directly, independent of the playbooks.

  python check_cloud.py present --vars GROUP_VARS --inventory HOSTS [--admin-cloud NAME] [--out JSON]
  python check_cloud.py absent  --vars GROUP_VARS [--bystanders] [--out JSON]
  python check_cloud.py bystanders create|delete --vars GROUP_VARS

The expectations come from the scenario's group_vars (the same file the playbooks read), written
out here from docs/openstack.md, not from the collection's code:

present - every server ACTIVE, with its metadata, in its server group (anti-affinity: on distinct
compute hosts, read with the admin cloud when given); the VIP port's fixed IP; port security on
every port, the frontends' allowed address pairs the VIP, the Kubernetes nodes' the pod network;
floating IPs on the VIP port and the frontends' ports and nowhere else; the security-group rules
as documented; the cluster's tag on its network resources; the generated inventory's groups,
addresses and ProxyJump.
absent - nothing of the cluster left in the project (its tag, its server metadata, a name that
starts with the cluster's name), while the bystanders, resources named like the cluster's but not
made by provision, are still there.

Prints a JSON report; exits 1 when a check fails, naming each failure.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys

import openstack
import yaml

CLASSES = (("frontend", "fe"), ("control_plane", "cp"), ("etcd", "etcd"), ("meta_worker", "meta"), ("worker", "worker"))
SERVER_GROUPS = {"frontend": "frontend", "control_plane": "control-plane", "etcd": "etcd"}
DEFAULT_NODES = {"frontend": {"count": 2}, "control_plane": {"count": 3}, "etcd": {"count": 0},
                 "meta_worker": {"count": 0}, "worker": {"count": 1}}


class Expect:
    """What the scenario's group_vars ask for."""

    def __init__(self, path):
        with open(path) as handle:
            v = yaml.safe_load(handle)
        self.cluster = v.get("openstack_cluster_name", v["quorum_cluster_name"])
        self.cloud = v.get("openstack_cloud") or None
        self.topology = v.get("quorum_etcd_topology", "stacked")
        self.node_cidr = v["quorum_node_cidr"]
        self.vip = v["quorum_api_vip"]
        self.api_port = int(v.get("quorum_api_port", 6443))
        self.pod_cidr = v.get("quorum_pod_cidr", "10.244.0.0/16")
        self.admin_cidr = v["quorum_admin_cidr"]
        self.external = v.get("openstack_external_network") or None
        self.policy = v.get("openstack_server_group_policy", "anti-affinity")
        self.user = v.get("openstack_ssh_user", "debian")
        self.tag = "quorum-cluster=" + self.cluster
        nodes = v.get("openstack_nodes", DEFAULT_NODES)
        self.servers = []  # (name, class) in inventory order
        for klass, short in CLASSES:
            count = int((nodes.get(klass) or {}).get("count") or 0)
            if klass == "etcd" and self.topology != "external":
                count = 0
            self.servers += [("%s-%s-%d" % (self.cluster, short, i), klass) for i in range(1, count + 1)]

    def names_of(self, klass):
        return [n for n, k in self.servers if k == klass]


class Report:
    def __init__(self):
        self.failures = []
        self.figures = {}

    def check(self, ok, message):
        if not ok:
            self.failures.append(message)
        return ok


def rule_key(rule, groups):
    """A rule as (protocol, min, max, source) with the remote group by name; tcp/udp 1-65535 as any port."""
    proto, low, high = rule.get("protocol"), rule.get("port_range_min"), rule.get("port_range_max")
    if proto in ("tcp", "udp") and low in (None, 1) and high in (None, 65535):
        low = high = None
    source = rule.get("remote_ip_prefix") or "group:" + groups.get(rule.get("remote_group_id"), str(rule.get("remote_group_id")))
    return (proto, low, high, source)


def expected_rules(e):
    fe = {("tcp", 22, 22, e.admin_cidr), ("tcp", e.api_port, e.api_port, e.admin_cidr),
          ("tcp", e.api_port, e.api_port, e.node_cidr), ("vrrp", None, None, "group:%s-frontend" % e.cluster)}
    node = {("tcp", 22, 22, "group:%s-frontend" % e.cluster)}
    for cidr in (e.node_cidr, e.pod_cidr):
        node |= {("tcp", 1, 21, cidr), ("tcp", 23, 65535, cidr), ("udp", None, None, cidr), ("icmp", None, None, cidr)}
    return {"%s-frontend" % e.cluster: fe, "%s-node" % e.cluster: node}


def present(conn, admin, e, inventory_path):
    r = Report()
    pid = conn.current_project_id
    servers = dict((s.name, s) for s in conn.compute.servers(details=True))
    ports = list(conn.network.ports(project_id=pid))
    port_by_name = dict((p.name, p) for p in ports)
    fips = list(conn.network.ips(project_id=pid))
    groups = dict((g.id, g.name) for g in conn.network.security_groups(project_id=pid))

    # Servers, their metadata and ports.
    for name, klass in e.servers:
        server = servers.get(name)
        if not r.check(server is not None, "server %s: missing" % name):
            continue
        r.check(server.status == "ACTIVE", "server %s: %s, not ACTIVE" % (name, server.status))
        r.check((server.metadata or {}).get("quorum_cluster") == e.cluster,
                "server %s: metadata quorum_cluster is %r" % (name, (server.metadata or {}).get("quorum_cluster")))
        port = port_by_name.get(name)
        if not r.check(port is not None, "port %s: missing" % name):
            continue
        r.check(port.device_id == server.id, "port %s: attached to %r, not to its server" % (name, port.device_id))
        r.check(port.is_port_security_enabled is True, "port %s: port security is off" % name)
        pairs = sorted(p["ip_address"] for p in port.allowed_address_pairs or [])
        want = [e.vip] if klass == "frontend" else [e.pod_cidr] if klass in ("control_plane", "meta_worker", "worker") else []
        r.check(pairs == want, "port %s: allowed address pairs %s, expected %s" % (name, pairs, want))
        sg = sorted(groups.get(g, g) for g in port.security_group_ids or [])
        want_sg = ["%s-%s" % (e.cluster, "frontend" if klass == "frontend" else "node")]
        r.check(sg == want_sg, "port %s: security groups %s, expected %s" % (name, sg, want_sg))
        r.check(e.tag in (port.tags or []), "port %s: without tag %s" % (name, e.tag))
    extra = sorted(n for n, s in servers.items() if (s.metadata or {}).get("quorum_cluster") == e.cluster
                   and n not in dict(e.servers))
    r.check(not extra, "servers of the cluster not asked for: %s" % extra)

    # The VIP port.
    vip = port_by_name.get("%s-vip" % e.cluster)
    if r.check(vip is not None, "port %s-vip: missing" % e.cluster):
        addresses = [ip["ip_address"] for ip in vip.fixed_ips]
        r.check(addresses == [e.vip], "port %s-vip: fixed IPs %s, expected [%s]" % (e.cluster, addresses, e.vip))
        r.check(vip.is_port_security_enabled is True, "port %s-vip: port security is off" % e.cluster)
        r.check(e.tag in (vip.tags or []), "port %s-vip: without tag" % e.cluster)

    # Server groups and placement.
    server_groups = dict((g.name, g) for g in conn.compute.server_groups())
    hosts = {}
    if admin is not None:
        listed = admin.compute.servers(details=True, all_projects=True, project_id=pid)
        hosts = dict((s.name, s.compute_host) for s in listed)
    placement = {}
    for klass, suffix in SERVER_GROUPS.items():
        members = e.names_of(klass)
        if not members:
            continue
        name = "%s-%s" % (e.cluster, suffix)
        group = server_groups.get(name)
        if not r.check(group is not None, "server group %s: missing" % name):
            continue
        policy = group.policy or (group.policies or [None])[0]
        r.check(policy == e.policy, "server group %s: policy %s, expected %s" % (name, policy, e.policy))
        ids = sorted(servers[m].id for m in members if m in servers)
        r.check(sorted(group.member_ids or []) == ids, "server group %s: members %s, expected the servers of %s"
                % (name, sorted(group.member_ids or []), klass))
        if hosts:
            placed = dict((m, hosts.get(m)) for m in members)
            placement[name] = placed
            if policy == "anti-affinity":
                r.check(len(set(placed.values())) == len(members),
                        "server group %s: anti-affinity broken, hosts %s" % (name, placed))
    r.figures["placement"] = placement

    # Floating IPs: on the VIP port and the frontends' ports, nowhere else.
    port_name = dict((p.id, p.name) for p in ports)
    attached = sorted(port_name.get(f.port_id, f.port_id) for f in fips if f.port_id)
    want = sorted(["%s-vip" % e.cluster] + e.names_of("frontend")) if e.external else []
    r.check(attached == want, "floating IPs on ports %s, expected %s" % (attached, want))
    for f in fips:
        if f.port_id in port_name and port_name[f.port_id].startswith(e.cluster + "-"):
            r.check(e.tag in (f.tags or []), "floating IP %s: without tag" % f.floating_ip_address)
    fip_of = dict((port_name.get(f.port_id), f.floating_ip_address) for f in fips if f.port_id)
    r.figures["floating_ips"] = fip_of

    # Security groups as documented (ingress exactly; egress allows all).
    by_name = dict((g.name, g) for g in conn.network.security_groups(project_id=pid))
    for name, want_rules in expected_rules(e).items():
        group = by_name.get(name)
        if not r.check(group is not None, "security group %s: missing" % name):
            continue
        rules = group.security_group_rules or []
        ingress = set(rule_key(x, groups) for x in rules if x["direction"] == "ingress" and x["ethertype"] == "IPv4")
        r.check(ingress == want_rules, "security group %s: ingress %s, expected %s; extra %s, missing %s"
                % (name, sorted(map(str, ingress)), sorted(map(str, want_rules)),
                   sorted(map(str, ingress - want_rules)), sorted(map(str, want_rules - ingress))))
        r.check(not [x for x in rules if x["direction"] == "ingress" and x["ethertype"] == "IPv6"],
                "security group %s: IPv6 ingress rules" % name)
        egress = set(x["ethertype"] for x in rules if x["direction"] == "egress" and not x.get("protocol")
                     and not x.get("remote_ip_prefix") and not x.get("remote_group_id"))
        r.check(egress == {"IPv4", "IPv6"}, "security group %s: egress %s, expected all" % (name, sorted(egress)))
        r.check(e.tag in (group.tags or []), "security group %s: without tag" % name)

    # Network, subnet, router.
    net = conn.network.find_network("%s-net" % e.cluster)
    if r.check(net is not None, "network %s-net: missing" % e.cluster):
        r.check(e.tag in (net.tags or []), "network %s-net: without tag" % e.cluster)
        subnets = list(conn.network.subnets(network_id=net.id))
        r.check([s.cidr for s in subnets] == [e.node_cidr], "network %s-net: subnets %s" % (e.cluster, [s.cidr for s in subnets]))
        vip = ipaddress.ip_address(e.vip)
        for s in subnets:
            r.check(e.tag in (s.tags or []), "subnet %s: without tag" % s.name)
            pooled = [p for p in s.allocation_pools or [] if ipaddress.ip_address(p["start"]) <= vip
                      <= ipaddress.ip_address(p["end"])]
            r.check(not pooled, "subnet %s: the VIP is inside the allocation pool %s" % (s.name, pooled))
        if e.external:
            router = conn.network.find_router("%s-router" % e.cluster)
            if r.check(router is not None, "router %s-router: missing" % e.cluster):
                ext = conn.network.find_network(e.external)
                r.check((router.external_gateway_info or {}).get("network_id") == ext.id,
                        "router %s-router: its gateway is not on %s" % (e.cluster, e.external))
                r.check(e.tag in (router.tags or []), "router %s-router: without tag" % e.cluster)

    # The generated inventory.
    with open(inventory_path) as handle:
        text = handle.read()
    inv = yaml.safe_load(text)
    children = inv["all"]["children"]
    r.check(sorted(children) == sorted(pair[0] for pair in CLASSES), "inventory: groups %s" % sorted(children))
    frontends = e.names_of("frontend")
    jumps = {}
    for klass in (pair[0] for pair in CLASSES):
        hosts_of = (children.get(klass) or {}).get("hosts") or {}
        r.check(list(hosts_of) == e.names_of(klass), "inventory: group %s has %s, expected %s"
                % (klass, list(hosts_of), e.names_of(klass)))
        for name, hv in hosts_of.items():
            port = port_by_name.get(name)
            fixed = port.fixed_ips[0]["ip_address"] if port and port.fixed_ips else None
            if klass == "frontend":
                want_host = fip_of.get(name) if e.external else fixed
                r.check(hv.get("ansible_host") == want_host, "inventory: %s ansible_host %s, expected %s"
                        % (name, hv.get("ansible_host"), want_host))
                if e.external:
                    r.check(hv.get("quorum_node_ip") == fixed, "inventory: %s quorum_node_ip %s, expected %s"
                            % (name, hv.get("quorum_node_ip"), fixed))
                r.check("ansible_ssh_common_args" not in hv, "inventory: frontend %s jumps" % name)
            else:
                r.check(hv.get("ansible_host") == fixed, "inventory: %s ansible_host %s, expected %s"
                        % (name, hv.get("ansible_host"), fixed))
                args = hv.get("ansible_ssh_common_args", "")
                via = args.split("@", 1)[1] if args.startswith("-o ProxyJump=%s@" % e.user) else None
                public = [fip_of.get(f) if e.external else (port_by_name[f].fixed_ips[0]["ip_address"]) for f in frontends]
                r.check(via in public, "inventory: %s reached by %r, not through a frontend" % (name, args))
                jumps[via] = jumps.get(via, 0) + 1
    # round robin: every frontend takes its turn, none more than one node ahead of another
    behind = sum(jumps.values())
    spread = not behind or (len(jumps) == min(len(frontends), behind) and max(jumps.values()) - min(jumps.values()) <= 1)
    r.check(spread, "inventory: nodes not spread over the frontends: %s" % jumps)
    r.figures["jumps"] = jumps
    r.figures["servers"] = len(e.servers)
    return r


def cluster_leftovers(conn, e, bystanders):
    """Every resource of the project that is the cluster's by tag, metadata or a name starting with its name."""
    pid = conn.current_project_id
    prefix = e.cluster + "-"
    keep = set(bystanders)

    def mine(name, tags=(), description=""):
        name = name or ""
        return (e.tag in (tags or []) or (name.startswith(prefix) and name not in keep)
                or (description or "").startswith(prefix))

    left = []
    left += ["server %s" % s.name for s in conn.compute.servers(details=True)
             if mine(s.name) or (s.metadata or {}).get("quorum_cluster") == e.cluster]
    left += ["port %s" % p.name for p in conn.network.ports(project_id=pid) if mine(p.name, p.tags)]
    left += ["floating IP %s" % f.floating_ip_address for f in conn.network.ips(project_id=pid)
             if mine("", f.tags, f.description)]
    left += ["network %s" % n.name for n in conn.network.networks(project_id=pid) if mine(n.name, n.tags)]
    left += ["subnet %s" % s.name for s in conn.network.subnets(project_id=pid) if mine(s.name, s.tags)]
    left += ["router %s" % x.name for x in conn.network.routers(project_id=pid) if mine(x.name, x.tags)]
    left += ["security group %s" % g.name for g in conn.network.security_groups(project_id=pid) if mine(g.name, g.tags)]
    left += ["server group %s" % g.name for g in conn.compute.server_groups() if mine(g.name)]
    left += ["key pair %s" % k.name for k in conn.compute.keypairs() if mine(k.name)]
    return left


def bystander_names(e):
    return {"security_group": "%s-keep" % e.cluster, "network": "%s-keep-net" % e.cluster}


def absent(conn, e, with_bystanders):
    r = Report()
    names = bystander_names(e)
    left = cluster_leftovers(conn, e, names.values())
    r.check(not left, "left in the project: %s" % ", ".join(left))
    if with_bystanders:
        r.check(conn.network.find_security_group(names["security_group"]) is not None,
                "bystander security group %s was removed" % names["security_group"])
        r.check(conn.network.find_network(names["network"]) is not None,
                "bystander network %s was removed" % names["network"])
    r.figures["left"] = left
    return r


def bystanders(conn, e, action):
    """Resources named like the cluster's that provision did not make: destroy must leave them."""
    names = bystander_names(e)
    sg = conn.network.find_security_group(names["security_group"])
    net = conn.network.find_network(names["network"])
    if action == "create":
        if sg is None:
            conn.network.create_security_group(name=names["security_group"], description="bystander")
        if net is None:
            conn.network.create_network(name=names["network"])
    else:
        if sg is not None:
            conn.network.delete_security_group(sg)
        if net is not None:
            conn.network.delete_network(net)
    r = Report()
    r.figures["bystanders"] = names
    return r


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["present", "absent", "bystanders"])
    parser.add_argument("action", nargs="?", choices=["create", "delete"])
    parser.add_argument("--vars", required=True, help="the scenario's group_vars/all.yml")
    parser.add_argument("--inventory", help="the generated inventory (present)")
    parser.add_argument("--admin-cloud", help="a cloud with the admin role, to read where servers run")
    parser.add_argument("--bystanders", action="store_true", help="absent: the bystanders must still be there")
    parser.add_argument("--out", help="also write the report here")
    args = parser.parse_args(argv)
    e = Expect(args.vars)
    conn = openstack.connect(cloud=e.cloud)
    if args.mode == "present":
        admin = openstack.connect(cloud=args.admin_cloud) if args.admin_cloud else None
        r = present(conn, admin, e, args.inventory)
    elif args.mode == "absent":
        r = absent(conn, e, args.bystanders)
    else:
        r = bystanders(conn, e, args.action or "create")
    report = {"mode": args.mode, "cluster": e.cluster, "ok": not r.failures, "failures": r.failures,
              "figures": r.figures}
    text = json.dumps(report, indent=2, sort_keys=True)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")
    print(text)
    return 0 if not r.failures else 1


if __name__ == "__main__":
    sys.exit(main())
