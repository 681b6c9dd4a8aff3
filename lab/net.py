"""The lab's network namespace: a bridge with the gateway address and one tap per VM.

The namespace has no link to the host's network: the VMs reach each other, the
mirror and OpenBao (both on the bridge address) and nothing else.
"""

from __future__ import annotations

import os
from pathlib import Path

from lab import config
from lab.util import run

NETNS_DIR = Path("/run/netns")


def exists(ns: str) -> bool:
    return (NETNS_DIR / ns).exists()


def inside(ns: str) -> bool:
    """True when this process already lives in namespace ``ns``."""
    try:
        mine = os.stat("/proc/self/ns/net")
        theirs = os.stat(NETNS_DIR / ns)
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino)


def in_host_netns() -> bool:
    """True when this process shares PID 1's network namespace (where the registries are). Where
    PID 1's cannot be read (some machines hide it), True unless it is one of the named namespaces
    under /run/netns, which the lab's scripts create and which have no way out."""
    try:
        mine = os.stat("/proc/self/ns/net")
    except OSError:
        return True
    try:
        init = os.stat("/proc/1/ns/net")
    except OSError:
        return not any(inside(entry.name) for entry in _named_netns())
    return (mine.st_dev, mine.st_ino) == (init.st_dev, init.st_ino)


def _named_netns() -> list[Path]:
    try:
        return list(NETNS_DIR.iterdir())
    except OSError:
        return []


def ns_cmd(ns: str, cmd: list[str]) -> list[str]:
    """``cmd`` run inside ``ns``. nsenter, not ``ip netns exec``: that one also remounts /sys, which
    hides the cgroup hierarchies the lab's systemd-nspawn nodes are started and managed with."""
    return ["nsenter", f"--net={NETNS_DIR / ns}", "--", *cmd]


def ensure(ns: str) -> None:
    """Namespace with loopback and the bridge up (idempotent)."""
    if not exists(ns):
        run(["ip", "netns", "add", ns], quiet=True)
    run(["ip", "-n", ns, "link", "set", "lo", "up"], quiet=True)
    links = run(["ip", "-n", ns, "-o", "link", "show"], capture=True).stdout
    if f": {config.BRIDGE}:" not in links:
        run(["ip", "-n", ns, "link", "add", config.BRIDGE, "type", "bridge"], quiet=True)
    addrs = run(["ip", "-n", ns, "-o", "addr", "show", "dev", config.BRIDGE], capture=True).stdout
    if f"{config.GATEWAY}/{config.PREFIXLEN}" not in addrs:
        run(["ip", "-n", ns, "addr", "add", f"{config.GATEWAY}/{config.PREFIXLEN}", "dev", config.BRIDGE], quiet=True)
    run(["ip", "-n", ns, "link", "set", config.BRIDGE, "up"], quiet=True)


def add_tap(ns: str, tap: str) -> None:
    links = run(["ip", "-n", ns, "-o", "link", "show"], capture=True).stdout
    if f": {tap}:" in links:
        run(["ip", "-n", ns, "link", "del", tap], quiet=True)
    run(["ip", "-n", ns, "tuntap", "add", "dev", tap, "mode", "tap"], quiet=True)
    run(["ip", "-n", ns, "link", "set", tap, "master", config.BRIDGE], quiet=True)
    run(["ip", "-n", ns, "link", "set", tap, "up"], quiet=True)


def taps(ns: str) -> list[str]:
    if not exists(ns):
        return []
    out = run(["ip", "-n", ns, "-o", "link", "show"], capture=True, check=False).stdout
    names = []
    for line in out.splitlines():
        parts = line.split(":", 2)
        if len(parts) >= 2:
            name = parts[1].strip().split("@")[0]
            if name.startswith("qt-"):
                names.append(name)
    return names


def delete_taps(ns: str) -> None:
    for tap in taps(ns):
        run(["ip", "-n", ns, "link", "del", tap], check=False, quiet=True)


def delete(ns: str) -> None:
    """Remove the namespace (its bridge and taps go with it)."""
    if exists(ns):
        delete_taps(ns)
        run(["ip", "netns", "del", ns], check=False, quiet=True)
