"""Cache keys of the image and the apt mirror; the package list and apt output parsing."""

import pytest

from lab import config, image, mirror


def test_image_key_is_stable_and_follows_the_recipe():
    rec = image.recipe()
    assert image.image_key(rec) == image.image_key(image.recipe())
    assert len(image.image_key(rec)) == 16
    changed = dict(rec, packages=rec["packages"] + ["vim"])
    assert image.image_key(changed) != image.image_key(rec)
    reordered = dict(reversed(list(rec.items())))
    assert image.image_key(reordered) == image.image_key(rec)


def test_image_recipe_covers_guest_files_and_sources():
    rec = image.recipe()
    assert "lab-identity" in rec["guest_files"]
    assert "Trusted: yes" in rec["sources"] and "http://10.231.0.1/debian" in rec["sources"]
    assert rec["suite"] == "trixie"


def test_image_key_changes_when_a_guest_file_changes(tmp_path, monkeypatch):
    (tmp_path / "lab-identity").write_text("one")
    monkeypatch.setattr(image, "GUEST_DIR", tmp_path)
    first = image.image_key(image.recipe())
    (tmp_path / "lab-identity").write_text("two")
    assert image.image_key(image.recipe()) != first


def test_debian_mirror_from_deb822_sources(tmp_path):
    (tmp_path / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\nComponents: main\n\n"
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n"
    )
    assert image.debian_mirror(tmp_path, env={}) == "http://mirror.example/debian"
    assert image.debian_mirror(tmp_path, env={"QUORUM_LAB_DEBIAN_MIRROR": "http://x/debian/"}) == "http://x/debian"


def test_debian_mirror_from_legacy_list_and_default(tmp_path):
    d = tmp_path / "sources.list.d"
    d.mkdir()
    assert image.debian_mirror(d, env={}) == "http://deb.debian.org/debian"
    (tmp_path / "sources.list").write_text("# c\ndeb [arch=amd64] http://legacy.example/debian bookworm main\n")
    assert image.debian_mirror(d, env={}) == "http://legacy.example/debian"


def test_read_packages(tmp_path):
    f = tmp_path / "p.txt"
    f.write_text("# header\ncontainerd\n\nrunc  # inline\ncontainerd\nlibstdc++6\n")
    assert mirror.read_packages(f) == ["containerd", "runc", "libstdc++6"]
    f.write_text("containerd; rm -rf /\n")
    with pytest.raises(config.LabError, match="not a Debian package name"):
        mirror.read_packages(f)


def test_the_mirror_list_has_what_the_roles_need():
    names = set(mirror.read_packages())
    required = {"containerd", "runc", "containernetworking-plugins", "iptables", "nftables", "conntrack", "socat",
                "ethtool", "ipset", "ebtables", "keepalived", "haproxy", "curl", "ca-certificates", "python3",
                "python3-apt", "gnupg", "etcd-client", "jq", "busybox-static", "catatonit"}
    assert required <= names


def test_mirror_key():
    a = mirror.mirror_key(["b", "a"], "http://m/debian")
    assert a == mirror.mirror_key(["a", "b", "a"], "http://m/debian")
    assert a != mirror.mirror_key(["a", "b", "c"], "http://m/debian")
    assert a != mirror.mirror_key(["a", "b"], "http://other/debian")


def test_parse_simulation_and_pool_names():
    sim = (
        "NOTE: This is only a simulation!\n"
        "Inst libc6 (2.41-12+deb13u4 Debian:13.2/stable [amd64])\n"
        "Inst keepalived (1:2.3.3-1 Debian:13.2/stable [amd64])\n"
        "Conf libc6 (2.41-12+deb13u4 Debian:13.2/stable [amd64])\n"
    )
    wanted = mirror.parse_simulation(sim)
    assert wanted == {("libc6", "2.41-12+deb13u4"), ("keepalived", "1:2.3.3-1")}
    assert mirror.deb_identity("keepalived_1%3a2.3.3-1_amd64.deb") in wanted
    assert mirror.deb_identity("tzdata_2025b-4_all.deb") == ("tzdata", "2025b-4")


def test_apt_options_confine_apt(tmp_path):
    opts = mirror.apt_options(tmp_path)
    joined = " ".join(opts)
    assert f"Dir={tmp_path}" in joined and f"Dir::State::status={tmp_path}/var/lib/dpkg/status" in joined
    assert "APT::Install-Recommends=false" in joined
