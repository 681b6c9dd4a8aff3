"""A VM whose QEMU dies during boot is booted once more; a second death fails the boot."""

import pytest

from lab import config, lifecycle, qemu, topology


@pytest.fixture
def fakes(tmp_path, monkeypatch):
    paths = config.Paths(tmp_path, "retry")
    node = topology.nodes("single", env={})[0]
    calls = {"started": 0, "deaths": 0}

    def start_vm(paths_, ns, node_, img, accel, pubkey):
        calls["started"] += 1
        console = paths_.vm_dir(node_.name) / "console.log"
        console.parent.mkdir(parents=True, exist_ok=True)
        console.write_text(f"boot {calls['started']}\n")
        return {"pid": 1000 + calls["started"]}

    def wait_ssh(paths_, ns, node_, pid, timeout, hard_max, on_booted=None, stop=None, via=None):
        if calls["deaths"] > 0:
            calls["deaths"] -= 1
            raise lifecycle.QemuExited(f"{node_.name}: QEMU exited during boot")
        return 42.0

    monkeypatch.setattr(qemu, "boot", start_vm)  # the state names no backend: QEMU
    monkeypatch.setattr(lifecycle, "wait_ssh", wait_ssh)
    monkeypatch.setattr(lifecycle.state, "save", lambda *a: None)
    monkeypatch.setattr(lifecycle, "log", lambda *a: None)

    def boot():
        return lifecycle.boot_all(paths, "ns", [node], {"vms": {}}, None, "tcg", "key", 600, 1200)

    return paths, node, calls, boot


def test_one_death_during_boot_is_retried_and_its_console_kept(fakes):
    paths, node, calls, boot = fakes
    calls["deaths"] = 1
    assert boot() == {node.name: 42.0}
    assert calls["started"] == 2
    assert (paths.vm_dir(node.name) / "console.crash-1.log").read_text() == "boot 1\n"


def test_a_second_death_fails_the_boot(fakes):
    paths, node, calls, boot = fakes
    calls["deaths"] = 2
    with pytest.raises(config.LabError, match="QEMU exited during boot"):
        boot()
    assert calls["started"] == lifecycle.BOOT_ATTEMPTS
