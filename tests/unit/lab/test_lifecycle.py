"""Resource checks and recognising the lab's own processes (no VM is booted here)."""

import pytest

from lab import config, lifecycle, state, topology


@pytest.fixture
def paths(tmp_path):
    return config.Paths(tmp_path, "smoke")


def test_resources_enough(tmp_path):
    nodes = topology.nodes("stacked", env={})
    lifecycle.check_resources(nodes, tmp_path, mem_available=64 * 1024, disk_free=100 * 1024, env={})


def test_resources_short_memory_and_disk_in_one_message(tmp_path):
    nodes = topology.nodes("stacked", env={})
    with pytest.raises(config.LabError) as err:
        lifecycle.check_resources(nodes, tmp_path, mem_available=4096, disk_free=100, env={})
    text = str(err.value)
    need = topology.memory_needed_mib(nodes) + 512
    assert f"7 VMs need {need} MiB, 4096 MiB available" in text
    assert "disk:" in text and "nothing was started" in text


def test_resource_check_can_be_skipped(tmp_path):
    nodes = topology.nodes("stacked", env={})
    lifecycle.check_resources(nodes, tmp_path, mem_available=1, disk_free=1, env={"QUORUM_LAB_SKIP_RESOURCE_CHECK": "1"})


def test_meminfo(tmp_path):
    f = tmp_path / "meminfo"
    f.write_text("MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   2097152 kB\n")
    assert lifecycle.meminfo_available_mib(f) == 2048
    f.write_text("MemTotal: 1 kB\n")
    with pytest.raises(config.LabError):
        lifecycle.meminfo_available_mib(f)


def test_is_ours(paths):
    run = str(paths.run)
    assert lifecycle.is_ours(["qemu-system-x86_64", "-drive", f"file={run}/vms/node-1/disk.qcow2"], paths)
    assert lifecycle.is_ours(["/venv/bin/python", "-m", "lab.httpd", "--directory", "/m", "--marker", run], paths)
    assert lifecycle.is_ours(["/venv/bin/python3", "/venv/bin/bao", "server", f"-config={run}/vault/config.hcl"], paths)
    # another instance's qemu, an ansible run reading the inventory, and unrelated processes are not ours
    other = config.Paths(paths.home, "smoke2")
    assert not lifecycle.is_ours(["qemu-system-x86_64", "-drive", f"file={other.run}/vms/x/disk.qcow2"], paths)
    assert not lifecycle.is_ours(["ansible-playbook", "-i", f"{run}/inventory.yml", "site.yml"], paths)
    assert not lifecycle.is_ours(["/venv/bin/python", "-m", "lab.httpd", "--marker", str(other.run)], paths)
    assert not lifecycle.is_ours([], paths)


def test_recorded_pids():
    st = {"vms": {"a": {"pid": 10}, "b": {"pid": 11}}, "mirror_pid": 12, "vault_pid": None}
    assert sorted(state.recorded_pids(st)) == [10, 11, 12]
    assert state.recorded_pids(None) == []


def test_ssh_argv_uses_the_lab_key(paths):
    argv = lifecycle.ssh_argv(paths, "10.231.0.61", ["true"])
    assert argv[:3] == ["ssh", "-i", str(paths.ssh_key)]
    assert argv[-2:] == ["root@10.231.0.61", "true"]
    assert "BatchMode=yes" in argv


def test_boot_deadline():
    # within the timeout: never give up
    assert not lifecycle.boot_deadline(0, 100, 0, timeout=300, hard_max=1800)
    # past the timeout but the console still moves: keep waiting
    assert not lifecycle.boot_deadline(0, 500, 450, timeout=300, hard_max=1800)
    # past the timeout and silent for more than 120 s: give up
    assert lifecycle.boot_deadline(0, 500, 370, timeout=300, hard_max=1800)
    # past the hard maximum: give up even while it talks
    assert lifecycle.boot_deadline(0, 1801, 1800, timeout=300, hard_max=1800)


def test_console_tail_is_readable(tmp_path):
    from lab import util

    log = tmp_path / "console.log"
    log.write_bytes(
        b"[    1.0] Linux version 6.12\r\n"
        b"\x1b[0;32m  OK  \x1b[0m] Reached target local-fs.target\r\n"
        b"\x1bM\x1b[K[ \x1b[0;31m*\x1b[0m] (1 of 3) Job systemd-udevd.service/start running (1min 2s / 5min)\r\n"
        b"\x1bM\x1b[K[ \x1b[0;31m*\x1b[0m] (1 of 3) Job systemd-udevd.service/start running (1min 3s / 5min)\r\n"
        b"login:\r\n"
    )
    assert util.tail(log, 10).splitlines() == [
        "[    1.0] Linux version 6.12",
        "  OK  ] Reached target local-fs.target",
        "[ *] (1 of 3) Job systemd-udevd.service/start running (1min 3s / 5min)",
        "login:",
    ]
    assert util.tail(tmp_path / "missing.log").startswith("(no console log")


def test_sshd_listening_from_ssh_errors():
    assert lifecycle.sshd_listening("Connection timed out during banner exchange\nConnection to 10.231.0.61 port 22 timed out")
    assert lifecycle.sshd_listening("root@10.231.0.61: Permission denied (publickey).")
    assert not lifecycle.sshd_listening("ssh: connect to host 10.231.0.61 port 22: Connection refused")
    assert not lifecycle.sshd_listening("ssh: connect to host 10.231.0.61 port 22: No route to host")
    assert not lifecycle.sshd_listening("ssh: connect to host 10.231.0.61 port 22: Connection timed out")
