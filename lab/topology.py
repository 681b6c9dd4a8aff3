"""Named topologies: which VMs, their groups, addresses and sizes (pure logic)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import Any

from lab import config

# kind -> (inventory group or None, size role, first host octet): node N of a kind gets host
# octet first + N and is named "<kind>-N", or "<NAME_PREFIX[kind]>-N".
KINDS: dict[str, tuple[str | None, str, int]] = {
    "fe": ("frontend", "frontend", 10),
    "cp": ("control_plane", "control_plane", 20),
    "be": ("control_plane", "backend", 20),  # frontend scenario: small stand-ins for control planes
    "etcd": ("etcd", "etcd", 30),
    "spare": ("etcd_spare", "etcd", 38),
    "worker": ("worker", "worker", 40),
    "meta": ("meta_worker", "meta_worker", 50),
    "node": ("nodes", "node", 60),
    # the workers of `large`: worker-1 is 10.231.0.100, worker-150 10.231.0.249, the last host
    # address below the API VIP (the others' worker range, .41-.49, holds nine)
    "many": ("worker", "worker", 99),
}
NAME_PREFIX = {"many": "worker"}

# topology -> (etcd topology, [(kind, count)], description)
TOPOLOGIES: dict[str, tuple[str, list[tuple[str, int]], str]] = {
    "single": ("stacked", [("node", 1)], "1 plain VM (group nodes): quick checks, boot figures"),
    "smoke": ("stacked", [("node", 3)], "3 plain VMs (group nodes)"),
    # Every node class once: the cluster `make test` builds from a freshly made image (cluster_minimal).
    "minimal": (
        "stacked",
        [("fe", 1), ("cp", 1), ("worker", 1), ("meta", 1)],
        "1 frontend, 1 control plane, 1 worker, 1 meta-worker",
    ),
    "frontend": ("stacked", [("fe", 2), ("be", 3)], "2 frontends + 3 small backends (group control_plane)"),
    # 3 frontends prove the derived VRRP priorities beyond two; 2 backends are enough behind them.
    "frontend3": ("stacked", [("fe", 3), ("be", 2)], "3 frontends + 2 small backends (group control_plane)"),
    "etcd": ("external", [("etcd", 3), ("spare", 1)], "3 etcd + 1 spare (group etcd_spare)"),
    "stacked": (
        "stacked",
        [("fe", 2), ("cp", 3), ("worker", 1), ("meta", 1)],
        "2 frontends, 3 control planes (stacked etcd), 1 worker, 1 meta-worker",
    ),
    # Day 2 (molecule/lifecycle): the scenario's inventories use a subset and grow and shrink within it.
    "lifecycle": (
        "stacked",
        [("fe", 3), ("cp", 5), ("worker", 2)],
        "3 frontends, 5 control planes, 2 workers: room for scale.yml and remove_node.yml",
    ),
    "external": (
        "external",
        [("fe", 2), ("etcd", 3), ("cp", 3), ("worker", 1), ("meta", 1)],
        "stacked + 3 external etcd",
    ),
    # Scale (scripts/bench.py, docs/performance.md): the count of "many" comes from --workers.
    "large": (
        "stacked",
        [("fe", 2), ("cp", 3), ("many", 0)],
        "2 frontends, 3 control planes (stacked etcd), N workers (--workers N)",
    ),
    # The provisioning playbooks' cloud (molecule/openstack): the lab's OpenStack alone.
    "openstack": ("stacked", [], "the lab's OpenStack (keystone, glance, placement, nova fake driver, neutron), no nodes"),
}

# Topologies that also start the lab's OpenStack (lab/openstack.py) as a node named "openstack".
WITH_OPENSTACK = frozenset({"openstack"})

# Topologies whose worker count is chosen at `lab up TOPOLOGY --workers N`:
# topology -> (the kind whose count it is, the count without --workers)
VARIABLE_WORKERS: dict[str, tuple[str, int]] = {"large": ("many", 3)}

CONTRACT_GROUPS = ("frontend", "control_plane", "etcd", "meta_worker", "worker")

BACKENDS = ("qemu", "nspawn")
# Kubernetes clusters run on systemd-nspawn nodes by default: under software emulation two
# control planes could not keep etcd steady on 2 host cores (docs/cluster.md). The other
# topologies keep QEMU VMs, on which their scenarios were proven.
NSPAWN_TOPOLOGIES = ("minimal", "stacked", "lifecycle", "external", "large", "openstack")


def backend(topology: str, env: dict[str, str] | None = None) -> str:
    """qemu or nspawn: QUORUM_LAB_BACKEND, else the topology's default."""
    env = os.environ if env is None else env
    chosen = env.get("QUORUM_LAB_BACKEND") or ("nspawn" if topology in NSPAWN_TOPOLOGIES else "qemu")
    if chosen not in BACKENDS:
        raise config.LabError(f"QUORUM_LAB_BACKEND={chosen!r}: use one of {', '.join(BACKENDS)}")
    return chosen


