"""The lab's OpenStack (lab/openstack.py): its address, cache key, clouds.yaml and guest files."""

import ipaddress
import stat
import subprocess

import pytest
import yaml

from lab import config, openstack, topology


def paths_at(tmp_path):
    return config.Paths(home=tmp_path, instance="t")


def test_address_is_in_the_lab_network_and_no_node_of_any_topology_has_it():
    assert ipaddress.ip_address(openstack.IP) in ipaddress.ip_network(config.NODE_CIDR)
    assert openstack.IP not in (config.GATEWAY, config.API_VIP)
    for name in topology.TOPOLOGIES:
        workers = topology.max_workers(name) if name in topology.VARIABLE_WORKERS else None
        assert openstack.IP not in {n.ip for n in topology.nodes(name, workers=workers, env={})}, name


def test_cache_key_follows_the_guest_files(tmp_path, monkeypatch):
    guest = tmp_path / "guest"
    guest.mkdir()
    (guest / "setup").write_text("echo one\n")
    monkeypatch.setattr(openstack, "GUEST", guest)
    first = openstack.cache_dir(paths_at(tmp_path))
    assert openstack.cache_dir(paths_at(tmp_path)) == first
    (guest / "setup").write_text("echo two\n")
    assert openstack.cache_dir(paths_at(tmp_path)) != first


def test_clouds_yaml_has_both_clouds_and_is_private(tmp_path):
    paths = paths_at(tmp_path)
    cache = openstack.cache_dir(paths)
    cache.mkdir(parents=True)
    creds = {key: f"{key.lower()}-value" for key in openstack.SECRETS}
    (cache / "credentials.json").write_text(__import__("json").dumps(creds))
    path = openstack.write_clouds_yaml(paths)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    clouds = yaml.safe_load(path.read_text())["clouds"]
    assert clouds[openstack.CLOUD]["auth"]["username"] == "quorum"
    assert clouds[openstack.CLOUD]["auth"]["password"] == "quorum_password-value"
    assert clouds[openstack.CLOUD]["auth"]["project_name"] == "quorum"
    assert clouds[openstack.ADMIN_CLOUD]["auth"]["username"] == "admin"
    assert clouds[openstack.ADMIN_CLOUD]["auth"]["auth_url"] == f"http://{openstack.IP}:5000/v3"


def test_credentials_missing_is_a_lab_error(tmp_path):
    with pytest.raises(config.LabError, match="not configured yet"):
        openstack.credentials(paths_at(tmp_path))


def test_setup_script_is_valid_bash():
    subprocess.run(["bash", "-n", str(openstack.GUEST / "setup")], check=True)


def test_every_unit_the_setup_enables_is_shipped():
    text = (openstack.GUEST / "setup").read_text()
    assert "lab-nova-compute@${host}" in text and "lab-neutron-agent@${host}" in text
    for unit in ("lab-nova-compute@.service", "lab-neutron-agent@.service", "lab-openstack-setup.service"):
        assert (openstack.GUEST / unit).is_file()


def test_prune_keeps_the_current_configured_root_and_every_base(tmp_path):
    for name in ("base-aaa", "base-bbb", "old1", "old2", "current", ".base-ccc-build"):
        (tmp_path / name).mkdir()
    openstack._prune(tmp_path / "current")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".base-ccc-build", "base-aaa", "base-bbb", "current"]


def test_put_file_writes_inside_the_root_with_its_mode(tmp_path):
    from lab.util import put_file

    put_file(tmp_path, "/etc/a/b.conf", "x\n", 0o600)
    put_file(tmp_path, "etc/c", "y\n")
    assert (tmp_path / "etc/a/b.conf").read_text() == "x\n"
    assert stat.S_IMODE((tmp_path / "etc/a/b.conf").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "etc/c").stat().st_mode) == 0o644
