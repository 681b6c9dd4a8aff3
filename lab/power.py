"""lab kill / lab start: power one node off hard and boot it again on its own disk.

Failover tests need a node that dies without warning (no shutdown, no ARP goodbye, the guest's
TCP peers see nothing) and that later comes back with the disk it had, like a host after a
power cut. The node's backend (lab/backend.py) says which PID to SIGKILL (a VM's QEMU, an nspawn
node's PID 1) and how to boot it again. Both commands only touch a node process of this lab
instance, recognised by its command line, and keep the instance's state file right so that
`lab status`, `lab ssh` and `lab down` keep working.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import time
from typing import Any, Callable

from lab import backend, config, lifecycle, net, state, topology
from lab.slots import BootSlots, slot_count
from lab.util import log, pid_alive, pid_cmdline


def node_of(st: dict[str, Any], name: str, env: dict[str, str] | None = None) -> topology.Node:
    """The topology's node ``name``, sized as it was booted (the state file's memory and vCPUs)."""
    for node in topology.state_nodes(st, env):
        if node.name == name:
            vm = st["vms"][name]
            size = dataclasses.replace(node.size, memory_mib=int(vm.get("memory_mib") or node.size.memory_mib),
                                       cpus=int(vm.get("cpus") or node.size.cpus))
            return dataclasses.replace(node, size=size)
    raise config.LabError(f"VM {name!r} is not part of topology {st['topology']!r}")


def wait_gone(pid: int, timeout: float = 15.0, alive: Callable[[int], bool] = pid_alive) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def kill(paths: config.Paths, name: str) -> dict[str, Any]:
    """SIGKILL node ``name`` (its QEMU, or the PID 1 of an nspawn node); {"t": time of the signal, "pid": ...}."""
    with state.locked(paths):
        st = state.load(paths)
        vm = state.vm_entry(st, name, paths)
        machine = backend.of(st)
        pid = int(vm["pid"])
        cmdline = pid_cmdline(pid)
        target = machine.power_cut_pid(pid) if pid_alive(pid) and machine.owns(cmdline, paths, name) else None
        if not target:
            raise config.LabError(f"{name}: pid {pid} is not a running {machine.LABEL} of this {machine.UNIT} in lab "
                                  f"{paths.instance!r} (already killed? 'lab start {name}' boots it again)")
        vm["argv"] = cmdline  # its exact command line: what `lab start` boots again (QEMU)
        t = time.time()
        vm["killed_at"] = t
        assert st is not None
        state.save(paths, st)
        os.kill(target, signal.SIGKILL)
    if not wait_gone(pid):
        how = "SIGKILL" if target == pid else "its PID 1 was killed"
        raise config.LabError(f"{name}: {machine.LABEL} pid {pid} still exists 15 s after {how}")
    log(f"{name}: {machine.LABEL} pid {pid} killed" + ("" if target == pid else f" (node PID 1 {target})"))
    return {"t": t, "pid": pid}


def start(paths: config.Paths, name: str, *, wait_ssh: bool = False, boot_timeout: float | None = None) -> dict[str, Any]:
    """Boot node ``name`` again on its own disk, inside the instance's namespace;
    {"t": wall-clock time of the start, "pid": ..., "ssh_seconds": ... with wait_ssh}."""
    st = state.load(paths)
    vm = state.vm_entry(st, name, paths)
    assert st is not None
    machine = backend.of(st)
    if pid_alive(int(vm["pid"])) and machine.owns(pid_cmdline(int(vm["pid"])), paths, name):
        raise config.LabError(f"{name} is running (pid {vm['pid']}): 'lab kill {name}' first")
    ns = st.get("netns") or config.netns_name(paths.instance)
    if not net.exists(ns):
        raise config.LabError(f"namespace {ns} does not exist: the lab is down")
    node = node_of(st, name)
    launch = machine.relaunch(paths, st, node, ns)
    timeout, hard_max = lifecycle.boot_limits(boot_timeout)
    slots = BootSlots(paths.home / "locks", slot_count())
    with contextlib.ExitStack() as stack:
        # a boot is CPU-heavy: it takes a machine-wide slot like the boots of `lab up`
        stack.enter_context(slots.acquire(on_wait=lambda: log(f"{name}: waiting for a boot slot")))
        with state.locked(paths):
            st = state.load(paths)
            vm = state.vm_entry(st, name, paths)
            assert st is not None
            console = paths.vm_dir(name) / "console.log"
            if console.exists():  # keep the console of the life that was killed
                console.replace(console.with_name("console.prev.log"))
            t = time.time()
            vm.update(launch())
            vm.pop("killed_at", None)
            state.save(paths, st)
        pid = int(vm["pid"])
        log(f"{name}: {machine.LABEL} started again, pid {pid}")
        result: dict[str, Any] = {"t": t, "pid": pid}
        if wait_ssh:
            seconds = lifecycle.wait_ssh(paths, ns, node, pid, timeout, hard_max, on_booted=stack.close,
                                         via=topology.jump_hosts(topology.state_nodes(st), node))
            result["ssh_seconds"] = round(seconds, 1)
            log(f"{name} ({node.ip}) answers SSH {seconds:.1f} s after {machine.LABEL} started")
    return result