@dataclass(frozen=True)
class Node:
    name: str
    group: str
    size_role: str
    ip: str
    mac: str
    tap: str
    size: config.Size


def max_workers(topology: str) -> int:
    """The most workers ``topology`` takes: its worker kind's addresses end below the API VIP."""
    kind = VARIABLE_WORKERS[topology][0]
    net = ipaddress.ip_network(config.NODE_CIDR)
    return int(ipaddress.ip_address(config.API_VIP)) - int(net.network_address) - 1 - KINDS[kind][2]


def worker_count(topology: str, workers: int | None) -> int | None:
    """The worker count of ``topology`` (None for a topology of fixed size): ``workers``, else its
    default; LabError for a count out of range, or any count for a topology of fixed size."""
    if topology not in TOPOLOGIES:
        raise config.LabError(f"unknown topology {topology!r}: choose one of {', '.join(TOPOLOGIES)}")
    if topology not in VARIABLE_WORKERS:
        if workers is not None:
            raise config.LabError(f"topology {topology!r} has a fixed size: --workers is for "
                                  f"{', '.join(VARIABLE_WORKERS)}")
        return None
    count = VARIABLE_WORKERS[topology][1] if workers is None else workers
    most = max_workers(topology)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= most:
        raise config.LabError(f"--workers {count}: topology {topology!r} takes 1 to {most} workers "
                              f"(their addresses end below the API VIP {config.API_VIP})")
    return count


def nodes(topology: str, env: dict[str, str] | None = None, workers: int | None = None) -> list[Node]:
    """The VMs of ``topology`` in boot order (``workers``: the count of a topology of
    VARIABLE_WORKERS; its default without it)."""
    if topology not in TOPOLOGIES:
        raise config.LabError(f"unknown topology {topology!r}: choose one of {', '.join(TOPOLOGIES)}")
    count_of = worker_count(topology, workers)
    kinds = [(kind, count_of if topology in VARIABLE_WORKERS and kind == VARIABLE_WORKERS[topology][0] else count)
             for kind, count in TOPOLOGIES[topology][1]]
    result = [node for kind, count in kinds for node in kind_nodes(kind, count, env)]
    check_addresses(result)
    return result


def kind_nodes(kind: str, count: int, env: dict[str, str] | None = None) -> list[Node]:
    """Nodes 1..``count`` of ``kind`` (unchecked: nodes() checks the addresses of a topology)."""
    net = ipaddress.ip_network(config.NODE_CIDR)
    group, size_role, first = KINDS[kind]
    result = []
    for index in range(1, count + 1):
        octet = first + index
        name = f"{NAME_PREFIX.get(kind, kind)}-{index}"
        result.append(
            Node(
                name=name,
                group=group or "",
                size_role=size_role,
                ip=str(net.network_address + octet),
                mac=f"52:54:00:e7:00:{octet:02x}",
                tap=f"qt-{name}",
                size=config.role_size(size_role, env),
            )
        )
    return result


def state_nodes(st: dict[str, Any], env: dict[str, str] | None = None) -> list[Node]:
    """The nodes of a lab's state file: its topology, with the worker count it was booted with."""
    return nodes(st["topology"], env, workers=st.get("workers"))


def check_addresses(node_list: list[Node]) -> None:
    """Every address inside the node network, unique, and never the gateway or the VIP."""
    net = ipaddress.ip_network(config.NODE_CIDR)
    seen: set[str] = set()
    for node in node_list:
        addr = ipaddress.ip_address(node.ip)
        if addr not in net or addr in (net.network_address, net.broadcast_address):
            raise config.LabError(f"{node.name}: {node.ip} is not a host address of {net}")
        if node.ip in (config.GATEWAY, config.API_VIP):
            raise config.LabError(f"{node.name}: {node.ip} is reserved (gateway or API VIP)")
        if node.ip in seen:
            raise config.LabError(f"{node.name}: address {node.ip} used twice")
        if len(node.tap) > 15:
            raise config.LabError(f"{node.name}: tap name {node.tap} longer than 15 characters")
        seen.add(node.ip)


def etcd_topology(topology: str) -> str:
    return TOPOLOGIES[topology][0]


def memory_needed_mib(node_list: list[Node]) -> int:
    return sum(n.size.memory_mib for n in node_list)


def jump_hosts(node_list: list[Node], node: Node) -> list[str]:
    """The frontends' addresses, through which SSH reaches ``node`` when the host firewall is on
    (none for a frontend, or in a topology without frontends)."""
    if node.group == "frontend":
        return []
    return [n.ip for n in node_list if n.group == "frontend"]
