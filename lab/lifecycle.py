"""lab up / down / status: VMs, mirror and OpenBao of one lab instance."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

from lab import backend, config, image, inventory, mirror, net, nspawn, openstack, state, topology, vault
from lab.slots import BootSlots, SlotCancelled, slot_count
from lab.util import log, pid_alive, pid_cmdline, run, tail
from mirror_builder.common import write_atomic

SSH_OPTS = [
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR",
    "-o", "ConnectTimeout=30",  # sshd on a busy TCG guest can take many seconds to send its banner
]


# ---------------------------------------------------------------- processes

def is_ours(cmdline: list[str], paths: config.Paths) -> bool:
    """A process this lab instance started: one of its nodes (any backend), its mirror server or its OpenBao."""
    if not cmdline:
        return False
    if backend.owner(cmdline, paths):
        return True
    joined = "\0".join(cmdline)
    run_dir = str(paths.run) + "/"
    exe = os.path.basename(cmdline[0])
    if "lab.httpd" in cmdline and f"--marker\0{paths.run}\0" in joined + "\0":
        return True
    if ("bao" in exe or any(os.path.basename(c) == "bao" for c in cmdline[:2])) and "server" in cmdline and run_dir in joined:
        return True
    return False


def find_leftovers(paths: config.Paths) -> list[int]:
    """PIDs of this instance's processes, found by their command line (for a killed run)."""
    found = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid == me:
            continue
        if is_ours(pid_cmdline(pid), paths):
            found.append(pid)
    return found


def stop_pids(pids: list[int], paths: config.Paths, grace: float = 10.0) -> list[int]:
    """A power cut for every node, SIGTERM for the rest, then SIGKILL after ``grace`` seconds;
    only PIDs whose command line is ours."""
    targets = [p for p in dict.fromkeys(pids) if pid_alive(p) and is_ours(pid_cmdline(p), paths)]
    for pid in targets:
        machine = backend.owner(pid_cmdline(pid), paths)
        cut = machine.power_cut_pid(pid) if machine else None
        if cut:
            with contextlib.suppress(ProcessLookupError):
                os.kill(cut, signal.SIGKILL)
    for pid in targets:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(pid_alive(p) for p in targets):
        time.sleep(0.2)
    for pid in targets:
        if pid_alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for pid in targets:  # reap our own children, if any
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
    return targets


# ---------------------------------------------------------------- checks

def meminfo_available_mib(path: Path = Path("/proc/meminfo")) -> int:
    for line in path.read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    raise config.LabError("cannot read MemAvailable from /proc/meminfo")


def check_resources(node_list: list[topology.Node], home: Path, *, mem_available: int | None = None,
                    disk_free: int | None = None, env: dict[str, str] | None = None) -> None:
    """Enough memory and disk for the topology, or one clear error before anything boots."""
    env = os.environ if env is None else env
    if env.get("QUORUM_LAB_SKIP_RESOURCE_CHECK") == "1":
        return
    need_mem = topology.memory_needed_mib(node_list) + 512
    have_mem = meminfo_available_mib() if mem_available is None else mem_available
    need_disk = 1024 + 768 * len(node_list)
    if disk_free is None:
        home.mkdir(parents=True, exist_ok=True)
        disk_free = shutil.disk_usage(home).free // (1 << 20)
    faults = []
    if have_mem < need_mem:
        faults.append(f"memory: {len(node_list)} VMs need {need_mem} MiB, {have_mem} MiB available "
                      "(lower QUORUM_LAB_MEM_<ROLE> or stop other labs)")
    if disk_free < need_disk:
        faults.append(f"disk: {need_disk} MiB needed under {home}, {disk_free} MiB free")
    if faults:
        raise config.LabError("not enough resources, nothing was started:\n  " + "\n  ".join(faults))


def check_host(machine: backend.Backend) -> None:
    if os.geteuid() != 0:
        raise config.LabError("the lab needs root (network namespaces, taps)")
    tools = ["qemu-img", "ip", "ssh", "ssh-keygen", "openssl", "mmdebstrap", "apt-ftparchive", "mkfs.ext4", *machine.TOOLS]
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        raise config.LabError(f"missing host tools: {', '.join(missing)}; run scripts/host-deps.sh")


def ensure_ssh_key(paths: config.Paths) -> str:
    key = paths.ssh_key
    if not key.is_file():
        key.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(key.parent, 0o700)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "quorum-lab", "-f", str(key)], quiet=True)
    return key.with_suffix(".pub").read_text().strip()


