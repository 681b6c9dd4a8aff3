"""molecule/openstack/files/check_cloud.py: it passes a cluster built as documented and names each defect
of one that is not, against a fake openstacksdk connection."""

import importlib.util
from pathlib import Path
from types import SimpleNamespace as NS

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location("check_cloud", REPO / "molecule" / "openstack" / "files" / "check_cloud.py")
cc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cc)

TAG = "quorum-cluster=lab-os"
VARS = {
    "quorum_cluster_name": "lab-os", "quorum_node_cidr": "10.20.0.0/24", "quorum_api_vip": "10.20.0.10",
    "quorum_admin_cidr": "10.231.0.0/24", "openstack_cloud": "quorum-lab", "openstack_external_network": "public",
    "openstack_ssh_user": "debian",
    "openstack_nodes": {"frontend": {"count": 2}, "control_plane": {"count": 3}, "worker": {"count": 1}},
}


def rule(proto, low, high, prefix=None, group=None, direction="ingress", ethertype="IPv4"):
    return {"direction": direction, "ethertype": ethertype, "protocol": proto, "port_range_min": low,
            "port_range_max": high, "remote_ip_prefix": prefix, "remote_group_id": group}


class Listing:
    def __init__(self, items):
        self.items = items

    def __call__(self, **query):
        return iter(self.items)


class World:
    """A cluster as provision builds it."""

    def __init__(self):
        names = [("lab-os-fe-1", "frontend"), ("lab-os-fe-2", "frontend"), ("lab-os-cp-1", "control_plane"),
                 ("lab-os-cp-2", "control_plane"), ("lab-os-cp-3", "control_plane"), ("lab-os-worker-1", "worker")]
        self.servers = [NS(id="s-" + n, name=n, status="ACTIVE", metadata={"quorum_cluster": "lab-os"},
                           compute_host="compute-%d" % (i % 3 + 1)) for i, (n, _k) in enumerate(names)]
        self.ports = [NS(id="p-vip", name="lab-os-vip", device_id="", is_port_security_enabled=True, tags=[TAG],
                         fixed_ips=[{"ip_address": "10.20.0.10"}], allowed_address_pairs=[], security_group_ids=["sgf"])]
        for i, (n, klass) in enumerate(names):
            pairs = [{"ip_address": "10.20.0.10"}] if klass == "frontend" else [{"ip_address": "10.244.0.0/16"}]
            self.ports.append(NS(id="p-" + n, name=n, device_id="s-" + n, is_port_security_enabled=True, tags=[TAG],
                                 fixed_ips=[{"ip_address": "10.20.0.%d" % (100 + i)}], allowed_address_pairs=pairs,
                                 security_group_ids=["sgf" if klass == "frontend" else "sgn"]))
        self.fips = [NS(floating_ip_address="203.0.113.%d" % (20 + i), port_id=p, tags=[TAG], description=p[2:])
                     for i, p in enumerate(["p-lab-os-vip", "p-lab-os-fe-1", "p-lab-os-fe-2"])]
        self.fips[0].port_id = "p-vip"
        egress = [rule(None, None, None, direction="egress"), rule(None, None, None, direction="egress", ethertype="IPv6")]
        fe = [rule("tcp", 22, 22, "10.231.0.0/24"), rule("tcp", 6443, 6443, "10.231.0.0/24"),
              rule("tcp", 6443, 6443, "10.20.0.0/24"), rule("vrrp", None, None, group="sgf")] + egress
        node = [rule("tcp", 22, 22, group="sgf")] + egress
        for cidr in ("10.20.0.0/24", "10.244.0.0/16"):
            node += [rule("tcp", 1, 21, cidr), rule("tcp", 23, 65535, cidr), rule("udp", None, None, cidr),
                     rule("icmp", None, None, cidr)]
        self.groups = [NS(id="sgf", name="lab-os-frontend", tags=[TAG], security_group_rules=fe),
                       NS(id="sgn", name="lab-os-node", tags=[TAG], security_group_rules=node),
                       NS(id="sgd", name="default", tags=[], security_group_rules=[])]
        self.server_groups = [
            NS(name="lab-os-frontend", policy="anti-affinity", policies=None, member_ids=["s-lab-os-fe-1", "s-lab-os-fe-2"]),
            NS(name="lab-os-control-plane", policy="anti-affinity", policies=None,
               member_ids=["s-lab-os-cp-1", "s-lab-os-cp-2", "s-lab-os-cp-3"])]
        self.networks = [NS(id="net", name="lab-os-net", tags=[TAG]), NS(id="ext", name="public", tags=[])]
        self.subnets = [NS(name="lab-os-subnet", cidr="10.20.0.0/24", tags=[TAG],
                           allocation_pools=[{"start": "10.20.0.2", "end": "10.20.0.9"},
                                             {"start": "10.20.0.11", "end": "10.20.0.254"}])]
        self.routers = [NS(name="lab-os-router", tags=[TAG], external_gateway_info={"network_id": "ext"})]
        self.keypairs = [NS(name="lab-os-key")]

    def conn(self):
        def find(items):
            def lookup(name, **query):
                return next((x for x in items if name in (x.name, getattr(x, "id", None))), None)
            return lookup

        network = NS(ports=Listing(self.ports), ips=Listing(self.fips), security_groups=Listing(self.groups),
                     networks=Listing(self.networks), subnets=Listing(self.subnets), routers=Listing(self.routers),
                     find_network=find(self.networks), find_router=find(self.routers),
                     find_security_group=find(self.groups))
        compute = NS(servers=Listing(self.servers), server_groups=Listing(self.server_groups),
                     keypairs=Listing(self.keypairs))
        return NS(current_project_id="p1", network=network, compute=compute)

    def inventory(self, tmp_path, jump_of=None):
        fips = {"lab-os-fe-1": "203.0.113.21", "lab-os-fe-2": "203.0.113.22"}
        fixed = dict((p.name, p.fixed_ips[0]["ip_address"]) for p in self.ports)
        jumps = jump_of or {"lab-os-cp-1": "203.0.113.21", "lab-os-cp-2": "203.0.113.22", "lab-os-cp-3": "203.0.113.21",
                            "lab-os-worker-1": "203.0.113.22"}
        children = {"frontend": {"hosts": dict((n, {"ansible_host": fips[n], "quorum_node_ip": fixed[n]}) for n in fips)},
                    "etcd": {"hosts": {}}, "meta_worker": {"hosts": {}}}
        for group, hosts in (("control_plane", ["lab-os-cp-1", "lab-os-cp-2", "lab-os-cp-3"]),
                             ("worker", ["lab-os-worker-1"])):
            children[group] = {"hosts": dict((n, {"ansible_host": fixed[n],
                                                  "ansible_ssh_common_args": "-o ProxyJump=debian@" + jumps[n]})
                                             for n in hosts)}
        path = tmp_path / "hosts.yml"
        path.write_text(yaml.safe_dump({"all": {"children": children}}))
        return str(path)


