import hashlib
import json

from mirror_builder import images, mirror


def test_paths_follow_upstream_layout():
    assert mirror.kubernetes_binary_path("v1.35.8", "kubeadm") == "dl.k8s.io/release/v1.35.8/bin/linux/amd64/kubeadm"
    assert mirror.kubernetes_stable_path("v1.35.8") == "dl.k8s.io/release/stable-1.35.txt"
    assert mirror.etcd_tarball_path("v3.6.6") == \
        "github.com/etcd-io/etcd/releases/download/v3.6.6/etcd-v3.6.6-linux-amd64.tar.gz"
    assert mirror.coredns_tarball_path("v1.13.1") == \
        "github.com/coredns/coredns/releases/download/v1.13.1/coredns_1.13.1_linux_amd64.tgz"


def test_publish_writes_sha256_in_both_styles(tmp_path):
    src = tmp_path / "src"
    src.write_bytes(b"payload")
    digest = hashlib.sha256(b"payload").hexdigest()
    root = tmp_path / "mirror"
    assert mirror.publish_file(str(root), "a/b/kubeadm", str(src), "bare") == (digest, 7)
    assert (root / "a/b/kubeadm.sha256").read_text() == digest + "\n"
    mirror.publish_file(str(root), "c/etcd.tar.gz", str(src), "sum")
    assert (root / "c/etcd.tar.gz.sha256").read_text() == f"{digest}  etcd.tar.gz\n"
    assert mirror.read_sha256_file(str(root / "c/etcd.tar.gz.sha256")) == digest
    mirror.write_sha256sums(str(root / "c"), ["etcd.tar.gz"])
    assert (root / "c/SHA256SUMS").read_text() == f"{digest}  etcd.tar.gz\n"


def _mirror(tmp_path):
    root = tmp_path / "m"
    src = tmp_path / "kubeadm"
    src.write_bytes(b"k" * 10)
    rel = mirror.kubernetes_binary_path("v1.35.8", "kubeadm")
    digest, size = mirror.publish_file(str(root), rel, str(src))
    (root / "images").mkdir()
    (root / "images/index.json").write_text("[]")
    manifest = {"key": "k1", "artifacts": [mirror.artifact("kubeadm", "v1.35.8", "binary", rel, digest, size)]}
    return root, rel, manifest


def test_is_warm_and_verify(tmp_path):
    root, rel, manifest = _mirror(tmp_path)
    assert mirror.is_warm(str(root), manifest, "k1")
    assert not mirror.is_warm(str(root), manifest, "k2")
    assert not mirror.is_warm(str(root), None, "k1")
    assert mirror.verify(str(root), manifest) == []
    (root / rel).write_bytes(b"x" * 10)  # same size, other content
    assert mirror.is_warm(str(root), manifest, "k1")
    faults = mirror.verify(str(root), manifest)
    assert any("sha256" in f and rel in f for f in faults)
    (root / rel).write_bytes(b"short")
    assert not mirror.is_warm(str(root), manifest, "k1")
    (root / rel).unlink()
    assert mirror.verify(str(root), manifest) == [f"{rel}: missing"]


def test_manifest_round_trip(tmp_path):
    path = tmp_path / "manifest.json"
    mirror.write_manifest(str(path), {"key": "x", "artifacts": []})
    assert mirror.load_manifest(str(path)) == {"key": "x", "artifacts": []}
    path.write_text("{broken")
    assert mirror.load_manifest(str(path)) is None
    assert json.loads('{"a": 1}') == {"a": 1}


def test_expected_references_match_kubeadm_naming():
    refs = images.expected_references("v1.35.8", "3.6.6-0", "v1.13.1", "3.10.1")
    assert refs == sorted([
        "registry.k8s.io/coredns/coredns:v1.13.1", "registry.k8s.io/etcd:3.6.6-0",
        "registry.k8s.io/kube-apiserver:v1.35.8", "registry.k8s.io/kube-controller-manager:v1.35.8",
        "registry.k8s.io/kube-proxy:v1.35.8", "registry.k8s.io/kube-scheduler:v1.35.8",
        "registry.k8s.io/pause:3.10.1"])


def test_crictl_path():
    assert mirror.crictl_tarball_path("v1.36.0") == \
        "github.com/kubernetes-sigs/cri-tools/releases/download/v1.36.0/crictl-v1.36.0-linux-amd64.tar.gz"