# ---------------------------------------------------------------- up

def ssh_argv(paths: config.Paths, ip: str, command: list[str] | None = None, via: list[str] | None = None) -> list[str]:
    jump = ["-o", f"ProxyCommand={inventory.proxy_command(paths.ssh_key, via)}"] if via else []
    return ["ssh", "-i", str(paths.ssh_key), *jump, *SSH_OPTS, f"root@{ip}", *(command or [])]


def boot_deadline(started: float, now: float, last_progress: float, timeout: float, hard_max: float) -> bool:
    """True when a boot must be given up: past ``timeout`` and without console output for 120 s,
    or past ``hard_max`` whatever happens (a loaded host slows TCG guests many times)."""
    if now - started > hard_max:
        return True
    return now - started > timeout and now - last_progress > 120


def sshd_listening(ssh_stderr: str) -> bool:
    """ssh got a TCP connection (the guest is up, only slow): keep waiting even if the console is quiet."""
    return any(sign in ssh_stderr for sign in ("banner exchange", "Permission denied", "Connection closed by", "Connection reset by"))


class QemuExited(config.LabError):
    """The VM's QEMU ended before the guest answered SSH (-no-reboot: a guest panic ends it)."""


# Seen on the loaded 2-core lab host: a software-emulated guest kernel panics now and then during
# boot ("Fatal exception in interrupt"); a fresh overlay boots fine. One more try per VM and boot.
BOOT_ATTEMPTS = 2


def wait_ssh(paths: config.Paths, ns: str, node: topology.Node, pid: int, timeout: float, hard_max: float,
             on_booted: Callable[[], None] | None = None, stop: threading.Event | None = None,
             via: list[str] | None = None) -> float:
    """Seconds until ``node`` answers over SSH, directly or through the frontends ``via`` (once
    the host firewall is up, a node answers only those); LabError when it dies or gives up (see
    boot_deadline). ``on_booted`` runs once as soon as sshd accepts connections (the CPU-heavy
    boot is over)."""
    t0 = time.monotonic()
    console = paths.vm_dir(node.name) / "console.log"
    last_size, last_progress = -1, t0
    while True:
        # through a frontend first: a firewalled node drops a direct attempt (ssh waits ConnectTimeout)
        for jump in ([via, None] if via else [None]):
            proc = subprocess.run(net.ns_cmd(ns, ssh_argv(paths, node.ip, ["true"], jump)), capture_output=True,
                                  text=True, check=False)
            if proc.returncode == 0:
                break
        if proc.returncode == 0:
            if on_booted:
                on_booted()
            return time.monotonic() - t0
        if on_booted and sshd_listening(proc.stderr):
            on_booted()
            on_booted = None
        if not pid_alive(pid):
            raise QemuExited(f"{node.name}: QEMU exited during boot")
        now = time.monotonic()
        size = console.stat().st_size if console.exists() else 0
        if size != last_size or sshd_listening(proc.stderr):
            last_size, last_progress = size, now
        if boot_deadline(t0, now, last_progress, timeout, hard_max):
            raise config.LabError(f"{node.name}: no SSH on {node.ip} after {int(now - t0)} s "
                                  f"(console silent for {int(now - last_progress)} s)")
        if stop is not None and stop.wait(2):
            raise config.LabError(f"{node.name}: boot wait cancelled")
        if stop is None:
            time.sleep(2)


def write_inventory(paths: config.Paths, topo: str, node_list: list[topology.Node], backend_name: str = "qemu") -> Path:
    inv = inventory.build(topo, node_list, ssh_key=paths.ssh_key, ca_cert=paths.ca_cert, instance=paths.instance,
                          kubernetes=inventory.kubernetes_version(paths.home), backend=backend_name)
    write_atomic(paths.inventory, inventory.render(inv))
    return paths.inventory


def running(paths: config.Paths, st: dict[str, Any] | None) -> bool:
    if not st or st.get("status") != "up" or not net.exists(st.get("netns", "")):
        return False
    return all(pid_alive(p) and is_ours(pid_cmdline(p), paths) for p in state.recorded_pids(st))


