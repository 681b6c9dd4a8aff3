"""lab kill / lab start with fakes: no process is signalled and no VM is booted here."""

import json
import signal

import pytest

from lab import cli, config, nspawn, power, qemu, state, topology


@pytest.fixture
def paths(tmp_path):
    return config.Paths(tmp_path, "cluster-stacked")


def qemu_argv(paths, name="cp-3"):
    node = next(n for n in topology.nodes("stacked", env={}) if n.name == name)
    vm_dir = paths.vm_dir(name)
    return qemu.command(node, accel="tcg", kernel=paths.images / "k" / "vmlinuz", initrd=paths.images / "k" / "initrd.img",
                        disk=vm_dir / "disk.qcow2", console=vm_dir / "console.log", pidfile=vm_dir / "qemu.pid",
                        authorized_key="ssh-ed25519 AAAA test", marker=qemu.marker(paths))


def write_state(paths, **vm_extra):
    st = {"instance": paths.instance, "topology": "stacked", "netns": "quorum-lab-cluster-stacked", "accel": "tcg",
          "image": "k", "status": "up",
          "vms": {"cp-3": {"pid": 4242, "ip": "10.231.0.23", "memory_mib": 2048, "cpus": 2, **vm_extra},
                  "cp-1": {"pid": 4240, "ip": "10.231.0.21", "memory_mib": 2048, "cpus": 2}}}
    paths.run.mkdir(parents=True, exist_ok=True)
    state.save(paths, st)
    return st


# ---------------------------------------------------------------- recognising the VM's QEMU

def test_is_vm_qemu(paths):
    argv = qemu_argv(paths)
    assert qemu.owns(argv, paths, "cp-3")
    # another VM of the same instance, the same VM of another instance, not a QEMU at all
    assert not qemu.owns(argv, paths, "cp-1")
    assert not qemu.owns(argv, config.Paths(paths.home, "cluster-external"), "cp-3")
    assert not qemu.owns(["/bin/bash", "-c", f"sleep 1 # -name qlab-cluster-stacked:cp-3 {paths.run}/"], paths, "cp-3")
    assert not qemu.owns([], paths, "cp-3")
    # a QEMU that names the VM but does not run from this instance's run directory
    foreign = [a.replace(str(paths.run), "/elsewhere") for a in argv]
    assert not qemu.owns(foreign, paths, "cp-3")
    # a prefix of another VM's name is not that VM (cp-1 vs cp-10)
    assert not qemu.owns(argv, paths, "cp-")


def test_pidfile_and_disk_of(paths):
    argv = qemu_argv(paths)
    assert qemu.pidfile_of(argv) == paths.vm_dir("cp-3") / "qemu.pid"
    assert qemu.disk_of(argv) == paths.vm_dir("cp-3") / "disk.qcow2"
    with pytest.raises(config.LabError):
        qemu.pidfile_of(["qemu-system-x86_64"])
    with pytest.raises(config.LabError):
        qemu.disk_of(["qemu-system-x86_64", "-drive"])


def test_vm_entry_errors(paths):
    with pytest.raises(config.LabError, match="not up"):
        state.vm_entry(None, "cp-3", paths)
    with pytest.raises(config.LabError, match="cp-1, cp-3|no VM 'cp-9'"):
        state.vm_entry({"vms": {"cp-1": {}, "cp-3": {}}}, "cp-9", paths)


def test_restart_argv_prefers_the_recorded_command_line(paths):
    st = write_state(paths, argv=["qemu-system-x86_64", "-name", "x"])
    node = power.node_of(st, "cp-3", env={})
    assert qemu.restart_argv(paths, st, node, pubkey="") == ["qemu-system-x86_64", "-name", "x"]


def test_restart_argv_rebuilt_like_lab_up(paths):
    st = write_state(paths)
    st["vms"]["cp-3"]["memory_mib"] = 3072  # booted with an override: keep what it had
    argv = qemu.restart_argv(paths, st, power.node_of(st, "cp-3", env={}), pubkey="ssh-ed25519 AAAA test")
    assert qemu.owns(argv, paths, "cp-3")
    assert argv[argv.index("-m") + 1] == "3072M"
    assert qemu.disk_of(argv) == paths.vm_dir("cp-3") / "disk.qcow2"
    assert str(paths.images / "k" / "vmlinuz") in argv
    assert "tcg" in argv[argv.index("-accel") + 1]


# ---------------------------------------------------------------- kill

class FakeProcs:
    def __init__(self, procs):
        self.procs = dict(procs)  # pid -> cmdline
        self.signals = []

    def alive(self, pid):
        return pid in self.procs

    def cmdline(self, pid):
        return self.procs.get(pid, [])

    def kill(self, pid, sig):
        self.signals.append((pid, sig))
        self.procs.pop(pid, None)


