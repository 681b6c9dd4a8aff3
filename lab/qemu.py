"""The QEMU backend (lab/backend.py): VMs booted from the image's kernel on copy-on-write
overlays, their command lines, the KVM probe."""

from __future__ import annotations

import base64
import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

from lab import config, image, net
from lab.topology import Node
from lab.util import log, run, tail
from mirror_builder.common import write_atomic

QEMU = "qemu-system-x86_64"
PROBE_SECONDS = 25

NAME, LABEL, UNIT = "qemu", "QEMU", "VM"
TOOLS = (QEMU,)

# Software-emulated guests run 10-35x slower than the host: upstream's etcd and leader-election
# timings make members and controllers flap there. These are the lab's values for QEMU VMs
# (docs/cluster.md); systemd-nspawn nodes run at native speed and keep upstream's.
INVENTORY_VARS: dict[str, Any] = {
    "control_plane_etcd_heartbeat_interval_ms": 500,
    "control_plane_etcd_election_timeout_ms": 5000,
    # external etcd members alone on their VMs: measured stable with 250/2500 (docs/etcd.md)
    "etcd_heartbeat_interval": 250,
    "etcd_election_timeout": 2500,
    # etcd logs a warning line per apply over 100 ms and per request over 300 ms: on these guests
    # that was 1.5 MB of JSON in 8 minutes on the first control plane, costing CPU it lacks.
    "control_plane_etcd_extra_args": {"warning-apply-duration": "2s", "warning-unary-request-duration": "5s"},
    "control_plane_leader_elect_lease_duration": "60s",
    "control_plane_leader_elect_renew_deadline": "40s",
    "control_plane_leader_elect_retry_period": "5s",
    "control_plane_node_status_update_frequency": "20s",
}


def marker(paths: config.Paths) -> str:
    """The -name prefix of this instance's QEMUs."""
    return f"qlab-{paths.instance}"


def kernel_cmdline(node: Node, authorized_key: str) -> str:
    """Identity of one VM: address, hostname and root's SSH key on the kernel command line."""
    key64 = base64.b64encode(authorized_key.strip().encode() + b"\n").decode()
    ip = f"ip={node.ip}::{config.GATEWAY}:{config.NETMASK}:{node.name}:eth0:off"
    return " ".join(
        [
            "root=/dev/vda",
            "rw",
            "console=ttyS0,115200",
            "net.ifnames=0",
            "panic=10",
            ip,
            f"systemd.hostname={node.name}",
            f"lab.sshkey={key64}",
            "quiet",
            "systemd.show_status=1",
        ]
    )


def accel_args(accel: str, size: config.Size, env: dict[str, str] | None = None) -> list[str]:
    env = os.environ if env is None else env
    if accel == "kvm":
        return ["-accel", "kvm", "-cpu", "host"]
    if accel == "tcg":
        cpu = env.get("QUORUM_LAB_TCG_CPU") or "max"
        return ["-accel", f"tcg,thread=multi,tb-size={size.tb_size_mib}", "-cpu", cpu]
    raise config.LabError(f"unknown accelerator {accel!r} (kvm or tcg)")


def command(
    node: Node,
    *,
    accel: str,
    kernel: Path,
    initrd: Path,
    disk: Path,
    console: Path,
    pidfile: Path,
    authorized_key: str,
    marker: str,
) -> list[str]:
    """The full qemu command line of one VM (daemonized; its PID lands in ``pidfile``)."""
    return [
        QEMU,
        "-name", f"{marker}:{node.name},process={marker}:{node.name}",
        "-machine", "q35",
        *accel_args(accel, node.size),
        "-smp", str(node.size.cpus),
        "-m", f"{node.size.memory_mib}M",
        "-nodefaults",
        "-display", "none",
        "-kernel", str(kernel),
        "-initrd", str(initrd),
        "-append", kernel_cmdline(node, authorized_key),
        "-drive", f"file={disk},if=virtio,format=qcow2,cache=unsafe,discard=unmap",
        "-netdev", f"tap,id=net0,ifname={node.tap},script=no,downscript=no",
        "-device", f"virtio-net-pci,netdev=net0,mac={node.mac}",
        "-device", "virtio-rng-pci",
        "-serial", f"file:{console}",
        "-no-reboot",
        "-daemonize",
        "-pidfile", str(pidfile),
    ]