def boot_limits(boot_timeout: float | None) -> tuple[float, float]:
    """(timeout, hard maximum) of a boot: the argument or QUORUM_LAB_BOOT_TIMEOUT (300 s), QUORUM_LAB_BOOT_MAX (1800 s)."""
    timeout = boot_timeout or float(os.environ.get("QUORUM_LAB_BOOT_TIMEOUT", "0") or 0) or 300
    return timeout, max(timeout, float(os.environ.get("QUORUM_LAB_BOOT_MAX", "0") or 0) or 1800)


def up(paths: config.Paths, topo: str, *, boot_timeout: float | None = None, workers: int | None = None) -> dict[str, Any]:
    """Boot ``topo`` (``workers``: the worker count of a topology that takes one, topology.VARIABLE_WORKERS;
    without it, the running lab's count or the topology's default)."""
    ns = config.netns_name(paths.instance)
    st = state.load(paths)
    is_running = running(paths, st)
    if workers is None and is_running and st is not None and st["topology"] == topo:
        workers = st.get("workers")
    count = topology.worker_count(topo, workers)
    node_list = topology.nodes(topo, workers=count)
    if is_running:
        assert st is not None
        if st["topology"] != topo:
            raise config.LabError(
                f"lab instance {paths.instance!r} runs topology {st['topology']!r}: run 'lab down' first "
                f"(or choose another instance with QUORUM_LAB_INSTANCE)")
        if st.get("workers") != count:
            raise config.LabError(
                f"lab instance {paths.instance!r} runs {topo} with {st.get('workers')} workers, not {count}: "
                f"run 'lab down' first (or choose another instance with QUORUM_LAB_INSTANCE)")
        log(f"lab {paths.instance!r} already up ({topo}); checking SSH")
        for node in node_list:
            wait_ssh(paths, ns, node, st["vms"][node.name]["pid"], 120, 300, via=topology.jump_hosts(node_list, node))
        write_inventory(paths, topo, node_list, backend.of(st).NAME)
        return st
    machine = backend.for_topology(topo)
    check_host(machine)
    if st or paths.run.exists() or net.exists(ns) or find_leftovers(paths):
        log(f"cleaning leftovers of an earlier run of {paths.instance!r}")
        down(paths, quiet=True)
    check_resources(node_list, paths.home)
    t_build = time.monotonic()
    img = build_assets(paths)
    if topo in topology.WITH_OPENSTACK:
        openstack.build(paths)
    build_seconds = time.monotonic() - t_build
    pubkey = ensure_ssh_key(paths)
    vault.ensure_ca(paths)
    accel = machine.accel(paths, img)
    paths.run.mkdir(parents=True, exist_ok=True)
    st = {"instance": paths.instance, "topology": topo, "netns": ns, "backend": machine.NAME, "accel": accel,
          "image": img.key, "status": "booting", "started": time.time(), "vms": {}}
    if count is not None:  # `lab inventory`, `status`, `ssh`, `kill`, `start` read it (topology.state_nodes)
        st["workers"] = count
    state.save(paths, st)
    try:
        machine.prepare(img, st)
        state.save(paths, st)
        net.ensure(ns)
        st["mirror_pid"] = start_mirror(paths, ns)
        state.save(paths, st)
        start_vault(paths, ns, st)
        t_boot = time.monotonic()
        boot_times = boot_all(paths, ns, node_list, st, img, accel, pubkey, *boot_limits(boot_timeout))
        if topo in topology.WITH_OPENSTACK:
            cloud = openstack.up(paths)
            st["vms"][openstack.NAME] = {"pid": cloud["pid"], "ip": cloud["ip"], "backend": nspawn.NAME}
            boot_times[openstack.NAME] = cloud.get("start_seconds", 0.0)
        st["boot_seconds"] = {name: round(t_boot_rel, 1) for name, t_boot_rel in boot_times.items()}
        st["boot_all_seconds"] = round(time.monotonic() - t_boot, 1)
        st["build_seconds"] = round(build_seconds, 1)
        st["status"] = "up"
        state.save(paths, st)
    except BaseException:
        log("lab up failed: cleaning up")
        down(paths, quiet=True)
        raise
    write_inventory(paths, topo, node_list, machine.NAME)
    record_figures(paths, st, node_list)
    log(f"lab {paths.instance!r} up: {len(node_list)} {machine.NAME} nodes ({accel}) in {st['boot_all_seconds']} s; inventory {paths.inventory}")
    return st


