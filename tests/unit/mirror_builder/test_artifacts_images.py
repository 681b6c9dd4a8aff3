import os
import struct

import pytest

from mirror_builder import images, oci, verify


@pytest.fixture
def bins(tmp_path):
    out = {}
    for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "kube-router",
                 "etcd", "etcdctl", "etcdutl", "coredns", "pause"):
        path = tmp_path / name
        path.write_bytes(name.encode())
        out[name] = str(path)
    return out


@pytest.fixture
def roots(tmp_path):
    proxy = tmp_path / "proxy"
    (proxy / "usr/sbin").mkdir(parents=True)
    (proxy / "usr/sbin/xtables-nft-multi").write_bytes(b"x")
    (proxy / "usr/share/iproute2").mkdir(parents=True)
    (proxy / "usr/share/iproute2/rt_tables").write_bytes(b"255\tlocal\n254\tmain\n")
    busybox = tmp_path / "busybox"
    (busybox / "usr/bin").mkdir(parents=True)
    (busybox / "usr/bin/busybox").write_bytes(b"bb")
    return str(proxy), str(busybox)


def _paths(image):
    return {e.path: e for layer in image.layers for e in layer}


def test_control_plane_images(bins, roots):
    for repo in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        image = images.define(f"registry.k8s.io/{repo}:v1.35.8", bins, *roots, {})
        assert _paths(image)[f"usr/local/bin/{repo}"].mode == 0o755
        assert image.entrypoint == [f"/usr/local/bin/{repo}"]
        assert any(e.startswith("PATH=") and "/usr/local/bin" in e for e in image.env)


@pytest.mark.parametrize("ref", ["registry.k8s.io/kube-proxy:v1.35.8", "docker.io/cloudnativelabs/kube-router:v2.1.0"])
def test_network_images_have_userland_and_iptables_links(bins, roots, ref):
    repo = images.repository_of(ref)
    image = images.define(ref, bins, *roots, {})
    paths = _paths(image)
    assert paths["usr/sbin/iptables"].target == "xtables-nft-multi"
    assert paths["usr/sbin/ip6tables-restore"].target == "xtables-nft-multi"
    assert paths["lib64"].kind == "symlink" and paths["lib64"].target == "usr/lib64"
    assert paths[f"usr/local/bin/{repo}"].source == bins[repo]
    assert image.entrypoint == [f"/usr/local/bin/{repo}"]
    assert ("etc/iproute2/rt_tables" in paths) is (repo == "kube-router")
    assert ("etc/iproute2/rt_tables" in paths) is (repo == "kube-router")
    with pytest.raises(oci.OCIError, match=repo):
        images.define(ref, bins, None, None, {})


def test_etcd_coredns_pause_and_test_image(bins, roots):
    etcd = _paths(images.define("registry.k8s.io/etcd:3.6.6-0", bins, *roots, {}))
    assert {"usr/local/bin/etcd", "usr/local/bin/etcdctl", "usr/local/bin/etcdutl"} <= set(etcd)
    coredns = images.define("registry.k8s.io/coredns/coredns:v1.13.1", bins, *roots, {})
    assert coredns.entrypoint == ["/coredns"]
    pause = images.define("registry.k8s.io/pause:3.10.1", bins, *roots, {})
    assert pause.entrypoint == ["/pause"] and pause.user == "65535:65535"
    test = images.define(images.TEST_IMAGE, bins, *roots, {})
    assert test.entrypoint[:2] == ["/usr/bin/busybox", "httpd"]
    assert _paths(test)["usr/bin/wget"].target == "busybox"
    with pytest.raises(oci.OCIError, match="no recipe"):
        images.define("registry.k8s.io/unknown:1", bins, *roots, {})


def _elf(path, with_interp):
    phnum = 1
    header = bytearray(64)
    header[:4] = b"\x7fELF"
    header[4] = 2
    header[5] = 1
    struct.pack_into("<Q", header, 32, 64)
    struct.pack_into("<HH", header, 54, 56, phnum)
    ph = bytearray(56)
    struct.pack_into("<I", ph, 0, 3 if with_interp else 1)
    path.write_bytes(bytes(header) + bytes(ph))


def test_is_static_elf(tmp_path):
    _elf(tmp_path / "static", False)
    _elf(tmp_path / "dynamic", True)
    assert verify.is_static_elf(str(tmp_path / "static"))
    assert not verify.is_static_elf(str(tmp_path / "dynamic"))
    (tmp_path / "text").write_text("#!/bin/sh\n")
    with pytest.raises(ValueError):
        verify.is_static_elf(str(tmp_path / "text"))
    if os.path.exists("/bin/sh"):
        assert not verify.is_static_elf(os.path.realpath("/bin/sh"))
