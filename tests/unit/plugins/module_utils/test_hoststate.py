"""The host_state decisions: does a node's state match what a role would write?"""
from __future__ import annotations

import hashlib
import os

import pytest

from ansible_collections.quorum.k8s.plugins.module_utils import _hoststate


def test_file_facts_of_a_file_a_directory_and_nothing(tmp_path):
    f = tmp_path / "rules.nft"
    f.write_bytes(b"table inet quorum {}\n")
    os.chmod(f, 0o600)
    facts = _hoststate.file_facts(str(f))
    assert facts["state"] == "file"
    assert facts["mode"] == "0600"
    assert facts["sha1"] == hashlib.sha1(b"table inet quorum {}\n").hexdigest()
    assert _hoststate.file_facts(str(tmp_path))["state"] == "directory"
    assert "sha1" not in _hoststate.file_facts(str(tmp_path))
    assert _hoststate.file_facts(str(tmp_path / "none")) == {"state": "absent"}


def test_file_facts_hash_only_what_is_asked(tmp_path):
    f = tmp_path / "kubelet"
    f.write_bytes(b"ELF")
    facts = _hoststate.file_facts(str(f), ["sha256"])
    assert facts["sha256"] == hashlib.sha256(b"ELF").hexdigest()
    assert "sha1" not in facts
    assert "sha256" not in _hoststate.file_facts(str(f), [])


def test_a_sha256_is_compared_like_a_sha1():
    facts = dict(FACTS, sha256="ef" * 32)
    assert _hoststate.file_differences({"path": "/usr/local/bin/kubelet", "sha256": "EF" * 32}, facts) == []
    assert _hoststate.file_differences({"path": "/usr/local/bin/kubelet", "sha256": "01" * 32}, facts) == [
        "/usr/local/bin/kubelet: content differs"]


def test_a_link_is_not_followed(tmp_path):
    (tmp_path / "target").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    facts = _hoststate.file_facts(str(tmp_path / "link"))
    assert facts["state"] == "other"
    assert _hoststate.file_differences({"path": "/l"}, facts) == ["/l: is other, wanted file"]


FACTS = {"state": "file", "mode": "0600", "owner": "root", "group": "root", "sha1": "ab" * 20}


def test_a_file_as_wanted_has_no_difference():
    wanted = {"path": "/etc/x", "sha1": "AB" * 20, "mode": "0600", "owner": "root", "group": "root"}
    assert _hoststate.file_differences(wanted, FACTS) == []


def test_only_the_fields_given_are_compared():
    assert _hoststate.file_differences({"path": "/etc/x"}, FACTS) == []
    assert _hoststate.file_differences({"path": "/etc/x", "mode": "600"}, FACTS) == []


def test_each_difference_is_named():
    wanted = {"path": "/etc/x", "sha1": "cd" * 20, "mode": "0644", "owner": "haproxy", "group": "haproxy"}
    assert _hoststate.file_differences(wanted, FACTS) == [
        "/etc/x: content differs", "/etc/x: mode 0600, wanted 0644",
        "/etc/x: owner root, wanted haproxy", "/etc/x: group root, wanted haproxy"]


def test_state_absent_and_directory():
    assert _hoststate.file_differences({"path": "/x", "state": "absent"}, {"state": "absent"}) == []
    assert _hoststate.file_differences({"path": "/x", "state": "absent"}, FACTS) == ["/x: is file, wanted absent"]
    assert _hoststate.file_differences({"path": "/x", "state": "directory"}, {"state": "absent"}) == [
        "/x: is absent, wanted directory"]
    with pytest.raises(ValueError, match="state must be one of"):
        _hoststate.file_differences({"path": "/x", "state": "link"}, FACTS)


def test_installed_packages_are_those_marked_ii():
    out = "nftables\tii \nhaproxy\trc \nkeepalived:amd64\tii \n"
    assert _hoststate.installed_packages(out) == {"nftables", "keepalived"}
    assert _hoststate.package_differences(["nftables", "haproxy=3.0", "runc"], {"nftables"}) == [
        "package haproxy: not installed", "package runc: not installed"]


SHOW = """Id=quorum-firewall.service
ActiveState=active
UnitFileState=enabled

Id=kubelet.service
ActiveState=inactive
UnitFileState=disabled
"""


def test_units_from_systemctl_show():
    facts = _hoststate.parse_systemctl_show(SHOW, ["quorum-firewall.service", "kubelet.service", "gone.service"])
    assert facts["quorum-firewall.service"] == {"enabled": "enabled", "active": "active"}
    assert facts["kubelet.service"] == {"enabled": "disabled", "active": "inactive"}
    assert facts["gone.service"] == {"enabled": "", "active": ""}
    wanted = [{"name": "quorum-firewall.service", "enabled": True, "active": True},
              {"name": "kubelet.service", "enabled": True, "active": None},
              {"name": "gone.service", "enabled": None, "active": True}]
    assert _hoststate.unit_differences(wanted, facts) == [
        "unit kubelet.service: disabled, wanted enabled", "unit gone.service: unknown, wanted active"]


def test_sysctls_compare_without_caring_for_whitespace():
    values = {"net.ipv4.ip_forward": "1\n", "net.ipv4.ip_local_port_range": "32768\t60999\n"}
    read = values.get
    assert _hoststate.sysctl_differences({"net.ipv4.ip_forward": 1,
                                          "net.ipv4.ip_local_port_range": "32768 60999"}, read) == []
    assert _hoststate.sysctl_differences({"net.ipv4.ip_forward": 0, "net.bridge.x": 1}, read) == [
        "sysctl net.bridge.x: missing, wanted 1", "sysctl net.ipv4.ip_forward: 1, wanted 0"]


def test_users_missing_or_with_another_shell_or_home():
    class Entry:
        pw_shell = "/bin/bash"
        pw_dir = "/nonexistent"
    users = {"keepalived_script": Entry()}
    wanted = [{"name": "keepalived_script", "shell": "/usr/sbin/nologin", "home": "/nonexistent"},
              {"name": "nobody-here"}]
    assert _hoststate.user_differences(wanted, users.get) == [
        "user keepalived_script: shell /bin/bash, wanted /usr/sbin/nologin", "user nobody-here: missing"]
    assert _hoststate.user_differences([{"name": "keepalived_script", "home": "/nonexistent"}], users.get) == []


SWAPS_HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"


def test_swap_off_is_no_area_in_use_and_no_active_fstab_line():
    fstab = "UUID=1 / ext4 defaults 0 1\n# /swapfile none swap sw 0 0\n"
    assert _hoststate.swap_differences(SWAPS_HEADER, fstab) == []
    assert _hoststate.swap_differences(SWAPS_HEADER, None) == []


def test_swap_in_use_or_at_boot_is_named():
    swaps = SWAPS_HEADER + "/swapfile                               file\t\t1048572\t\t0\t\t-2\n"
    fstab = "UUID=1 / ext4 defaults 0 1\n/swapfile none swap sw 0 0\n"
    assert _hoststate.swap_differences(swaps, fstab) == [
        "swap: 1 area(s) in use", "/etc/fstab: a swap line is active"]