def build_assets(paths: config.Paths) -> image.Image:
    """Image and apt mirror, built in the host's network namespace (the lab's has no way out)."""
    if net.in_host_netns():
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            fut_img = pool.submit(image.ensure, paths)
            fut_mirror = pool.submit(mirror.ensure, paths)
            img = fut_img.result()
            fut_mirror.result()
        return img
    img = image.current(paths)
    if img.complete() and mirror.is_current(paths):
        return img
    log("inside a network namespace: building image and mirror in the host's network namespace")
    repo_root = str(Path(__file__).resolve().parent.parent)
    run(["nsenter", "--net=/proc/1/ns/net", "--", "env", f"PYTHONPATH={repo_root}", sys.executable, "-m", "lab", "build"])
    if not img.complete():
        raise config.LabError(f"image {img.key} still missing after the build")
    return img


def start_vault(paths: config.Paths, ns: str, st: dict[str, Any]) -> None:
    """OpenBao started, initialised and unsealed; a second try from scratch if the first fails (busy host)."""
    for attempt in (1, 2):
        st["vault_pid"] = vault.start(paths, ns)
        state.save(paths, st)
        try:
            vault.initialise(paths, ns, st["vault_pid"])
        except config.LabError as exc:
            stop_pids([st["vault_pid"]], paths)
            if attempt == 2:
                raise
            log(f"OpenBao start failed ({exc}); starting it again from scratch")
            continue
        log(f"OpenBao up at {config.VAULT_ADDR} (initialised, unsealed)")
        return


def boot_all(paths: config.Paths, ns: str, node_list: list[topology.Node], st: dict[str, Any], img: image.Image,
             accel: str, pubkey: str, timeout: float, hard_max: float) -> dict[str, float]:
    """Start every VM (each holding a machine-wide boot slot until it answers SSH); seconds to SSH per VM."""
    machine = backend.of(st)
    slots = BootSlots(paths.home / "locks", slot_count())
    lock = threading.Lock()
    results: dict[str, float] = {}
    failures: list[str] = []

    stop = threading.Event()

    def boot_one(node: topology.Node) -> float:
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(slots.acquire(
                    on_wait=lambda: log(f"{node.name}: waiting for a boot slot (other VMs are booting)"), stop=stop))
            except SlotCancelled as exc:
                raise config.LabError(f"{node.name}: {exc}") from exc
            for attempt in range(1, BOOT_ATTEMPTS + 1):
                vm = machine.boot(paths, ns, node, img, accel, pubkey)
                with lock:
                    st["vms"][node.name] = vm
                    state.save(paths, st)
                try:
                    # the slot is given back as soon as sshd answers, even if slowly
                    return wait_ssh(paths, ns, node, vm["pid"], timeout, hard_max, on_booted=stack.close, stop=stop,
                                    via=topology.jump_hosts(node_list, node))
                except QemuExited:
                    if attempt == BOOT_ATTEMPTS:
                        raise
                    crashed = paths.vm_dir(node.name) / f"console.crash-{attempt}.log"
                    shutil.copyfile(paths.vm_dir(node.name) / "console.log", crashed)
                    log(f"{node.name}: QEMU exited during boot (console kept in {crashed}); booting it once more")
            raise AssertionError("unreachable")

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(node_list)))  # `openstack`: no nodes
    try:
        futures = {pool.submit(boot_one, n): n for n in node_list}
        for fut in concurrent.futures.as_completed(futures):
            node = futures[fut]
            try:
                results[node.name] = fut.result()
                log(f"{node.name} ({node.ip}) answers SSH {results[node.name]:.1f} s after its start")
            except config.LabError as exc:
                failures.append(f"{exc}\n--- console tail of {node.name} ---\n{tail(paths.vm_dir(node.name) / 'console.log', 30)}")
    except BaseException:
        stop.set()  # interrupted: let the waiting threads go so that cleanup can run
        raise
    finally:
        pool.shutdown(wait=True)
    if failures:
        raise config.LabError("VMs did not come up:\n" + "\n".join(failures))
    return results


