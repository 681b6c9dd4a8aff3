"""The openstacksdk reads and the tag write (_openstack/cloud.py), against a fake connection."""

from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from ansible_collections.quorum.k8s.plugins.module_utils._openstack.cloud import Cloud
from ansible_collections.quorum.k8s.plugins.module_utils._openstack.errors import (
    OpenStackAPIError, OpenStackAuthError, OpenStackTimeoutError)

TAG = "quorum-cluster=lab-os"


class Catalog:
    def __init__(self, types):
        self.types = types

    def get_endpoints(self):
        return dict((t, []) for t in self.types)


class Access:
    project_id = "p1"
    project_name = "quorum"
    user_id = "u1"

    def __init__(self, types=("compute", "network", "image", "identity")):
        self.service_catalog = Catalog(types)


class Taggable(NS):
    pass


class FakeNetwork:
    def __init__(self, world):
        self.world = world
        self.set_tags_calls = []

    def _filter(self, kind, **query):
        items = self.world[kind]
        for key, value in query.items():
            if key == "fixed_ips":
                address = value[0].split("=", 1)[1]
                items = [i for i in items if any(ip["ip_address"] == address for ip in i.fixed_ips)]
            else:
                items = [i for i in items if getattr(i, key, None) == value]
        return iter(items)

    def ports(self, **query):
        return self._filter("ports", **query)

    def ips(self, **query):
        return self._filter("ips", **query)

    def networks(self, **query):
        return self._filter("networks", **query)

    def subnets(self, **query):
        return self._filter("subnets", **query)

    def routers(self, **query):
        return self._filter("routers", **query)

    def security_groups(self, **query):
        return self._filter("security_groups", **query)

    def find_network(self, name, ignore_missing=True):
        found = [n for n in self.world["networks"] if name in (n.name, n.id)]
        return found[0] if found else None

    def get_router(self, rid):
        found = [r for r in self.world["routers"] if r.id == rid]
        if not found:
            raise RuntimeError("404 router %s" % rid)
        return found[0]

    def get_port(self, pid):
        return [p for p in self.world["ports"] if p.id == pid][0]

    def get_network(self, nid):
        return [n for n in self.world["networks"] if n.id == nid][0]

    def set_tags(self, resource, tags):
        self.set_tags_calls.append((resource.id, list(tags)))
        resource.tags = list(tags)
        return resource

    def get_quota(self, project, details=False):
        if self.world.get("quota_forbidden"):
            raise RuntimeError("403 Forbidden")
        return NS(floating_ips={"limit": 50, "used": 3, "reserved": 0}, ports={"limit": 500, "used": 9},
                  security_groups={"limit": 10, "used": 1}, security_group_rules=None, networks=None, subnets=None,
                  routers=None)


class FakeCompute:
    def __init__(self, world):
        self.world = world

    def servers(self, details=True):
        return iter(self.world["servers"])

    def server_groups(self):
        return iter(self.world["server_groups"])

    def keypairs(self):
        return iter(self.world["keypairs"])

    def find_keypair(self, name, ignore_missing=True):
        found = [k for k in self.world["keypairs"] if k.name == name]
        return found[0] if found else None

    def find_flavor(self, name, ignore_missing=True):
        found = [f for f in self.world["flavors"] if name in (f.name, f.id)]
        return found[0] if found else None

    def get_limits(self):
        return NS(absolute=NS(instances=10, instances_used=2, total_cores=20, total_cores_used=4, total_ram=51200,
                              total_ram_used=2048, server_groups=10, server_groups_used=0, server_group_members=10))


class FakeImage:
    def __init__(self, world):
        self.world = world

    def images(self, name=None):
        return iter([i for i in self.world["images"] if i.name == name])

    def find_image(self, name, ignore_missing=True):
        found = [i for i in self.world["images"] if i.id == name]
        return found[0] if found else None


class FakeConn:
    def __init__(self, world, auth_error=None, types=("compute", "network", "image", "identity")):
        self.world = world
        self.auth_error = auth_error
        self.network = FakeNetwork(world)
        self.compute = FakeCompute(world)
        self.image = FakeImage(world)
        access = Access(types)
        self.session = NS(auth=NS(get_access=lambda session: access))

    def authorize(self):
        if self.auth_error:
            raise RuntimeError(self.auth_error)
        return "token"


