"""build.py end to end with the Go builds, the Debian userland and kubeadm faked: one release or two in
one mirror, the manifest's and images/index.json's format, and when a mirror counts as up to date."""
import json
import os

import pytest

from mirror_builder import build, config, debian, gobuild, images, mirror, verify, verify_images

MAIN, OLD = "v1.35.8", "v1.34.12"
# What kubeadm's constants.go pins, per release (pause is shared: one archive for both).
PINS = {"v1.35.8": ("3.6.6-0", "v1.13.1", "3.10.1"), "v1.34.12": ("3.6.5-0", "v1.12.1", "3.10.1"),
        "v1.34.11": ("3.6.5-0", "v1.12.1", "3.10.1"), "v1.35.6": ("3.6.6-0", "v1.13.1", "3.10.1")}


class FakeGo:
    def __init__(self, cache_root, log=print):
        self.cache_root = cache_root

    def version(self):
        return "go version go1.26.8 linux/amd64"


def _files(outdir, names):
    os.makedirs(outdir, exist_ok=True)
    for name in names:
        with open(os.path.join(outdir, name), "w", encoding="utf-8") as f:
            f.write(f"{name} from {os.path.basename(outdir)}\n")


@pytest.fixture
def fake(monkeypatch):
    """The boundary faked; ``calls`` records what would have been compiled, ``fail`` names releases whose
    Kubernetes build fails."""
    calls, fail = [], set()

    def kubernetes(go, version, outdir):
        if version in fail:
            raise gobuild.GoBuildError(f"k8s.io/kubernetes@{version}: not served")
        calls.append(("kubernetes", version))
        _files(outdir, gobuild.KUBERNETES_COMMANDS)
        etcd, coredns, pause = PINS[version]
        return {"version": version, "commit": "", "build_date": "2026-09-23T15:00:00Z",
                "pins": {"etcd_image_tag": etcd, "coredns_version": coredns, "pause_version": pause}}

    def command(kind, names):
        def run(go, version, outdir):
            calls.append((kind, version))
            _files(outdir, names)
            return {"version": version, "commit": "c0ffee"}
        return run

    def crictl(go, kubernetes_version, bin_root):
        version = f"v1.{gobuild.parse_version(kubernetes_version)[1]}.0"
        calls.append(("crictl", version))
        outdir = os.path.join(bin_root, f"crictl-{version}")
        _files(outdir, ["crictl"])
        return {"version": version, "commit": "c0ffee", "dir": outdir}

    def userland(repo, roots, workdir):
        root = os.path.join(workdir, "-".join(roots))
        for rel in ("usr/sbin/xtables-nft-multi", "usr/share/iproute2/rt_tables", "usr/bin/busybox"):
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w", encoding="utf-8") as f:
                f.write(rel)
        return root, [debian.Package(roots[0], "1", "amd64", "f", "00", 1)]

    def kubeadm_list(kubeadm, version):
        return images.expected_references(version, *PINS[version])

    monkeypatch.setattr(build.gobuild, "Go", FakeGo)
    monkeypatch.setattr(build.gobuild, "build_kubernetes", kubernetes)
    monkeypatch.setattr(build.gobuild, "build_etcd", command("etcd", gobuild.ETCD_COMMANDS))
    monkeypatch.setattr(build.gobuild, "build_coredns", command("coredns", ["coredns"]))
    monkeypatch.setattr(build.gobuild, "build_pause", command("pause", ["pause"]))
    monkeypatch.setattr(build.gobuild, "build_kube_router", command("kube-router", ["kube-router"]))
    monkeypatch.setattr(build.gobuild, "build_crictl", crictl)
    monkeypatch.setattr(build.debian, "userland", userland)
    monkeypatch.setattr(build, "kubeadm_image_list", kubeadm_list)
    return calls, fail


def _settings(tmp_path, upgrade_from=None, version=MAIN):
    return config.Settings(home=str(tmp_path), kubernetes_version=version, debian_mirror="http://deb.example/debian",
                           upgrade_from=upgrade_from)


