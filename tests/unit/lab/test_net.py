"""lab.net.in_host_netns: where the lab's builds may reach the Debian mirror."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from lab import net


def fake_stat(inodes: dict[str, int]):
    """os.stat over a table of path -> inode (one device); a path not in it cannot be read."""

    def stat(path):
        key = str(path)
        if key not in inodes:
            raise PermissionError(13, "Permission denied", key)
        return SimpleNamespace(st_dev=1, st_ino=inodes[key])

    return stat


@pytest.fixture
def netns_dir(tmp_path, monkeypatch):
    for name in ("quorum-lab", "other"):
        (tmp_path / name).touch()
    monkeypatch.setattr(net, "NETNS_DIR", tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("mine", "init", "expected"),
    [(10, 10, True), (11, 10, False)],
)
def test_compares_with_pid_1_when_it_can_be_read(monkeypatch, netns_dir, mine, init, expected):
    table = {"/proc/self/ns/net": mine, "/proc/1/ns/net": init,
             str(netns_dir / "quorum-lab"): 11, str(netns_dir / "other"): 12}
    monkeypatch.setattr(os, "stat", fake_stat(table))
    assert net.in_host_netns() is expected


def test_inside_a_named_namespace_when_pid_1_is_hidden(monkeypatch, netns_dir):
    table = {"/proc/self/ns/net": 11, str(netns_dir / "quorum-lab"): 11, str(netns_dir / "other"): 12}
    monkeypatch.setattr(os, "stat", fake_stat(table))
    assert net.in_host_netns() is False


def test_host_when_pid_1_is_hidden_and_no_named_namespace_is_ours(monkeypatch, netns_dir):
    table = {"/proc/self/ns/net": 10, str(netns_dir / "quorum-lab"): 11, str(netns_dir / "other"): 12}
    monkeypatch.setattr(os, "stat", fake_stat(table))
    assert net.in_host_netns() is True


def test_host_when_there_is_no_netns_directory(monkeypatch, tmp_path):
    monkeypatch.setattr(net, "NETNS_DIR", tmp_path / "missing")
    monkeypatch.setattr(os, "stat", fake_stat({"/proc/self/ns/net": 10}))
    assert net.in_host_netns() is True
