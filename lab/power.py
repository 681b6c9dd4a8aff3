"""lab kill / lab start: power one node off hard and boot it again on its own disk.

Failover tests need a node that dies without warning (SIGKILL to its QEMU: no shutdown, no
ARP goodbye, the guest's TCP peers see nothing) and that later comes back with the disk it
had, like a host after a power cut. Both commands only touch a QEMU of this lab instance,
recognised by its command line, and keep the instance's state file right so that
`lab status`, `lab ssh` and `lab down` keep working. A systemd-nspawn node is killed by
SIGKILL to its PID 1 (every process of the node dies with it) and boots again on its root
directory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import time
from pathlib import Path
from typing import Any, Callable

from lab import config, image, lifecycle, net, nspawn, qemu, topology
from lab.slots import BootSlots, slot_count
from lab.util import file_lock, log, pid_alive, pid_cmdline, run


def vm_entry(state: dict[str, Any] | None, name: str, paths: config.Paths) -> dict[str, Any]:
    """The state file's record of VM ``name``, or a LabError naming the VMs there are."""
    if not state:
        raise config.LabError(f"lab instance {paths.instance!r} is not up (no state file at {paths.state_file})")
    vms = state.get("vms") or {}
    if name not in vms:
        raise config.LabError(f"no VM {name!r} in lab {paths.instance!r}: {', '.join(vms) or 'none'}")
    return vms[name]


def is_vm_qemu(cmdline: list[str], paths: config.Paths, name: str) -> bool:
    """True only for the QEMU of VM ``name`` of this instance: a QEMU that runs from this
    instance's run directory (lifecycle.is_ours) and carries the VM's -name marker."""
    if not cmdline or not os.path.basename(cmdline[0]).startswith("qemu-system"):
        return False
    if not lifecycle.is_ours(cmdline, paths):
        return False
    try:
        label = cmdline[cmdline.index("-name") + 1]
    except (ValueError, IndexError):
        return False
    return label.split(",", 1)[0] == f"{lifecycle.marker(paths)}:{name}"


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


def node_of(state: dict[str, Any], name: str, env: dict[str, str] | None = None) -> topology.Node:
    """The topology's node ``name``, sized as it was booted (the state file's memory and vCPUs)."""
    for node in topology.nodes(state["topology"], env):
        if node.name == name:
            vm = state["vms"][name]
            size = dataclasses.replace(node.size, memory_mib=int(vm.get("memory_mib") or node.size.memory_mib),
                                       cpus=int(vm.get("cpus") or node.size.cpus))
            return dataclasses.replace(node, size=size)
    raise config.LabError(f"VM {name!r} is not part of topology {state['topology']!r}")


def restart_argv(paths: config.Paths, state: dict[str, Any], name: str, pubkey: str,
                 env: dict[str, str] | None = None) -> list[str]:
    """The QEMU command line that boots VM ``name`` again: the one recorded when it was started or
    killed, else the one `lab up` builds (same image, accelerator, size and files)."""
    vm = vm_entry(state, name, paths)
    if vm.get("argv"):
        return [str(a) for a in vm["argv"]]
    node = node_of(state, name, env)
    img = image.Image(paths.images / state["image"], state["image"])
    vm_dir = paths.vm_dir(name)
    return qemu.command(node, accel=state["accel"], kernel=img.kernel, initrd=img.initrd, disk=vm_dir / "disk.qcow2",
                        console=vm_dir / "console.log", pidfile=vm_dir / "qemu.pid", authorized_key=pubkey,
                        marker=lifecycle.marker(paths))


@contextlib.contextmanager
def _state_lock(paths: config.Paths):  # type: ignore[no-untyped-def]
    # kill and start rewrite the state file; two of them at once must not lose a pid
    with file_lock(paths.run / ".state.lock", f"the state of lab {paths.instance!r}"):
        yield


def wait_gone(pid: int, timeout: float = 15.0, alive: Callable[[int], bool] = pid_alive) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def kill_container(paths: config.Paths, name: str) -> dict[str, Any]:
    """SIGKILL the PID 1 of nspawn node ``name``; {"t": ..., "pid": the nspawn's PID}."""
    with _state_lock(paths):
        state = lifecycle.load_state(paths)
        vm = vm_entry(state, name, paths)
        pid = int(vm["pid"])
        payload = nspawn.payload_pid(pid) if nspawn.is_node(pid_cmdline(pid), paths.run, name) else None
        if not payload:
            raise config.LabError(f"{name}: pid {pid} is not a running systemd-nspawn of this node in lab "
                                  f"{paths.instance!r} (already killed? 'lab start {name}' boots it again)")
        t = time.time()
        vm["killed_at"] = t
        assert state is not None
        lifecycle.save_state(paths, state)
        os.kill(payload, signal.SIGKILL)
    if not wait_gone(pid):
        raise config.LabError(f"{name}: systemd-nspawn pid {pid} still exists 15 s after its PID 1 was killed")
    log(f"{name}: node PID 1 ({payload}) killed, nspawn {pid} gone")
    return {"t": t, "pid": pid}