def world():
    return {
        "flavors": [NS(id="f1", name="lab.small", vcpus=1, ram=1024, disk=10)],
        "images": [NS(id="i1", name="debian-lab", status="active", min_disk=0, min_ram=0)],
        "networks": [NS(id="ext", name="public", is_router_external=True, is_shared=True, project_id="admin",
                        tags=[], is_port_security_enabled=True),
                     NS(id="net", name="lab-os-net", is_router_external=False, is_shared=False, project_id="p1",
                        tags=[TAG], is_port_security_enabled=True),
                     NS(id="other", name="other-net", is_router_external=False, is_shared=False, project_id="p1",
                        tags=[], is_port_security_enabled=True)],
        "subnets": [NS(id="sub", name="lab-os-subnet", network_id="net", cidr="10.20.0.0/24", gateway_ip="10.20.0.1",
                       allocation_pools=[], tags=[], project_id="p1")],
        "routers": [NS(id="r1", name="lab-os-router", tags=[TAG], project_id="p1",
                       external_gateway_info={"network_id": "ext"})],
        "ports": [
            Taggable(id="pv", name="lab-os-vip", network_id="net", project_id="p1", mac_address="fa:16:3e:00:00:01",
                     fixed_ips=[{"subnet_id": "sub", "ip_address": "10.20.0.10"}], allowed_address_pairs=[],
                     security_group_ids=["sgf"], is_port_security_enabled=True, device_id="", device_owner="",
                     tags=[], description="vip"),
            Taggable(id="pri", name="", network_id="net", project_id="p1", mac_address="fa:16:3e:00:00:02",
                     fixed_ips=[{"subnet_id": "sub", "ip_address": "10.20.0.1"}], allowed_address_pairs=[],
                     security_group_ids=[], is_port_security_enabled=False, device_id="r1",
                     device_owner="network:router_interface", tags=[], description=""),
            Taggable(id="pz", name="lab-os-cp-1", network_id="net", project_id="p2", mac_address="m", fixed_ips=[],
                     allowed_address_pairs=[], security_group_ids=[], is_port_security_enabled=True, device_id="",
                     device_owner="", tags=[], description=""),
        ],
        "ips": [NS(id="fip1", floating_ip_address="203.0.113.20", fixed_ip_address="10.20.0.10", port_id="pv",
                   floating_network_id="ext", description="lab-os-vip", tags=[TAG], project_id="p1"),
                NS(id="fip2", floating_ip_address="203.0.113.99", fixed_ip_address=None, port_id=None,
                   floating_network_id="ext", description="", tags=[], project_id="p1")],
        "security_groups": [NS(id="sgf", name="lab-os-frontend", tags=[], description="", project_id="p1",
                               security_group_rules=[{"id": "r", "direction": "ingress", "protocol": "vrrp",
                                                      "remote_group_id": "sgf", "ethertype": "IPv4"}]),
                            NS(id="sgd", name="default", tags=[], description="", project_id="p1",
                               security_group_rules=[])],
        "servers": [NS(id="s1", name="lab-os-cp-1", status="ACTIVE", metadata={"quorum_cluster": "lab-os"},
                       fault=None, flavor={"vcpus": 2}),
                    NS(id="s2", name="lab-os-other", status="ACTIVE", metadata={}, fault=None, flavor={}),
                    NS(id="s3", name="renamed", status="ACTIVE", metadata={"quorum_cluster": "lab-os"}, fault=None,
                       flavor={})],
        "server_groups": [NS(id="g1", name="lab-os-control-plane", policy=None, policies=["anti-affinity"],
                             member_ids=["s1"])],
        "keypairs": [NS(name="lab-os-key", fingerprint="aa:bb"), NS(name="mine", fingerprint="cc")],
    }


def authed(w=None, **kw):
    cloud = Cloud(FakeConn(w or world(), **kw), "quorum-lab")
    cloud.authenticate()
    return cloud


def test_authentication_names_the_cloud():
    with pytest.raises(OpenStackAuthError) as info:
        Cloud(FakeConn(world(), auth_error="The request you have made requires authentication. (HTTP 401)"),
              "quorum-lab").authenticate()
    assert str(info.value).startswith("cloud 'quorum-lab': authentication failed: The request you have made")


def test_authentication_result_and_catalog():
    cloud = Cloud(FakeConn(world()), "quorum-lab")
    auth = cloud.authenticate()
    assert auth == {"ok": True, "cloud_label": "cloud 'quorum-lab'", "project_id": "p1", "project_name": "quorum",
                    "user_id": "u1"}
    assert cloud.services() == {"types": ["compute", "identity", "image", "network"], "block_storage": False}
    assert authed(types=("compute", "volumev3")).services()["block_storage"] is True


