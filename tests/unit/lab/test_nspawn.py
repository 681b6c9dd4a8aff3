"""The systemd-nspawn backend: command line, identity files, cgroups, process recognition."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lab import config, inventory, nspawn, topology


def node(name="cp-1"):
    return next(n for n in topology.nodes("stacked", env={}) if n.name == name)


def test_topology_backend_defaults_and_override():
    assert topology.backend("stacked", env={}) == "nspawn"
    assert topology.backend("minimal", env={}) == "nspawn"
    assert topology.backend("etcd", env={}) == "qemu"
    assert topology.backend("etcd", env={"QUORUM_LAB_BACKEND": "nspawn"}) == "nspawn"
    assert topology.backend("stacked", env={"QUORUM_LAB_BACKEND": "qemu"}) == "qemu"
    with pytest.raises(config.LabError, match="QUORUM_LAB_BACKEND='lxc'"):
        topology.backend("stacked", env={"QUORUM_LAB_BACKEND": "lxc"})


def test_command_enters_the_namespace_without_remounting_sys():
    argv = nspawn.command(node(), root=Path("/h/run/default/vms/cp-1/root"), ns="quorum-lab")
    assert argv[:3] == ["nsenter", "--net=/run/netns/quorum-lab", "--"]
    assert "ip" not in argv[:3]
    assert argv[3] == "systemd-nspawn"
    for flag in ("--boot", "--register=no", "--keep-unit", "--network-bridge=qlbr0", "--machine=cp-1",
                 "--directory=/h/run/default/vms/cp-1/root", "--resolv-conf=off"):
        assert flag in argv


def test_owns_matches_only_this_instance_and_node():
    paths = config.Paths(Path("/h"), "default")
    argv = nspawn.command(node(), root=paths.run / "vms/cp-1/root", ns="quorum-lab")[3:]  # after nsenter's exec
    assert nspawn.owns(argv, paths)
    assert nspawn.owns(argv, paths, "cp-1")
    assert not nspawn.owns(argv, paths, "cp-2")
    assert not nspawn.owns(argv, config.Paths(Path("/h"), "other"))
    assert not nspawn.owns(["qemu-system-x86_64", "--directory=/h/run/default/vms/cp-1/root"], paths)
    assert not nspawn.owns([], paths)


def test_network_file_gives_host0_the_node_address():
    text = nspawn.network_file(node("fe-2"))
    assert "Name=host0" in text
    assert f"Address=10.231.0.12/{config.PREFIXLEN}" in text
    assert f"Gateway={config.GATEWAY}" in text


def test_prepare_root_writes_the_identity(tmp_path):
    base = tmp_path / "base"
    for rel in ("etc/ssh", "etc/systemd/network", "root", "usr/local/sbin"):
        (base / rel).mkdir(parents=True)
    (base / "etc/fstab").write_text("LABEL=labroot / ext4 rw 0 1\n")
    root = nspawn.prepare_root(base, tmp_path / "vms/cp-1", node(), "ssh-ed25519 AAAA lab")
    assert (root / "etc/hostname").read_text() == "cp-1\n"
    keys = root / "root/.ssh/authorized_keys"
    assert keys.read_text() == "ssh-ed25519 AAAA lab\n"
    assert oct(keys.stat().st_mode & 0o777) == "0o600"
    assert "labroot" not in (root / "etc/fstab").read_text()
    assert os.readlink(root / "etc/systemd/system/systemd-remount-fs.service") == "/dev/null"
    assert (root / "etc/systemd/system/sysinit.target.wants/lab-nspawn.service").is_symlink()
    assert (root / "etc/ssh/ssh_host_ed25519_key").is_file()
    assert (base / "etc/fstab").read_text().startswith("LABEL=labroot")  # the shared base is untouched


def test_cgroups_made_with_the_parents_cpus_and_removed(tmp_path, monkeypatch):
    fs = tmp_path / "cgroup"
    for h in ("cpu", "memory", "cpuset", "pids"):
        (fs / h).mkdir(parents=True)
    (fs / "cpuset/cpuset.cpus").write_text("0-1\n")
    (fs / "cpuset/cpuset.mems").write_text("0\n")
    real_mkdir = Path.mkdir

    def mkdir(self, *args, **kwargs):  # a cgroup directory comes with empty cpuset files
        real_mkdir(self, *args, **kwargs)
        if "cpuset" in self.parts:
            for knob in ("cpuset.cpus", "cpuset.mems"):
                if not (self / knob).exists():
                    (self / knob).write_text("")

    monkeypatch.setattr(Path, "mkdir", mkdir)
    monkeypatch.setattr(nspawn, "CGROUP_FS", fs)
    made = nspawn.ensure_cgroups("default", "cp-1")
    assert sorted(p.relative_to(fs).as_posix() for p in made) == [
        "cpu/quorum-lab-default/cp-1", "cpuset/quorum-lab-default/cp-1", "memory/quorum-lab-default/cp-1",
        "pids/quorum-lab-default/cp-1"]
    assert (fs / "cpuset/quorum-lab-default/cp-1/cpuset.cpus").read_text() == "0-1\n"
    assert (fs / "cpuset/quorum-lab-default/cpuset.mems").read_text() == "0\n"
    assert (fs / "cpu/quorum-lab-default/cpu.shares").read_text() == "1024\n"
    nspawn.ensure_cgroups("default", "worker-1")
    assert (fs / "cpu/quorum-lab-default/cpu.shares").read_text() == "2048\n"  # each node weighs one process
    assert nspawn.cgroups_exist("default")
    for knob in fs.glob("cpuset/quorum-lab-default/**/cpuset.*"):
        knob.unlink()  # real cgroup files vanish with their directory
    for knob in fs.glob("cpuset/quorum-lab-default/cpuset.*"):
        knob.unlink()
    (fs / "cpu/quorum-lab-default/cpu.shares").unlink()
    nspawn.remove_cgroups("default")
    assert not nspawn.cgroups_exist("default")
    assert (fs / "memory").is_dir()


def test_payload_is_the_child_of_nspawn():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert nspawn.power_cut_pid(os.getpid()) == child.pid
    finally:
        child.kill()
        child.wait()
    assert nspawn.power_cut_pid(2**22 + 7) is None


def fake_proc_sys(tmp_path, monkeypatch, values):
    """A /proc/sys holding ``values`` under tmp_path, which nspawn's Path reads and writes instead."""
    proc = tmp_path / "proc/sys"
    for key, value in values.items():
        (proc / key).parent.mkdir(parents=True, exist_ok=True)
        (proc / key).write_text(value + "\n")
    real_path = nspawn.Path
    monkeypatch.setattr(nspawn, "Path", lambda p, *rest: real_path(str(p).replace("/proc/sys", str(proc), 1), *rest))
    return proc


