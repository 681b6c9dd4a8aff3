"""Both machine backends implement lab/backend.py's interface, and the lab picks one per state."""

from pathlib import Path

from lab import backend, config, lifecycle, nspawn, qemu, topology

MEMBERS = [name for name in vars(backend.Backend) if not name.startswith("_")] + list(backend.Backend.__annotations__)


def test_every_backend_implements_the_interface():
    assert set(backend.BACKENDS) == set(topology.BACKENDS)
    for name, module in backend.BACKENDS.items():
        assert module.NAME == name
        missing = [m for m in MEMBERS if not hasattr(module, m)]
        assert not missing, f"lab/{name}.py lacks {missing}"


def test_chosen_once_from_the_topology_then_from_the_state(monkeypatch):
    monkeypatch.delenv("QUORUM_LAB_BACKEND", raising=False)
    assert backend.for_topology("stacked") is nspawn and backend.for_topology("etcd") is qemu
    assert backend.of({"backend": "nspawn"}) is nspawn
    assert backend.of({}) is qemu and backend.of(None) is qemu  # state files older than the nspawn backend


def test_each_process_belongs_to_one_backend():
    paths = config.Paths(Path("/h"), "default")
    vm = qemu.command(topology.nodes("etcd", env={})[0], accel="tcg", kernel=Path("/k"), initrd=Path("/i"),
                      disk=paths.vm_dir("etcd-1") / "disk.qcow2", console=Path("/c"), pidfile=Path("/p"),
                      authorized_key="k", marker=qemu.marker(paths))
    node = nspawn.command(topology.nodes("stacked", env={})[0], root=paths.vm_dir("fe-1") / "root", ns="quorum-lab")[3:]
    assert backend.owner(vm, paths) is qemu and backend.owner(node, paths) is nspawn
    assert backend.owner(["sleep", "1"], paths) is None
    assert lifecycle.is_ours(vm, paths) and lifecycle.is_ours(node, paths)


def test_down_powers_nodes_off_and_terminates_the_rest(tmp_path, monkeypatch):
    paths = config.Paths(tmp_path, "default")
    node = nspawn.command(topology.nodes("stacked", env={})[0], root=paths.vm_dir("fe-1") / "root", ns="quorum-lab")[3:]
    procs = {10: node, 11: ["/venv/bin/python", "-m", "lab.httpd", "--marker", str(paths.run)]}
    signals = []
    monkeypatch.setattr(lifecycle, "pid_cmdline", lambda pid: procs.get(pid, []))
    monkeypatch.setattr(lifecycle, "pid_alive", lambda pid: pid in procs)
    monkeypatch.setattr(nspawn, "power_cut_pid", lambda pid: 100 + pid)

    def kill(pid, sig):
        signals.append((pid, sig))
        if pid in procs and sig == 15:
            procs.pop(pid)

    monkeypatch.setattr(lifecycle.os, "kill", kill)
    monkeypatch.setattr(lifecycle.os, "waitpid", lambda pid, flags: (0, 0))
    assert lifecycle.stop_pids([10, 11, 12], paths, grace=0.5) == [10, 11]
    assert signals == [(110, 9), (10, 15), (11, 15)]