def start_container(paths: config.Paths, state: dict[str, Any], name: str, wait_ssh: bool,
                    boot_timeout: float | None) -> dict[str, Any]:
    """Boot nspawn node ``name`` again on its root directory."""
    vm = vm_entry(state, name, paths)
    if nspawn.is_node(pid_cmdline(int(vm["pid"])), paths.run, name):
        raise config.LabError(f"{name} is running (pid {vm['pid']}): 'lab kill {name}' first")
    ns = state.get("netns") or config.netns_name(paths.instance)
    if not net.exists(ns):
        raise config.LabError(f"namespace {ns} does not exist: the lab is down")
    root = paths.vm_dir(name) / "root"
    if not (root / "etc").is_dir():
        raise config.LabError(f"{name}: its root {root} is gone; 'lab down' and 'lab up' build a new lab")
    node = node_of(state, name)
    with _state_lock(paths):
        state = lifecycle.load_state(paths)
        vm = vm_entry(state, name, paths)
        assert state is not None
        console = paths.vm_dir(name) / "console.log"
        if console.exists():  # keep the console of the life that was killed
            console.replace(console.with_name("console.prev.log"))
        t = time.time()
        pid = nspawn.launch(nspawn.command(node, root=root, ns=ns), nspawn.ensure_cgroups(paths.instance, name), console)
        vm["pid"] = pid
        vm.pop("killed_at", None)
        lifecycle.save_state(paths, state)
    log(f"{name}: systemd-nspawn started again, pid {pid}")
    result: dict[str, Any] = {"t": t, "pid": pid}
    if wait_ssh:
        timeout = boot_timeout or 300
        seconds = lifecycle.wait_ssh(paths, ns, node, pid, timeout, max(timeout, 1800))
        result["ssh_seconds"] = round(seconds, 1)
        log(f"{name} ({node.ip}) answers SSH {seconds:.1f} s after nspawn started")
    return result


def kill(paths: config.Paths, name: str) -> dict[str, Any]:
    """SIGKILL the QEMU of VM ``name`` (the PID 1 of an nspawn node); {"t": time of the signal, "pid": ...}."""
    if (lifecycle.load_state(paths) or {}).get("backend") == "nspawn":
        return kill_container(paths, name)
    with _state_lock(paths):
        state = lifecycle.load_state(paths)
        vm = vm_entry(state, name, paths)
        pid = int(vm["pid"])
        cmdline = pid_cmdline(pid)
        if not pid_alive(pid) or not is_vm_qemu(cmdline, paths, name):
            raise config.LabError(f"{name}: pid {pid} is not a running QEMU of this VM in lab {paths.instance!r} "
                                  f"(already killed? 'lab start {name}' boots it again)")
        # its exact command line, so that `lab start` boots the same machine on the same disk
        vm["argv"] = cmdline
        t = time.time()
        vm["killed_at"] = t
        assert state is not None
        lifecycle.save_state(paths, state)
        os.kill(pid, signal.SIGKILL)
    if not wait_gone(pid):
        raise config.LabError(f"{name}: QEMU pid {pid} still exists 15 s after SIGKILL")
    log(f"{name}: QEMU pid {pid} killed")
    return {"t": t, "pid": pid}


def start(paths: config.Paths, name: str, *, wait_ssh: bool = False, boot_timeout: float | None = None) -> dict[str, Any]:
    """Boot VM ``name`` again on its existing overlay disk, inside the instance's namespace;
    {"t": wall-clock time of the QEMU start, "pid": ..., "ssh_seconds": ... with wait_ssh}."""
    state = lifecycle.load_state(paths)
    vm = vm_entry(state, name, paths)
    assert state is not None
    if state.get("backend") == "nspawn":
        return start_container(paths, state, name, wait_ssh, boot_timeout)
    if pid_alive(int(vm["pid"])) and is_vm_qemu(pid_cmdline(int(vm["pid"])), paths, name):
        raise config.LabError(f"{name} is running (pid {vm['pid']}): 'lab kill {name}' first")
    ns = state.get("netns") or config.netns_name(paths.instance)
    if not net.exists(ns):
        raise config.LabError(f"namespace {ns} does not exist: the lab is down")
    pubkey = paths.ssh_key.with_suffix(".pub").read_text().strip() if not vm.get("argv") else ""
    argv = restart_argv(paths, state, name, pubkey)
    if not is_vm_qemu(argv, paths, name):
        raise config.LabError(f"{name}: the recorded command line is not a QEMU of this VM: {' '.join(argv[:3])} ...")
    disk = disk_of(argv)
    if not disk.is_file():
        raise config.LabError(f"{name}: its disk {disk} is gone; 'lab down' and 'lab up' build a new lab")
    node = node_of(state, name)
    timeout = boot_timeout or float(os.environ.get("QUORUM_LAB_BOOT_TIMEOUT", "0") or 0) or 300
    hard_max = max(timeout, float(os.environ.get("QUORUM_LAB_BOOT_MAX", "0") or 0) or 1800)
    slots = BootSlots(paths.home / "locks", slot_count())
    with contextlib.ExitStack() as stack:
        # a boot is CPU-heavy: it takes a machine-wide slot like the boots of `lab up`
        stack.enter_context(slots.acquire(on_wait=lambda: log(f"{name}: waiting for a boot slot")))
        with _state_lock(paths):
            state = lifecycle.load_state(paths)
            vm = vm_entry(state, name, paths)
            assert state is not None
            pidfile = pidfile_of(argv)
            pidfile.unlink(missing_ok=True)
            console = paths.vm_dir(name) / "console.log"
            if console.exists():  # keep the console of the life that was killed
                console.replace(console.with_name("console.prev.log"))
            net.add_tap(ns, node.tap)
            t = time.time()
            run(["nice", "-n", "5", *net.ns_cmd(ns, argv)], quiet=True)
            pid = int(pidfile.read_text().strip())
            vm.update({"pid": pid, "argv": argv})
            vm.pop("killed_at", None)
            lifecycle.save_state(paths, state)
        log(f"{name}: QEMU started again, pid {pid}, disk {disk}")
        result: dict[str, Any] = {"t": t, "pid": pid}
        if wait_ssh:
            seconds = lifecycle.wait_ssh(paths, ns, node, pid, timeout, hard_max, on_booted=stack.close)
            result["ssh_seconds"] = round(seconds, 1)
            log(f"{name} ({node.ip}) answers SSH {seconds:.1f} s after QEMU started")
    return result
