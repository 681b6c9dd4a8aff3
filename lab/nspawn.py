"""The systemd-nspawn backend (lab/backend.py): each node a container at native speed.

Why: under software emulation two control planes cannot keep a two-voter etcd steady on
2 host cores (docs/cluster.md). A container runs the same Debian userland as the VM image,
with its own systemd, network namespace (a veth on the lab bridge), cgroup namespace and
root directory, behind the same `lab` commands (up, kill, start, ssh, down).

What a node needs beyond nspawn's defaults (measured on this host, docs/lab.md):
- a cgroup of its own in every v1 hierarchy (the launcher moves itself there before nspawn
  starts), so nspawn's cgroup namespace roots the node there;
- its cgroup controllers writable: nspawn mounts them read-only; the guest unit
  lab-nspawn.service remounts them read-write inside the node's cgroup namespace;
- the host's /dev/kmsg read-only (kubelet reads it), the kubelet's kernel sysctls already set on the host
  (kernel.* and vm.* are global and read-only in the node; the lab sets and restores them);
- kubelet and containerd on the cgroupfs driver (inventory vars), no kernel module loading.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

from lab import config, image, net
from lab.topology import Node
from lab.util import file_lock, log, pid_cmdline, put_file, run
from mirror_builder.common import write_atomic

NSPAWN = "systemd-nspawn"
GUEST_DIR = image.GUEST_DIR / "nspawn"

NAME, LABEL, UNIT = "nspawn", "systemd-nspawn", "node"
TOOLS = (NSPAWN, "nsenter", "mount")

# v1 hierarchies a node gets a cgroup in ("unified" too: nspawn places its payload by it).
HIERARCHIES = ("cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd", "unified")
CGROUP_FS = Path("/sys/fs/cgroup")

# The values kubelet writes at start when they differ (pkg/kubelet/cm setupKernelTunables).
KUBELET_HOST_SYSCTLS = {"vm/overcommit_memory": "1", "kernel/panic": "10", "kernel/panic_on_oops": "1"}
# Raised, never lowered: the nodes' systemd, containerd and kubelet all take inotify instances from
# the host's per-user limit (128 by default); at 10 nodes a joining kubelet failed to start
# cAdvisor ("inotify_init: too many open files") and exited in a loop.
# The neighbour (ARP) table's limits are the initial namespace's and count every namespace's
# entries: each node holds one per other node (kube-router routes pods via the nodes' addresses),
# so n nodes need about n squared. At the default hard limit of 1024, with 36 nodes, the kernel
# dropped new entries ("neighbor table overflow"): BGP sessions stayed down and site.yml's route
# wait failed. 32768 holds the largest topology (155 nodes: about 24000).
HOST_SYSCTL_MINIMUMS = {"fs/inotify/max_user_instances": 8192, "fs/inotify/max_user_watches": 524288,
                        "net/ipv4/neigh/default/gc_thresh2": 16384,
                        "net/ipv4/neigh/default/gc_thresh3": 32768}

# Inventory variables of nodes that are containers (lab/inventory.py).
INVENTORY_VARS: dict[str, Any] = {
    "container_runtime_cgroup_driver": "cgroupfs",
    "control_plane_kubelet_cgroup_driver": "cgroupfs",
    # the host kernel has overlay and br_netfilter built in, and a container cannot load modules
    "container_runtime_kernel_modules": [],
    # this host's processes lack CAP_SYS_RESOURCE: kubelet's -997 for static pods would fail in runc
    "container_runtime_restrict_oom_score_adj": True,
    # HAProxy asks for about 2 file descriptors per connection; the nodes inherit the host's hard
    # limit (20000 here) and cannot raise it without CAP_SYS_RESOURCE
    "frontend_haproxy_maxconn": 4000,
    # the kernel's process events reach listeners in the initial network namespace only: keepalived's
    # vrrp_track_process would never see haproxy and keep the frontend in FAULT
    "frontend_keepalived_track_process": False,
    # nf_conntrack_max is the host's: only the initial network namespace may write it
    "control_plane_kube_proxy_config": {"conntrack": {"maxPerCore": 0}},
    # every node's kubelet sees the host's one disk: at 85 % used each would delete images the offline
    # lab cannot pull again, and evict pods at 85-90 %; the host's free space is the lab's concern
    "control_plane_kubelet_config": {
        "imageGCHighThresholdPercent": 100,
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "nodefs.inodesFree": "1%",
                         "imagefs.available": "1%", "imagefs.inodesFree": "1%"},
    },
    # the host is cgroup v1: kubelet 1.35+ and kubeadm's preflight refuse it unless told
    "control_plane_kubelet_fail_cgroup_v1": False,
    "control_plane_ignore_preflight_errors": ["SystemVerification"],
    "worker_ignore_preflight_errors": ["SystemVerification"],
    # the cluster topologies run with the host firewall: nodes take SSH from the frontends only
    # (the inventory reaches them through one, lab/inventory.py), the frontends from this host
    "quorum_firewall": True,
    "quorum_admin_cidr": f"{config.GATEWAY}/32",
    # a frontend killed under a persistent SSH connection breaks it: Ansible connects again
    "ansible_ssh_retries": 3,
}


def cgroup_path(instance: str, name: str) -> str:
    return f"/quorum-lab-{instance}/{name}"


def rootfs(img: image.Image) -> Path:
    """The image's root as a directory (made once from base.qcow2 through a read-only loop mount)."""
    root = img.directory / "rootfs"
    if (root / "etc" / "os-release").exists():
        return root
    with file_lock(img.directory / ".rootfs.lock", "the nspawn root directory"):
        if (root / "etc" / "os-release").exists():
            return root
        work = img.directory / ".rootfs-build"
        if work.exists():
            shutil.rmtree(work)
        (work / "mnt").mkdir(parents=True)
        raw = work / "root.raw"
        run(["qemu-img", "convert", "-O", "raw", str(img.base), str(raw)], quiet=True)
        run(["mount", "-o", "loop,ro", str(raw), str(work / "mnt")], quiet=True)
        try:
            run(["cp", "-a", f"{work / 'mnt'}/.", str(work / "root")], quiet=True)
        finally:
            run(["umount", str(work / "mnt")], quiet=True)
        (work / "root").rename(root)
        shutil.rmtree(work)
        log(f"nspawn root directory made from {img.base.name} at {root}")
    return root


