"""Verify the smoke role and the lab guests with testinfra."""

import pytest

EXPECTED = {"node-1": "10.231.0.61", "node-2": "10.231.0.62", "node-3": "10.231.0.63"}


def test_marker_names_the_host(host):
    marker = host.file("/etc/quorum-lab-smoke")
    assert marker.exists
    assert marker.mode == 0o644
    name, address = marker.content_string.split()
    assert EXPECTED[name] == address
    assert host.check_output("hostname") == name


def test_package_came_from_the_lab_mirror(host):
    assert host.package("jq").is_installed
    policy = host.check_output("apt-cache policy jq")
    assert "http://10.231.0.1/debian trixie/main" in policy


def test_ssh_host_keys_are_per_vm(host):
    own = host.check_output("cut -d' ' -f2 /etc/ssh/ssh_host_ed25519_key.pub")
    name = host.check_output("hostname")
    for peer_name, peer in EXPECTED.items():
        # OpenSSH 10 also prints a '# host:22 SSH-2.0-...' comment line on stdout
        scanned = host.check_output(f"ssh-keyscan -T 30 -t ed25519 {peer} 2>/dev/null | awk '!/^#/ {{print $3}}'")
        if peer_name == name:
            assert scanned == own
        else:
            assert scanned and scanned != own, f"{name} and {peer_name} share an SSH host key"


@pytest.mark.parametrize("peer", sorted(EXPECTED.values()))
def test_vms_reach_each_other(host, peer):
    assert host.run(f"ping -c1 -W5 {peer}").rc == 0


def test_vms_reach_the_mirror_only_inside_the_lab(host):
    assert host.run("python3 -c \"import urllib.request;urllib.request.urlopen('http://10.231.0.1/debian/dists/trixie/Release', timeout=10)\"").rc == 0
    route = host.check_output("ip route")
    assert "10.231.0.0/24" in route
