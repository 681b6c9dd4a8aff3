"""QEMU command lines and accelerator choice."""

import base64

import pytest

from lab import config, qemu, topology

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBnR quorum-lab"


def node(name="cp-2"):
    return {n.name: n for n in topology.nodes("stacked", env={})}[name]


def cmd(accel="tcg", n=None, tmp="/r"):
    return qemu.command(n or node(), accel=accel, kernel=f"{tmp}/vmlinuz", initrd=f"{tmp}/initrd.img",
                        disk=f"{tmp}/disk.qcow2", console=f"{tmp}/console.log", pidfile=f"{tmp}/qemu.pid",
                        authorized_key=KEY, marker="qlab-default")


def opt(argv, flag):
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_kernel_command_line_carries_the_identity():
    line = qemu.kernel_cmdline(node(), KEY)
    words = line.split()
    assert "ip=10.231.0.22::10.231.0.1:255.255.255.0:cp-2:eth0:off" in words
    assert "systemd.hostname=cp-2" in words
    assert "net.ifnames=0" in words and "root=/dev/vda" in words and "console=ttyS0,115200" in words
    key64 = next(w for w in words if w.startswith("lab.sshkey="))[len("lab.sshkey="):]
    assert base64.b64decode(key64).decode() == KEY + "\n"


def test_tcg_command_line():
    argv = cmd()
    n = node()
    assert argv[0] == "qemu-system-x86_64"
    assert opt(argv, "-accel") == [f"tcg,thread=multi,tb-size={n.size.tb_size_mib}"]
    assert opt(argv, "-cpu") == ["max"]
    assert opt(argv, "-m") == ["2048M"] and opt(argv, "-smp") == ["2"]
    assert opt(argv, "-netdev") == ["tap,id=net0,ifname=qt-cp-2,script=no,downscript=no"]
    assert opt(argv, "-device")[0] == f"virtio-net-pci,netdev=net0,mac={n.mac}"
    assert opt(argv, "-drive") == ["file=/r/disk.qcow2,if=virtio,format=qcow2,cache=unsafe,discard=unmap"]
    assert opt(argv, "-serial") == ["file:/r/console.log"]
    assert opt(argv, "-pidfile") == ["/r/qemu.pid"] and "-daemonize" in argv and "-no-reboot" in argv
    assert opt(argv, "-name")[0].startswith("qlab-default:cp-2")
    assert opt(argv, "-append") == [qemu.kernel_cmdline(n, KEY)]


def test_kvm_command_line():
    argv = cmd("kvm")
    assert opt(argv, "-accel") == ["kvm"] and opt(argv, "-cpu") == ["host"]


def test_unknown_accelerator():
    with pytest.raises(config.LabError, match="unknown accelerator"):
        cmd("hvf")


def test_tb_size_follows_the_role_size():
    small = node("fe-1")
    assert opt(cmd(n=small), "-accel") == ["tcg,thread=multi,tb-size=64"]


def test_choose_accel_forced_and_without_kvm(tmp_path, monkeypatch):
    kernel = tmp_path / "vmlinuz"
    kernel.write_text("k")
    assert qemu.choose_accel(tmp_path, kernel, env={"QUORUM_LAB_ACCEL": "kvm"}) == "kvm"
    with pytest.raises(config.LabError, match="QUORUM_LAB_ACCEL"):
        qemu.choose_accel(tmp_path, kernel, env={"QUORUM_LAB_ACCEL": "fast"})
    monkeypatch.setattr(qemu.os, "access", lambda path, mode: False)
    assert qemu.choose_accel(tmp_path, kernel, env={}) == "tcg"


def test_choose_accel_uses_the_cached_probe(tmp_path, monkeypatch):
    kernel = tmp_path / "vmlinuz"
    kernel.write_text("kernel")
    monkeypatch.setattr(qemu.os, "access", lambda path, mode: True)
    monkeypatch.setattr(qemu, "run", lambda *a, **k: type("P", (), {"stdout": "QEMU emulator version 7.2\n"})())
    calls = []
    monkeypatch.setattr(qemu, "probe_kvm", lambda k, d: calls.append(k) or False)
    assert qemu.choose_accel(tmp_path, kernel, env={}) == "tcg"
    assert qemu.choose_accel(tmp_path, kernel, env={}) == "tcg"
    assert len(calls) == 1  # second call answered from the cache
    kernel.write_text("another kernel")
    qemu.choose_accel(tmp_path, kernel, env={})
    assert len(calls) == 2  # a new kernel is probed again