def network_file(node: Node) -> str:
    return (
        "[Match]\nName=host0\n\n"
        f"[Network]\nAddress={node.ip}/{config.PREFIXLEN}\nGateway={config.GATEWAY}\n"
        "LinkLocalAddressing=no\nIPv6AcceptRA=no\n"
    )


def prepare_root(base: Path, node_dir: Path, node: Node, authorized_key: str) -> Path:
    """A fresh copy of the image root with the node's identity (what lab-identity does on a VM)."""
    root = node_dir / "root"
    if root.exists():
        shutil.rmtree(root)
    node_dir.mkdir(parents=True, exist_ok=True)
    run(["cp", "-a", f"{base}/.", str(root)], quiet=True)

    def put(rel: str, text: str, mode: int = 0o644) -> None:
        put_file(root, rel, text, mode)

    put("etc/hostname", node.name + "\n")
    (root / "root/.ssh").mkdir(mode=0o700, exist_ok=True)
    put("root/.ssh/authorized_keys", authorized_key.strip() + "\n", 0o600)
    put("etc/systemd/network/10-lab-host0.network", network_file(node))
    put("etc/fstab", "# the lab's nspawn node: its root is a directory on the host\n")
    put("etc/systemd/system/lab-nspawn.service", (GUEST_DIR / "lab-nspawn.service").read_text())
    put("usr/local/sbin/lab-nspawn", (GUEST_DIR / "lab-nspawn").read_text(), 0o755)
    wants = root / "etc/systemd/system/sysinit.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    link = wants / "lab-nspawn.service"
    if not link.is_symlink():
        link.symlink_to("/etc/systemd/system/lab-nspawn.service")
    for unit in ("systemd-remount-fs.service", "systemd-network-generator.service", "lab-identity.service"):
        mask = root / "etc/systemd/system" / unit
        mask.unlink(missing_ok=True)
        mask.symlink_to("/dev/null")
    for key_type in ("ed25519", "ecdsa"):
        run(["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", f"root@{node.name}",
             "-f", str(root / f"etc/ssh/ssh_host_{key_type}_key")], quiet=True)
    return root


def command(node: Node, *, root: Path, ns: str, bridge: str = config.BRIDGE) -> list[str]:
    """The node's nspawn command line, inside the lab's network namespace."""
    return net.ns_cmd(ns, [
        NSPAWN,
        "--quiet",
        f"--directory={root}",
        f"--machine={node.name}",
        "--boot",
        "--register=no",  # the host's PID 1 is not systemd: no machined to register with
        "--keep-unit",
        f"--network-bridge={bridge}",
        "--capability=all",  # containerd, runc and kube-proxy need the full set inside
        "--resolv-conf=off",
        "--timezone=off",
        "--link-journal=no",
        "--console=read-only",
        # kubelet's OOM watcher reads the kernel log. Read-only, so journald inside does not open
        # it (it wants read-write). A link to the console instead kept journald at 40 % of a core.
        "--bind-ro=/dev/kmsg",
    ])