@pytest.fixture
def procs(monkeypatch):
    fake = FakeProcs({})
    monkeypatch.setattr(power, "pid_alive", fake.alive)
    monkeypatch.setattr(power, "pid_cmdline", fake.cmdline)
    monkeypatch.setattr(power.os, "kill", fake.kill)
    return fake


def test_kill_signals_our_qemu_and_records_its_command_line(paths, procs, monkeypatch):
    write_state(paths)
    argv = qemu_argv(paths)
    procs.procs[4242] = argv
    monkeypatch.setattr(power, "wait_gone", lambda pid: True)
    result = power.kill(paths, "cp-3")
    assert result["pid"] == 4242 and isinstance(result["t"], float)
    assert procs.signals == [(4242, signal.SIGKILL)]
    vm = state.load(paths)["vms"]["cp-3"]
    assert vm["argv"] == argv and vm["killed_at"] == result["t"]


@pytest.mark.parametrize("cmdline", [
    ["/bin/bash", "-c", "sleep 100"],             # the pid was reused by something else
    "other-vm",                                     # a QEMU of this instance, but another VM
    "other-instance",                               # the same VM name in another instance
])
def test_kill_refuses_a_pid_that_is_not_this_vms_qemu(paths, procs, cmdline):
    write_state(paths)
    if cmdline == "other-vm":
        cmdline = qemu_argv(paths, "cp-1")
    elif cmdline == "other-instance":
        cmdline = qemu_argv(config.Paths(paths.home, "cluster-external"))
    procs.procs[4242] = cmdline
    with pytest.raises(config.LabError, match="not a running QEMU of this VM"):
        power.kill(paths, "cp-3")
    assert procs.signals == []
    assert "killed_at" not in state.load(paths)["vms"]["cp-3"]


def test_kill_refuses_a_dead_vm_and_an_unknown_one(paths, procs):
    write_state(paths)
    with pytest.raises(config.LabError, match="already killed"):
        power.kill(paths, "cp-3")
    with pytest.raises(config.LabError, match="no VM 'cp-7'"):
        power.kill(paths, "cp-7")
    assert procs.signals == []


def test_kill_without_a_lab(paths, procs):
    with pytest.raises(config.LabError, match="not up"):
        power.kill(paths, "cp-3")


# ---------------------------------------------------------------- start

@pytest.fixture
def booted(paths, procs, monkeypatch):
    """A killed cp-3 with its disk; `run` fakes QEMU's -daemonize (writes the pidfile)."""
    argv = qemu_argv(paths)
    write_state(paths, argv=argv, killed_at=1.0)
    paths.vm_dir("cp-3").mkdir(parents=True, exist_ok=True)
    (paths.vm_dir("cp-3") / "disk.qcow2").write_bytes(b"qcow")
    (paths.vm_dir("cp-3") / "console.log").write_text("old life\n")
    calls = {"run": [], "taps": []}

    def fake_run(cmd, **kwargs):
        calls["run"].append(cmd)
        qemu.pidfile_of(cmd).write_text("5151\n")
        procs.procs[5151] = cmd[cmd.index("qemu-system-x86_64"):]

    monkeypatch.setattr(qemu, "run", fake_run)
    monkeypatch.setattr(power.net, "exists", lambda ns: True)
    monkeypatch.setattr(power.net, "add_tap", lambda ns, tap: calls["taps"].append((ns, tap)))
    monkeypatch.setenv("QUORUM_LAB_BOOT_SLOTS", "1")
    return argv, calls


def test_start_boots_the_same_machine_inside_the_namespace(paths, booted):
    argv, calls = booted
    result = power.start(paths, "cp-3")
    assert result["pid"] == 5151 and isinstance(result["t"], float)
    assert calls["run"] == [["nice", "-n", "5", "nsenter", "--net=/run/netns/quorum-lab-cluster-stacked", "--", *argv]]
    assert calls["taps"] == [("quorum-lab-cluster-stacked", "qt-cp-3")]
    vm = state.load(paths)["vms"]["cp-3"]
    assert vm["pid"] == 5151 and "killed_at" not in vm and vm["argv"] == argv
    # the other VM's record is untouched
    assert state.load(paths)["vms"]["cp-1"]["pid"] == 4240
    assert (paths.vm_dir("cp-3") / "console.prev.log").read_text() == "old life\n"


def test_start_refuses_a_running_vm(paths, booted, procs):
    argv, calls = booted
    procs.procs[4242] = argv
    with pytest.raises(config.LabError, match="is running"):
        power.start(paths, "cp-3")
    assert calls["run"] == []


def test_start_refuses_without_its_disk(paths, booted):
    calls = booted[1]
    (paths.vm_dir("cp-3") / "disk.qcow2").unlink()
    with pytest.raises(config.LabError, match="disk"):
        power.start(paths, "cp-3")
    assert calls["run"] == []


