"""QEMU command lines, the KVM probe and per-VM files."""

from __future__ import annotations

import base64
import json
import os
import platform
import subprocess
import time
from pathlib import Path

from lab import config
from lab.topology import Node
from lab.util import log, run, tail, write_atomic

QEMU = "qemu-system-x86_64"
PROBE_SECONDS = 25


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