@pytest.fixture
def expect(tmp_path):
    path = tmp_path / "all.yml"
    path.write_text(yaml.safe_dump(VARS))
    return cc.Expect(str(path))


def check(world, expect, tmp_path, **kw):
    return cc.present(world.conn(), world.conn(), expect, world.inventory(tmp_path, **kw)).failures


def test_a_cluster_as_documented_passes(expect, tmp_path):
    assert check(World(), expect, tmp_path) == []


def test_each_defect_is_named(expect, tmp_path):
    w = World()
    w.fips.append(NS(floating_ip_address="203.0.113.99", port_id="p-lab-os-worker-1", tags=[TAG], description=""))
    w.ports[1].allowed_address_pairs = []
    w.groups[1].security_group_rules.append(rule("tcp", 22, 22, "0.0.0.0/0"))
    w.servers[3].compute_host = w.servers[2].compute_host
    w.servers[5].status = "ERROR"
    failures = check(w, expect, tmp_path)
    assert any("floating IPs on ports" in f and "lab-os-worker-1" in f for f in failures)
    assert any(f.startswith("port lab-os-fe-1: allowed address pairs []") for f in failures)
    assert any(f.startswith("security group lab-os-node: ingress") and "0.0.0.0/0" in f for f in failures)
    assert any(f.startswith("server group lab-os-control-plane: anti-affinity broken") for f in failures)
    assert "server lab-os-worker-1: ERROR, not ACTIVE" in failures
    assert len(failures) == 5, failures


def test_a_node_not_behind_a_frontend_is_named(expect, tmp_path):
    jumps = {"lab-os-cp-1": "203.0.113.21", "lab-os-cp-2": "203.0.113.21", "lab-os-cp-3": "203.0.113.21",
             "lab-os-worker-1": "10.9.9.9"}
    failures = check(World(), expect, tmp_path, jump_of=jumps)
    assert any("lab-os-worker-1 reached by" in f for f in failures)
    assert any("not spread over the frontends" in f for f in failures)


def test_the_vip_in_the_allocation_pool_is_named(expect, tmp_path):
    w = World()
    w.subnets[0].allocation_pools = [{"start": "10.20.0.2", "end": "10.20.0.254"}]
    assert any("the VIP is inside the allocation pool" in f for f in check(w, expect, tmp_path))


def test_rule_key_treats_the_whole_port_range_as_any():
    assert cc.rule_key(rule("udp", 1, 65535, "10.0.0.0/8"), {}) == ("udp", None, None, "10.0.0.0/8")
    assert cc.rule_key(rule("vrrp", None, None, group="g"), {"g": "fe"}) == ("vrrp", None, None, "group:fe")


def test_absent_names_what_is_left_and_a_removed_bystander(expect):
    empty = World()
    for attr in ("servers", "ports", "fips", "server_groups", "routers", "subnets", "keypairs"):
        setattr(empty, attr, [])
    empty.groups = [NS(id="sgd", name="default", tags=[]), NS(id="k", name="lab-os-keep", tags=[])]
    empty.networks = [NS(id="ext", name="public", tags=[]), NS(id="kn", name="lab-os-keep-net", tags=[])]
    assert cc.absent(empty.conn(), expect, True).failures == []
    empty.ports = [NS(name="", tags=[TAG])]
    empty.groups = empty.groups[:1]
    failures = cc.absent(empty.conn(), expect, True).failures
    assert failures[0].startswith("left in the project: port ")
    assert "bystander security group lab-os-keep was removed" in failures