def test_start_refuses_a_recorded_command_that_is_not_the_vms_qemu(paths, booted):
    calls = booted[1]
    write_state(paths, argv=["/bin/sh", "-c", "rm -rf /"])
    with pytest.raises(config.LabError, match="not a QEMU of this VM"):
        power.start(paths, "cp-3")
    assert calls["run"] == []


def test_start_waits_for_ssh_when_asked(paths, booted, monkeypatch):
    seen = {}

    def fake_wait(paths_, ns, node, pid, timeout, hard_max, on_booted=None, via=None):
        seen.update(ns=ns, node=node.name, pid=pid, timeout=timeout, via=via)
        on_booted()
        return 42.04

    monkeypatch.setattr(power.lifecycle, "wait_ssh", fake_wait)
    result = power.start(paths, "cp-3", wait_ssh=True, boot_timeout=600)
    assert result["ssh_seconds"] == 42.0
    # a control plane is waited for directly or through the frontends (the host firewall)
    assert seen == {"ns": "quorum-lab-cluster-stacked", "node": "cp-3", "pid": 5151, "timeout": 600,
                    "via": ["10.231.0.11", "10.231.0.12"]}


# ---------------------------------------------------------------- CLI

def test_cli_prints_json(paths, booted, monkeypatch, capsys):
    monkeypatch.setenv("QUORUM_LAB_HOME", str(paths.home))
    monkeypatch.setenv("QUORUM_LAB_INSTANCE", paths.instance)
    assert cli.main(["start", "cp-3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["pid"] == 5151
    assert cli.main(["kill", "cp-9"]) == 1
    assert "no VM 'cp-9'" in capsys.readouterr().err


def test_cli_arguments():
    args = cli._parser().parse_args(["start", "fe-1", "--wait-ssh", "--boot-timeout", "900"])
    assert (args.cmd, args.name, args.wait_ssh, args.boot_timeout) == ("start", "fe-1", True, 900.0)
    args = cli._parser().parse_args(["-i", "frontend", "kill", "fe-2"])
    assert (args.cmd, args.name, args.instance) == ("kill", "fe-2", "frontend")


# ---------------------------------------------------------------- the same commands on an nspawn node

def nspawn_lab(paths, **vm_extra):
    st = write_state(paths, **vm_extra)
    st["backend"] = "nspawn"
    state.save(paths, st)
    return st


def nspawn_argv(paths, name="cp-3"):
    node = next(n for n in topology.nodes("stacked", env={}) if n.name == name)
    return nspawn.command(node, root=paths.vm_dir(name) / "root", ns="quorum-lab-cluster-stacked")[3:]


def test_kill_of_an_nspawn_node_cuts_its_pid_1(paths, procs, monkeypatch):
    nspawn_lab(paths)
    procs.procs[4242] = nspawn_argv(paths)
    monkeypatch.setattr(nspawn, "power_cut_pid", lambda pid: 4343 if pid == 4242 else None)
    monkeypatch.setattr(power, "wait_gone", lambda pid: True)
    assert power.kill(paths, "cp-3")["pid"] == 4242
    assert procs.signals == [(4343, signal.SIGKILL)]
    procs.procs[4242] = nspawn_argv(paths, "cp-1")  # the pid now runs another node
    with pytest.raises(config.LabError, match="not a running systemd-nspawn of this node"):
        power.kill(paths, "cp-3")


@pytest.fixture
def nspawn_killed(paths, procs, monkeypatch):
    nspawn_lab(paths, killed_at=1.0)
    (paths.vm_dir("cp-3") / "root" / "etc").mkdir(parents=True)
    launched = []
    monkeypatch.setattr(power.net, "exists", lambda ns: True)
    monkeypatch.setattr(nspawn, "ensure_cgroups", lambda instance, name: [])
    monkeypatch.setattr(nspawn, "launch", lambda argv, cgroups, console: launched.append(argv) or 6161)
    monkeypatch.setenv("QUORUM_LAB_BOOT_SLOTS", "1")
    return launched


def test_start_of_an_nspawn_node_boots_its_root_again(paths, procs, nspawn_killed):
    assert power.start(paths, "cp-3")["pid"] == 6161
    assert f"--directory={paths.vm_dir('cp-3') / 'root'}" in nspawn_killed[0]
    vm = state.load(paths)["vms"]["cp-3"]
    assert vm["pid"] == 6161 and "killed_at" not in vm
    procs.procs[6161] = nspawn_argv(paths)
    with pytest.raises(config.LabError, match="is running"):
        power.start(paths, "cp-3")


def test_start_of_an_nspawn_node_needs_its_root(paths, nspawn_killed):
    (paths.vm_dir("cp-3") / "root" / "etc").rmdir()
    with pytest.raises(config.LabError, match="its root .* is gone"):
        power.start(paths, "cp-3")
    assert nspawn_killed == []