def environment() -> dict[str, str]:
    return {
        **os.environ,
        "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "0",  # the host is cgroup v1 (hybrid)
        "SYSTEMD_SECCOMP": "0",  # runc needs system calls nspawn's filter refuses (keyctl, ...)
    }


def ensure_cgroups(instance: str, name: str) -> list[Path]:
    """The node's cgroup in every hierarchy (cpuset: the parent's CPUs and memory nodes)."""
    rel = cgroup_path(instance, name).lstrip("/")
    made = []
    for hierarchy in HIERARCHIES:
        top = CGROUP_FS / hierarchy
        if not top.is_dir():
            continue
        path = top / rel
        path.mkdir(parents=True, exist_ok=True)
        if hierarchy == "cpuset":
            for part in (path.parent, path):
                for knob in ("cpuset.cpus", "cpuset.mems"):
                    if not (part / knob).read_text().strip():
                        (part / knob).write_text((part.parent / knob).read_text())
        made.append(path)
    weigh_instance(instance)
    return made


# The kernel weighs a cgroup like one process beside it: at the default 1024 shares the whole lab
# weighed as much as one of the controller's processes, so with 20 busy Ansible forks the
# cluster's nodes could get as little as a twentieth of the CPU. Each node weighs one process instead.
SHARES_PER_NODE = 1024
MAX_SHARES = 262144


def weigh_instance(instance: str) -> None:
    """The instance's cpu.shares: SHARES_PER_NODE for each node cgroup in it (v1 cpu hierarchy)."""
    top = CGROUP_FS / "cpu" / cgroup_path(instance, "x").lstrip("/").rsplit("/", 1)[0]
    if not top.is_dir():
        return
    nodes = sum(1 for entry in top.iterdir() if entry.is_dir())
    (top / "cpu.shares").write_text(f"{min(MAX_SHARES, SHARES_PER_NODE * max(1, nodes))}\n")


def _instance_dirs(instance: str) -> list[Path]:
    rel = cgroup_path(instance, "x").lstrip("/").rsplit("/", 1)[0]
    return [CGROUP_FS / h / rel for h in HIERARCHIES if (CGROUP_FS / h / rel).is_dir()]


def cgroups_exist(instance: str) -> bool:
    return bool(_instance_dirs(instance))


def cgroup_pids(instance: str) -> set[int]:
    """Every process in the instance's cgroups (all of them the lab's nodes and what they run)."""
    found: set[int] = set()
    top = CGROUP_FS / "pids" / cgroup_path(instance, "x").lstrip("/").rsplit("/", 1)[0]
    for dirpath, _dirs, _files in os.walk(top):
        try:
            found.update(int(p) for p in (Path(dirpath) / "cgroup.procs").read_text().split())
        except OSError:
            continue
    return found


def kill_cgroup_processes(instance: str, timeout: float = 15.0) -> int:
    """SIGKILL what is left in the instance's cgroups (a node whose nspawn died first); count."""
    killed = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = cgroup_pids(instance)
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        time.sleep(0.2)
    return killed


def memory_mib(paths: config.Paths, name: str, pid: int) -> int | None:
    """What the node's memory cgroup holds."""
    try:
        usage = (CGROUP_FS / "memory" / cgroup_path(paths.instance, name).lstrip("/") / "memory.usage_in_bytes").read_text()
    except OSError:
        return None
    return int(usage) >> 20


def remove_cgroups(instance: str) -> None:
    """Remove the instance's cgroups bottom-up (only empty ones can go; leftovers are logged)."""
    left = []
    for top in _instance_dirs(instance):
        for dirpath, _dirs, _files in sorted(os.walk(top), key=lambda entry: -entry[0].count("/")):
            try:
                os.rmdir(dirpath)
            except OSError:
                left.append(dirpath)
    if left:
        log(f"cgroups still in use, kept: {', '.join(left[:5])}{' ...' if len(left) > 5 else ''}")


def launch(argv: list[str], cgroups: list[Path], console: Path) -> int:
    """Start nspawn detached, first moved into the node's cgroups; its PID."""
    targets = " ".join(str(c / "cgroup.procs") for c in cgroups)
    wrapper = ["sh", "-c", f'for f in {targets}; do echo $$ > "$f"; done; exec "$@"', "lab-nspawn", *argv]
    with console.open("ab") as out:
        proc = subprocess.Popen(["nice", "-n", "5", *wrapper], stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True, env=environment())
    return proc.pid