def test_lookups():
    cloud = authed()
    assert cloud.flavors(["lab.small", "nope"]) == {"lab.small": {"id": "f1", "name": "lab.small", "vcpus": 1,
                                                                  "ram": 1024, "disk": 10}}
    assert cloud.images(["debian-lab", "i1", "nope"])["debian-lab"]["count"] == 1
    assert "i1" in cloud.images(["i1"])
    nets = cloud.networks(["public", "lab-os-net", "nope"])
    assert set(nets) == {"public", "lab-os-net"} and nets["public"]["external"] is True
    assert nets["lab-os-net"]["subnets"] == [{"id": "sub", "name": "lab-os-subnet", "cidr": "10.20.0.0/24",
                                              "gateway_ip": "10.20.0.1", "routed_to": ["ext"]}]
    assert cloud.address_holders("lab-os-net", "10.20.0.10") == [{"id": "pv", "name": "lab-os-vip"}]
    assert cloud.address_holders("nope", "10.20.0.10") == []
    assert cloud.keypair("mine") == {"name": "mine", "fingerprint": "cc"} and cloud.keypair("x") is None


def test_limits_and_an_unreadable_quota():
    limits = authed().limits()
    assert limits["compute"]["instances"] == {"limit": 10, "used": 2}
    assert limits["compute"]["server_group_members"] == {"limit": 10}
    assert limits["network"]["floating_ips"] == {"limit": 50, "used": 3}
    assert "security_group_rules" not in limits["network"] and limits["unreadable"] == []
    w = world()
    w["quota_forbidden"] = True
    limits = authed(w).limits()
    assert limits["network"] == {} and limits["unreadable"][0].startswith("network quota: 403")


def test_the_cluster_is_what_carries_its_tag_metadata_or_names():
    found = authed().cluster("lab-os")
    assert [s["name"] for s in found["servers"]] == ["lab-os-cp-1", "renamed"]
    assert [p["name"] for p in found["ports"]] == ["lab-os-vip"]  # not the router's, not another project's
    assert [f["id"] for f in found["floating_ips"]] == ["fip1"]
    assert [n["name"] for n in found["networks"]] == ["lab-os-net"]
    assert [r["interfaces"] for r in found["routers"]] == [[{"port_id": "pri", "subnet_id": "sub"}]]
    assert [g["name"] for g in found["security_groups"]] == ["lab-os-frontend"]
    assert found["security_groups"][0]["rules"][0]["protocol"] == "vrrp"
    assert found["server_groups"] == [{"id": "g1", "name": "lab-os-control-plane", "policy": "anti-affinity",
                                       "member_ids": ["s1"]}]
    assert found["keypairs"] == [{"id": "lab-os-key", "name": "lab-os-key", "fingerprint": "aa:bb"}]


def test_wait_servers_returns_when_active_fails_on_error_and_times_out():
    cloud = authed()
    cloud.wait_servers("lab-os", ["lab-os-cp-1"], 10, sleep=lambda s: None)
    w = world()
    w["servers"][0].status = "ERROR"
    w["servers"][0].fault = {"message": "No valid host was found."}
    with pytest.raises(OpenStackAPIError, match="server lab-os-cp-1: ERROR \\(No valid host was found.\\)"):
        authed(w).wait_servers("lab-os", ["lab-os-cp-1"], 10, sleep=lambda s: None)
    ticks = iter(range(100))
    with pytest.raises(OpenStackTimeoutError, match="lab-os-cp-9 \\(missing\\)"):
        authed().wait_servers("lab-os", ["lab-os-cp-1", "lab-os-cp-9"], 3, clock=lambda: next(ticks),
                              sleep=lambda s: None)


def test_tag_adds_only_what_is_missing_and_check_mode_writes_nothing():
    w = world()
    cloud = authed(w)
    assert cloud.tag("port", "pv", [TAG], check_mode=True) == (True, [], [TAG])
    assert cloud.conn.network.set_tags_calls == []
    assert cloud.tag("port", "pv", [TAG]) == (True, [], [TAG])
    assert cloud.conn.network.set_tags_calls == [("pv", [TAG])]
    assert cloud.tag("port", "pv", [TAG]) == (False, [TAG], [TAG])
    assert cloud.tag("network", "net", [TAG]) == (False, [TAG], [TAG])