def _load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _index(tmp_path):
    return {e["image"]: e for e in _load(tmp_path / "mirror" / "images" / "index.json")}


def test_one_release_keeps_the_manifest_fields_and_marks_kubeadm_images(tmp_path, fake):
    manifest = _load(build.build(_settings(tmp_path)))
    assert manifest["kubernetes_version"] == MAIN
    assert manifest["pins"] == {"etcd": "v3.6.6", "etcd_image_tag": "3.6.6-0", "coredns": "v1.13.1",
                                "pause": "3.10.1", "crictl": "v1.35.0", "kube-router": "v2.1.0"}
    assert manifest["test_image"] == {"image": images.TEST_IMAGE, "port": images.TEST_IMAGE_PORT}
    assert list(manifest["releases"]) == [MAIN]
    assert manifest["releases"][MAIN]["pins"] == {k: v for k, v in manifest["pins"].items() if k != "kube-router"}
    index = _index(tmp_path)
    listed = images.expected_references(MAIN, *PINS[MAIN])
    assert sorted(e for e in index if index[e]["kubeadm"]) == listed
    for ref in listed:
        assert index[ref]["kubernetes"] == [MAIN]
    for ref in ("docker.io/cloudnativelabs/kube-router:v2.1.0", images.TEST_IMAGE):
        assert "kubernetes" not in index[ref] and index[ref]["kubeadm"] is False
    # kubeadm's images first, sorted, as before a mirror could carry two releases
    assert list(index)[:len(listed)] == listed


def test_two_releases_share_one_tree(tmp_path, fake):
    calls, _fail = fake
    manifest = _load(build.build(_settings(tmp_path, OLD)))
    assert ("kubernetes", MAIN) in calls and ("kubernetes", OLD) in calls
    assert calls.count(("kube-router", "v2.1.0")) == 1
    # the top-level fields stay the main release's
    assert manifest["kubernetes_version"] == MAIN and manifest["pins"]["etcd"] == "v3.6.6"
    assert sorted(manifest["releases"]) == [OLD, MAIN]
    assert manifest["releases"][OLD]["pins"] == {"etcd": "v3.6.5", "etcd_image_tag": "3.6.5-0",
                                                 "coredns": "v1.12.1", "pause": "3.10.1", "crictl": "v1.34.0"}
    paths = [a["path"] for a in manifest["artifacts"]]
    assert len(paths) == len(set(paths))
    by_path = {a["path"]: a for a in manifest["artifacts"]}
    assert by_path["images/registry.k8s.io_pause_3.10.1.tar"]["kubernetes"] == [OLD, MAIN]
    assert by_path[mirror.kubernetes_binary_path(OLD, "kubeadm")]["kubernetes"] == [OLD]
    assert by_path[mirror.etcd_tarball_path("v3.6.5")]["kubernetes"] == [OLD]
    assert by_path[mirror.etcd_tarball_path("v3.6.6")]["kubernetes"] == [MAIN]
    root = tmp_path / "mirror"
    assert (root / mirror.kubernetes_stable_path(MAIN)).read_text() == MAIN + "\n"
    assert (root / mirror.kubernetes_stable_path(OLD)).read_text() == OLD + "\n"

    index = _index(tmp_path)
    for version in (MAIN, OLD):
        listed = images.expected_references(version, *PINS[version])
        assert sorted(r for r, e in index.items() if version in e.get("kubernetes", [])) == listed
        assert verify.release_images(list(index.values()), version) == listed
        assert {e["image"] for e in verify_images.for_version(list(index.values()), version)} == \
            set(listed) | {"docker.io/cloudnativelabs/kube-router:v2.1.0", images.TEST_IMAGE}
    assert index["registry.k8s.io/pause:3.10.1"]["kubernetes"] == [OLD, MAIN]
    assert index[f"registry.k8s.io/kube-apiserver:{OLD}"]["kubernetes"] == [OLD]
    assert all(e["kubeadm"] == ("kubernetes" in e) for e in index.values())
    assert list(index) == sorted(r for r in index if index[r]["kubeadm"]) + [
        "docker.io/cloudnativelabs/kube-router:v2.1.0", images.TEST_IMAGE]

    # verify selects each release's binaries and tarballs by its pins
    pins = verify.release_pins(manifest)
    old = verify.release_artifacts(manifest, OLD, pins[OLD])
    assert sorted(a["name"] for a in old) == sorted(list(gobuild.KUBERNETES_COMMANDS) + ["etcd", "coredns", "crictl"])
    assert {a["version"] for a in old if a["kind"] == "tarball"} == {"v3.6.5", "v1.12.1", "v1.34.0"}


