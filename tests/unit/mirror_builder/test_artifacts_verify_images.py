"""verify_images.py's logic against stand-in ctr/kubeadm scripts (the real import runs on a node)."""
import hashlib
import json
import os
import stat

from mirror_builder import verify_images

REFS = ["registry.k8s.io/pause:3.10.1", "registry.k8s.io/etcd:3.6.6-0"]


def _script(path, body):
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def _setup(tmp_path, kubeadm_refs, version_line="ctr github.com/containerd/containerd 1.7.24"):
    mirror = tmp_path / "mirror"
    (mirror / "images").mkdir(parents=True)
    index = []
    for i, ref in enumerate(REFS):
        name = f"img{i}.tar"
        (mirror / "images" / name).write_bytes(ref.encode())
        index.append({"image": ref, "file": name, "sha256": hashlib.sha256(ref.encode()).hexdigest(),
                      "kubeadm": True})
    (mirror / "images/index.json").write_text(json.dumps(index))
    (mirror / "manifest.json").write_text(json.dumps({"kubernetes_version": "v1.35.8"}))
    store = tmp_path / "store"
    store.write_text("")
    # import appends the archive's content (its reference) to the store; ls prints it.
    ctr = _script(tmp_path / "ctr", f"""
case "$*" in
  --version) echo "{version_line}" ;;
  *" images import "*) for last; do :; done; cat "$last" >> {store}; echo >> {store}; echo "$*" >> {tmp_path}/calls ;;
  *" images ls -q"*) cat {store}; echo sha256:abcdef ;;
esac
""")
    kubeadm = _script(tmp_path / "kubeadm", "echo '" + "\n".join(kubeadm_refs) + "'\n")
    return str(mirror), ctr, kubeadm


def test_all_checks_pass(tmp_path):
    mirror, ctr, kubeadm = _setup(tmp_path, REFS)
    report = tmp_path / "r.json"
    rc = verify_images.main(["--mirror", mirror, "--ctr", ctr, "--kubeadm", kubeadm, "--json", str(report)])
    data = json.loads(report.read_text())
    assert rc == 0 and data["ok"] and data["kubernetes_version"] == "v1.35.8"
    calls = (tmp_path / "calls").read_text()
    assert "--namespace k8s.io images import" in calls and "--local" not in calls


def test_mismatch_with_kubeadm_fails(tmp_path):
    mirror, ctr, kubeadm = _setup(tmp_path, REFS + ["registry.k8s.io/coredns/coredns:v1.13.1"])
    assert verify_images.main(["--mirror", mirror, "--ctr", ctr, "--kubeadm", kubeadm]) == 1


def test_bad_digest_fails_and_containerd2_uses_local(tmp_path):
    mirror, ctr, kubeadm = _setup(tmp_path, REFS, "ctr github.com/containerd/containerd/v2 v2.1.9")
    with open(os.path.join(mirror, "images", "img0.tar"), "ab") as f:
        f.write(b"tampered")
    assert verify_images.main(["--mirror", mirror, "--ctr", ctr, "--kubeadm", kubeadm]) == 1
    assert "--local" in (tmp_path / "calls").read_text()