def create_overlay(base: Path, overlay: Path) -> None:
    overlay.parent.mkdir(parents=True, exist_ok=True)
    overlay.unlink(missing_ok=True)
    run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(base), str(overlay)], quiet=True)


def choose_accel(home: Path, kernel: Path, env: dict[str, str] | None = None) -> str:
    """kvm only if a short probe boot of the lab kernel reaches userspace; else tcg (cached)."""
    env = os.environ if env is None else env
    forced = env.get("QUORUM_LAB_ACCEL")
    if forced:
        if forced not in ("kvm", "tcg"):
            raise config.LabError(f"QUORUM_LAB_ACCEL={forced!r}: use kvm or tcg")
        return forced
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    qemu_version = run([QEMU, "--version"], capture=True).stdout.splitlines()[0]
    probe_key = {"kernel": kernel.name, "kernel_size": kernel.stat().st_size, "host": platform.release(), "qemu": qemu_version}
    cache = home / "cache" / "kvm-probe.json"
    try:
        cached = json.loads(cache.read_text())
        if cached.get("key") == probe_key:
            return str(cached["accel"])
    except (OSError, json.JSONDecodeError, KeyError):
        pass
    accel = "kvm" if probe_kvm(kernel, cache.parent) else "tcg"
    write_atomic(cache, json.dumps({"key": probe_key, "accel": accel, "when": time.time()}))
    log(f"KVM probe: using {accel}")
    return accel


def probe_kvm(kernel: Path, workdir: Path, seconds: int = PROBE_SECONDS) -> bool:
    """Boot the kernel alone under KVM: a working KVM reaches the 'no root' panic within seconds."""
    workdir.mkdir(parents=True, exist_ok=True)
    console = workdir / "kvm-probe.log"
    console.unlink(missing_ok=True)
    cmd = [
        QEMU, "-machine", "q35", "-accel", "kvm", "-cpu", "host", "-m", "256M", "-nodefaults", "-display", "none",
        "-kernel", str(kernel), "-append", "console=ttyS0 panic=-1 root=/dev/nonexistent",
        "-serial", f"file:{console}", "-no-reboot",
    ]
    log(f"probing KVM with a {seconds} s kernel boot")
    errlog = workdir / "kvm-probe.stderr"
    with errlog.open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + seconds
    ok = False
    try:
        while time.monotonic() < deadline:
            text = console.read_text(errors="replace") if console.exists() else ""
            if "VFS:" in text or "Kernel panic" in text or "Run /init" in text:
                ok = True
                break
            if proc.poll() is not None:
                break
            time.sleep(0.5)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    if not ok:
        log("KVM probe failed: " + (tail(errlog, 3) + "\n" + tail(console, 5)).strip())
    return ok


# ---------------------------------------------------------------- the Backend interface

def accel(paths: config.Paths, img: image.Image) -> str:
    return choose_accel(paths.home, img.kernel)


def prepare(img: image.Image, state: dict[str, Any]) -> None:
    """Nothing on the host: each VM gets its tap when it boots."""


def _argv(paths: config.Paths, node: Node, accel: str, img: image.Image, pubkey: str) -> list[str]:
    vm_dir = paths.vm_dir(node.name)
    return command(node, accel=accel, kernel=img.kernel, initrd=img.initrd, disk=vm_dir / "disk.qcow2",
                   console=vm_dir / "console.log", pidfile=vm_dir / "qemu.pid", authorized_key=pubkey,
                   marker=marker(paths))


def _launch(ns: str, node: Node, argv: list[str]) -> int:
    """Run ``argv`` (daemonizing) inside the namespace on the node's tap; QEMU's PID."""
    pidfile = pidfile_of(argv)
    pidfile.unlink(missing_ok=True)
    net.add_tap(ns, node.tap)
    run(["nice", "-n", "5", *net.ns_cmd(ns, argv)], quiet=True)
    return int(pidfile.read_text().strip())