def test_an_older_patch_of_the_same_minor_does_not_take_the_stable_file(tmp_path, fake):
    build.build(_settings(tmp_path, "v1.35.6"))
    assert (tmp_path / "mirror" / mirror.kubernetes_stable_path(MAIN)).read_text() == MAIN + "\n"


def test_the_key_ignores_the_upgrade_release_and_the_manifest_says_which_it_carries(tmp_path, fake):
    calls, _fail = fake
    assert build.cache_key(_settings(tmp_path)) == build.cache_key(_settings(tmp_path, OLD))
    assert build.cache_key(_settings(tmp_path)) != build.cache_key(_settings(tmp_path, version="v1.35.6"))
    path = build.build(_settings(tmp_path, OLD))
    before = (tmp_path / "mirror" / "manifest.json").read_text()
    calls.clear()
    # a plain build after the upgrade build: up to date, nothing compiled or published again
    assert build.build(_settings(tmp_path)) == path
    assert build.build(_settings(tmp_path, OLD)) == path
    assert calls == [] and (tmp_path / "mirror" / "manifest.json").read_text() == before
    # another upgrade-from release is not there: built (the main one from the cache)
    build.build(_settings(tmp_path, "v1.34.11"))
    assert ("kubernetes", "v1.34.11") in calls
    assert sorted(_load(path)["releases"]) == ["v1.34.11", MAIN]


def test_a_mirror_without_the_upgrade_release_is_not_up_to_date_for_it(tmp_path, fake):
    calls, _fail = fake
    build.build(_settings(tmp_path))
    calls.clear()
    build.build(_settings(tmp_path, OLD))
    assert ("kubernetes", OLD) in calls


def test_a_release_that_does_not_build_leaves_the_mirror_as_it_was(tmp_path, fake):
    _calls, fail = fake
    path = build.build(_settings(tmp_path))
    before = (tmp_path / "mirror" / "manifest.json").read_text()
    fail.add(OLD)
    with pytest.raises(gobuild.GoBuildError, match="not served"):
        build.build(_settings(tmp_path, OLD))
    assert (tmp_path / "mirror" / "manifest.json").read_text() == before
    assert not (tmp_path / "mirror" / "dl.k8s.io" / "release" / OLD).exists()
    assert _load(path)["releases"] == {MAIN: _load(path)["releases"][MAIN]}


def test_is_warm_needs_every_release_asked_for(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "index.json").write_text("[]")
    both = {"key": "k", "kubernetes_version": MAIN, "releases": {MAIN: {}, OLD: {}}, "artifacts": []}
    assert mirror.is_warm(str(tmp_path), both, "k", (MAIN,))
    assert mirror.is_warm(str(tmp_path), both, "k", (MAIN, OLD))
    assert not mirror.is_warm(str(tmp_path), both, "k", (MAIN, "v1.34.11"))
    older = {"key": "k", "kubernetes_version": MAIN, "artifacts": []}  # from before "releases"
    assert mirror.is_warm(str(tmp_path), older, "k", (MAIN,))
    assert not mirror.is_warm(str(tmp_path), older, "k", (MAIN, OLD))