def record_figures(paths: config.Paths, st: dict[str, Any], node_list: list[topology.Node]) -> None:
    """Boot figures of this run: $QUORUM_LAB_HOME/results/lab-up-<topology>.json."""
    try:
        load1 = os.getloadavg()[0]
    except OSError:
        load1 = -1.0
    figures = {
        "topology": st["topology"], "instance": paths.instance, "accel": st["accel"], "vms": len(node_list),
        **({"workers": st["workers"]} if st.get("workers") is not None else {}),
        "build_or_reuse_seconds": st.get("build_seconds"), "boot_all_seconds": st.get("boot_all_seconds"),
        "boot_seconds": st.get("boot_seconds"), "backend": st.get("backend", "qemu"),
        "rss_mib": {n.name: node_memory_mib(paths, st, n.name) for n in node_list},
        "memory_mib": {n.name: n.size.memory_mib for n in node_list}, "host_load1_at_end": round(load1, 1),
        "host_cpus": os.cpu_count(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    paths.results.mkdir(parents=True, exist_ok=True)
    write_atomic(paths.results / f"lab-up-{st['topology']}-{paths.instance}.json", json.dumps(figures, indent=2) + "\n")


def start_mirror(paths: config.Paths, ns: str) -> int:
    paths.mirror.mkdir(parents=True, exist_ok=True)
    logf = open(paths.run / "mirror.log", "ab")  # noqa: SIM115 - handed to the child
    repo_root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": repo_root}
    proc = subprocess.Popen(
        net.ns_cmd(ns, [sys.executable, "-m", "lab.httpd", "--directory", str(paths.mirror), "--port", str(config.MIRROR_PORT),
                        "--marker", str(paths.run)]),
        stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True, env=env,
    )
    logf.close()
    return proc.pid


# ---------------------------------------------------------------- down / status

def down(paths: config.Paths, *, quiet: bool = False) -> None:
    """Stop every process of the instance by PID, remove taps, namespace and run state."""
    st = state.load(paths)
    ns = (st or {}).get("netns") or config.netns_name(paths.instance)
    pids = state.recorded_pids(st) + find_leftovers(paths)
    stopped = stop_pids(pids, paths)
    for machine in backend.BACKENDS.values():  # whichever ran here, also in a run that died early
        machine.clean_up(paths, st)
    keep_ns = net.inside(ns)
    if net.exists(ns):
        if keep_ns:
            net.delete_taps(ns)
        else:
            net.delete(ns)
    if paths.run.exists():
        shutil.rmtree(paths.run, ignore_errors=True)  # a concurrent `lab down` may remove files first
        if paths.run.exists():
            shutil.rmtree(paths.run)
    if not quiet or stopped:
        extra = " (namespace kept: the caller runs inside it)" if keep_ns else ""
        log(f"lab {paths.instance!r} down: stopped {len(stopped)} processes{extra}")


def node_memory_mib(paths: config.Paths, st: dict[str, Any], name: str) -> int | None:
    return backend.of(st).memory_mib(paths, name, st["vms"][name]["pid"])


def status(paths: config.Paths) -> tuple[dict[str, Any], bool]:
    st = state.load(paths)
    ns = config.netns_name(paths.instance)
    report: dict[str, Any] = {"instance": paths.instance, "netns": ns, "netns_exists": net.exists(ns)}
    if not st:
        report["status"] = "down"
        leftovers = find_leftovers(paths)
        if leftovers:
            report["leftover_pids"] = leftovers
        return report, False
    report.update({k: st.get(k) for k in ("topology", "status", "backend", "accel", "image", "boot_all_seconds")})
    if st.get("workers") is not None:
        report["workers"] = st["workers"]
    vms = {}
    for name, vm in st.get("vms", {}).items():
        alive = pid_alive(vm["pid"]) and is_ours(pid_cmdline(vm["pid"]), paths)
        vms[name] = {"ip": vm["ip"], "pid": vm["pid"], "alive": alive, "rss_mib": node_memory_mib(paths, st, name) if alive else None,
                     "memory_mib": vm.get("memory_mib")}
    report["vms"] = vms
    report["mirror"] = {"url": config.MIRROR_URL, "pid": st.get("mirror_pid"),
                        "alive": bool(st.get("mirror_pid")) and pid_alive(st["mirror_pid"])}
    vst = vault.status(paths, ns) if report["netns_exists"] else None
    report["vault"] = {"addr": config.VAULT_ADDR, "ca_cert": str(paths.ca_cert), "pid": st.get("vault_pid"),
                       "initialized": (vst or {}).get("initialized"), "sealed": (vst or {}).get("sealed")}
    report["inventory"] = str(paths.inventory)
    healthy = running(paths, st) and vst is not None and vst.get("sealed") is False
    return report, healthy