def boot(paths: config.Paths, ns: str, node: Node, img: image.Image, accel: str, pubkey: str) -> dict[str, Any]:
    vm_dir = paths.vm_dir(node.name)
    vm_dir.mkdir(parents=True, exist_ok=True)
    (vm_dir / "console.log").unlink(missing_ok=True)
    create_overlay(img.base, vm_dir / "disk.qcow2")
    argv = _argv(paths, node, accel, img, pubkey)
    (vm_dir / "qemu.cmd").write_text(" ".join(argv) + "\n")
    pid = _launch(ns, node, argv)
    log(f"{node.name}: qemu pid {pid}, {node.size.memory_mib} MiB, {node.size.cpus} vCPU, {node.ip}")
    # argv: what `lab start` runs to boot this VM again on the same disk (relaunch)
    return {"pid": pid, "ip": node.ip, "memory_mib": node.size.memory_mib, "cpus": node.size.cpus, "argv": argv}


def owns(cmdline: list[str], paths: config.Paths, name: str | None = None) -> bool:
    """A QEMU running from this instance's run directory (``name``: carrying that VM's -name marker)."""
    if not cmdline or not os.path.basename(cmdline[0]).startswith("qemu-system"):
        return False
    if str(paths.run) + "/" not in "\0".join(cmdline):
        return False
    if name is None:
        return True
    try:
        label = cmdline[cmdline.index("-name") + 1]
    except (ValueError, IndexError):
        return False
    return label.split(",", 1)[0] == f"{marker(paths)}:{name}"


def power_cut_pid(pid: int) -> int:
    """QEMU itself: SIGKILL gives the guest no shutdown, no ARP goodbye, nothing its peers see."""
    return pid


def pidfile_of(argv: list[str]) -> Path:
    try:
        return Path(argv[argv.index("-pidfile") + 1])
    except (ValueError, IndexError) as exc:
        raise config.LabError("the VM's QEMU command line has no -pidfile") from exc


def disk_of(argv: list[str]) -> Path:
    for index, arg in enumerate(argv[:-1]):
        if arg == "-drive" and argv[index + 1].startswith("file="):
            return Path(argv[index + 1][len("file="):].split(",", 1)[0])
    raise config.LabError("the VM's QEMU command line has no -drive file=")


def restart_argv(paths: config.Paths, state: dict[str, Any], node: Node, pubkey: str) -> list[str]:
    """The command line that boots ``node`` again: the one recorded when it was started or killed,
    else the one `lab up` builds (same image, accelerator, size and files)."""
    recorded = state["vms"][node.name].get("argv")
    if recorded:
        return [str(a) for a in recorded]
    return _argv(paths, node, state["accel"], image.Image(paths.images / state["image"], state["image"]), pubkey)


def relaunch(paths: config.Paths, state: dict[str, Any], node: Node, ns: str) -> Callable[[], dict[str, Any]]:
    recorded = state["vms"][node.name].get("argv")
    pubkey = "" if recorded else paths.ssh_key.with_suffix(".pub").read_text().strip()
    argv = restart_argv(paths, state, node, pubkey)
    if not owns(argv, paths, node.name):
        raise config.LabError(f"{node.name}: the recorded command line is not a QEMU of this VM: {' '.join(argv[:3])} ...")
    disk = disk_of(argv)
    if not disk.is_file():
        raise config.LabError(f"{node.name}: its disk {disk} is gone; 'lab down' and 'lab up' build a new lab")
    return lambda: {"pid": _launch(ns, node, argv), "argv": argv}


def memory_mib(paths: config.Paths, name: str, pid: int) -> int | None:
    """The RSS of the VM's QEMU."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def clean_up(paths: config.Paths, state: dict[str, Any] | None) -> None:
    """Nothing beyond the processes: the taps go with the namespace, the disks with the run directory."""