def test_host_sysctls_set_once_and_restored(tmp_path, monkeypatch):
    proc = fake_proc_sys(tmp_path, monkeypatch, {
        "vm/overcommit_memory": "0", "kernel/panic": "1", "kernel/panic_on_oops": "1",
        "fs/inotify/max_user_instances": "128", "fs/inotify/max_user_watches": "1000000",
        "net/ipv4/neigh/default/gc_thresh2": "512", "net/ipv4/neigh/default/gc_thresh3": "1024"})
    state = {}
    nspawn.set_host_sysctls(state)
    # inotify limits are raised, never lowered
    assert state["host_sysctls"] == {"vm/overcommit_memory": "0", "kernel/panic": "1",
                                     "fs/inotify/max_user_instances": "128",
                                     "net/ipv4/neigh/default/gc_thresh2": "512",
                                     "net/ipv4/neigh/default/gc_thresh3": "1024"}
    assert (proc / "net/ipv4/neigh/default/gc_thresh3").read_text() == "32768"
    assert (proc / "kernel/panic").read_text() == "10"
    assert (proc / "fs/inotify/max_user_instances").read_text() == "8192"
    assert (proc / "fs/inotify/max_user_watches").read_text().strip() == "1000000"
    nspawn.set_host_sysctls(state)  # a second call keeps the first old values
    assert state["host_sysctls"]["kernel/panic"] == "1"
    nspawn.restore_host_sysctls(state)
    assert (proc / "vm/overcommit_memory").read_text() == "0"
    assert (proc / "kernel/panic").read_text() == "1"
    assert (proc / "fs/inotify/max_user_instances").read_text() == "128"
    assert (proc / "net/ipv4/neigh/default/gc_thresh3").read_text() == "1024"


def test_host_sysctls_outside_the_hosts_network_namespace(tmp_path, monkeypatch):
    # Molecule runs `lab up` inside the lab's namespace, where net/ipv4/neigh/default is absent
    proc = fake_proc_sys(tmp_path, monkeypatch, {
        "vm/overcommit_memory": "1", "kernel/panic": "10", "kernel/panic_on_oops": "1",
        "fs/inotify/max_user_instances": "128", "fs/inotify/max_user_watches": "1000000"})
    state = {}
    nspawn.set_host_sysctls(state)
    assert state["host_sysctls"] == {"fs/inotify/max_user_instances": "128"}
    assert not (proc / "net").exists()


def test_inventory_of_container_nodes_keeps_upstream_timings():
    nodes = topology.nodes("stacked", env={})
    inv = inventory.build("stacked", nodes, ssh_key=Path("/k"), ca_cert=Path("/c"), instance="default", backend="nspawn")
    lab_vars = inv["all"]["children"]["lab"]["vars"]
    assert lab_vars["container_runtime_cgroup_driver"] == "cgroupfs"
    assert lab_vars["control_plane_kubelet_cgroup_driver"] == "cgroupfs"
    assert lab_vars["container_runtime_kernel_modules"] == []
    assert "control_plane_etcd_heartbeat_interval_ms" not in lab_vars
    assert lab_vars["control_plane_kubeadm_timeouts"] == inventory.WAIT_VARS["control_plane_kubeadm_timeouts"]
    assert inv["all"]["vars"]["lab_backend"] == "nspawn"
    vm = inventory.build("stacked", nodes, ssh_key=Path("/k"), ca_cert=Path("/c"), instance="default")
    assert vm["all"]["children"]["lab"]["vars"]["control_plane_etcd_heartbeat_interval_ms"] == 500
    assert "container_runtime_cgroup_driver" not in vm["all"]["children"]["lab"]["vars"]