def owns(cmdline: list[str], paths: config.Paths, name: str | None = None) -> bool:
    """True for the nspawn of a node of this instance (``name``: of that node)."""
    if not cmdline or os.path.basename(cmdline[0]) != NSPAWN:
        return False
    prefix = f"--directory={paths.run}/vms/"
    for arg in cmdline:
        if arg.startswith(prefix):
            return name is None or arg == f"{prefix}{name}/root"
    return False


def power_cut_pid(nspawn_pid: int) -> int | None:
    """The node's PID 1 (nspawn's child), seen from the host: its SIGKILL ends every process of
    the node's PID namespace, and nspawn exits (SIGTERM to nspawn would wait for a shutdown)."""
    try:
        children = Path(f"/proc/{nspawn_pid}/task/{nspawn_pid}/children").read_text().split()
    except OSError:
        return None
    for child in children:
        if os.path.basename((pid_cmdline(int(child)) or [""])[0]) != NSPAWN:
            return int(child)
    return int(children[0]) if children else None


def set_host_sysctls(state: dict[str, Any]) -> None:
    """Set what kubelet would write (it cannot: kernel.* and vm.* are global); old values to state."""
    saved = state.setdefault("host_sysctls", {})
    for key, value in KUBELET_HOST_SYSCTLS.items():
        path = Path("/proc/sys") / key
        old = path.read_text().strip()
        if old != value:
            saved.setdefault(key, old)
            path.write_text(value)
            log(f"host sysctl {key.replace('/', '.')} {old} -> {value} (restored by 'lab down')")
    for key, minimum in HOST_SYSCTL_MINIMUMS.items():
        path = Path("/proc/sys") / key
        if not path.exists():  # the neighbour limits exist in the host's network namespace only
            log(f"host sysctl {key.replace('/', '.')} left alone: not in this network namespace")
            continue
        old = path.read_text().strip()
        if int(old) < minimum:
            saved.setdefault(key, old)
            path.write_text(str(minimum))
            log(f"host sysctl {key.replace('/', '.')} {old} -> {minimum} (restored by 'lab down')")


def restore_host_sysctls(state: dict[str, Any] | None) -> None:
    for key, old in ((state or {}).get("host_sysctls") or {}).items():
        try:
            (Path("/proc/sys") / key).write_text(old)
        except OSError as exc:
            log(f"could not restore host sysctl {key}: {exc}")


# ---------------------------------------------------------------- the Backend interface

def accel(paths: config.Paths, img: image.Image) -> str:
    return "native"


def prepare(img: image.Image, state: dict[str, Any]) -> None:
    rootfs(img)
    set_host_sysctls(state)


def boot(paths: config.Paths, ns: str, node: Node, img: image.Image, accel: str, pubkey: str) -> dict[str, Any]:
    """Boot ``node`` as a systemd-nspawn container on a fresh copy of the image root."""
    node_dir = paths.vm_dir(node.name)
    root = prepare_root(rootfs(img), node_dir, node, pubkey)
    console = node_dir / "console.log"
    console.unlink(missing_ok=True)
    argv = command(node, root=root, ns=ns)
    write_atomic(node_dir / "nspawn.cmd", " ".join(argv) + "\n")
    pid = launch(argv, ensure_cgroups(paths.instance, node.name), console)
    log(f"{node.name}: systemd-nspawn pid {pid}, {node.ip}")
    return {"pid": pid, "ip": node.ip, "memory_mib": node.size.memory_mib, "cpus": node.size.cpus, "backend": NAME}


def relaunch(paths: config.Paths, state: dict[str, Any], node: Node, ns: str) -> Callable[[], dict[str, Any]]:
    root = paths.vm_dir(node.name) / "root"
    if not (root / "etc").is_dir():
        raise config.LabError(f"{node.name}: its root {root} is gone; 'lab down' and 'lab up' build a new lab")
    console = paths.vm_dir(node.name) / "console.log"
    return lambda: {"pid": launch(command(node, root=root, ns=ns), ensure_cgroups(paths.instance, node.name), console)}


def clean_up(paths: config.Paths, state: dict[str, Any] | None) -> None:
    """What is left in the instance's cgroups (a node whose nspawn died first), the cgroups, the host sysctls."""
    if cgroups_exist(paths.instance):
        kill_cgroup_processes(paths.instance)
        remove_cgroups(paths.instance)
    restore_host_sysctls(state)
