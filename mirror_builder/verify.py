"""Host-side checks of a built mirror: hashes, versions, static linking, image set, archives."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import tarfile
import tempfile

from mirror_builder import mirror, oci

PT_INTERP = 3


def is_static_elf(path: str) -> bool:
    """True for an ELF64 executable without a program interpreter (statically linked)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            raise ValueError(f"{path} is not an ELF64 file")
        endian = "<" if head[5] == 1 else ">"
        phoff = struct.unpack_from(endian + "Q", head, 32)[0]
        phentsize, phnum = struct.unpack_from(endian + "HH", head, 54)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            if struct.unpack(endian + "I", f.read(4))[0] == PT_INTERP:
                return False
    return True


def _run(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    return (proc.stdout + proc.stderr).strip()


# (binary, argv after it, regex the output must match with {v} the version)
VERSION_CHECKS = {
    "kubeadm": (["version", "-o", "short"], r"^{v}$"),
    "kubelet": (["--version"], r"^Kubernetes {v}$"),
    "kubectl": (["version", "--client", "-o", "json"], r'"gitVersion": "{v}"'),
    "kube-apiserver": (["--version"], r"^Kubernetes {v}$"),
    "kube-controller-manager": (["--version"], r"^Kubernetes {v}$"),
    "kube-scheduler": (["--version"], r"^Kubernetes {v}$"),
    "kube-proxy": (["--version"], r"^Kubernetes {v}$"),
    "etcd": (["--version"], r"etcd Version: {v}\b"),
    "etcdctl": (["version"], r"etcdctl version: {v}\b"),
    "etcdutl": (["version"], r"etcdutl version: {v}\b"),
    "coredns": (["-version"], r"CoreDNS-{v}\b"),
    "crictl": (["--version"], r"crictl version {v}$"),
}


def check_version(path: str, name: str, version: str) -> tuple[bool, str]:
    args, pattern = VERSION_CHECKS[name]
    out = _run([path] + args)
    ok = re.search(pattern.format(v=re.escape(version)), out, re.M) is not None
    return ok, out.splitlines()[0] if out else ""


def verify(manifest_path: str) -> dict:
    """Run every check; returns {"ok": bool, "checks": [{name, ok, detail}]}."""
    root = os.path.dirname(manifest_path)
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    checks: list[dict] = []

    def add(name: str, ok: bool, detail: str = "") -> None:
        checks.append({"name": name, "ok": bool(ok), "detail": detail})

    faults = mirror.verify(root, manifest)
    add("sha256 and size of every artifact", not faults, "; ".join(faults))
    version = manifest["kubernetes_version"]
    by_name = {a["name"]: a for a in manifest["artifacts"] if a["kind"] in ("binary", "tarball")}
    with tempfile.TemporaryDirectory() as tmp:
        for name, entry in sorted(by_name.items()):
            path = os.path.join(root, entry["path"])
            if entry["kind"] == "tarball":
                with tarfile.open(path) as tar:
                    tar.extractall(tmp, filter="data")
        bins = {}
        for name, entry in by_name.items():
            if entry["kind"] == "binary":
                bins[name] = os.path.join(tmp, "bin", name)
                os.makedirs(os.path.dirname(bins[name]), exist_ok=True)
                shutil.copyfile(os.path.join(root, entry["path"]), bins[name])
                os.chmod(bins[name], 0o755)
        for dirpath, _dirs, files in os.walk(tmp):
            if dirpath.startswith(os.path.join(tmp, "bin")):
                continue
            for fname in files:
                if fname in VERSION_CHECKS:
                    bins[fname] = os.path.join(dirpath, fname)
        pins = manifest["pins"]
        want = {n: version for n in VERSION_CHECKS}
        want.update({"etcd": pins["etcd"].lstrip("v"), "etcdctl": pins["etcd"].lstrip("v"),
                     "etcdutl": pins["etcd"].lstrip("v"), "coredns": pins["coredns"].lstrip("v"),
                     "crictl": pins.get("crictl") or ""})
        for name in VERSION_CHECKS:
            if name == "crictl" and not pins.get("crictl"):
                continue
            if name not in bins:
                add(f"{name} present", False, "missing from the mirror")
                continue
            ok, line = check_version(bins[name], name, want[name])
            add(f"{name} reports {want[name]}", ok, line)
            add(f"{name} is statically linked", is_static_elf(bins[name]))
        index_path = os.path.join(root, "images", "index.json")
        with open(index_path, encoding="utf-8") as f:
            index = json.load(f)
        if "kubeadm" in bins:
            listed = sorted(_run([bins["kubeadm"], "config", "images", "list",
                                  "--kubernetes-version", version]).split())
            have = sorted(e["image"] for e in index if e.get("kubeadm"))
            add("kubeadm config images list == images/index.json (kubeadm images)", listed == have,
                f"kubeadm: {listed}; index: {have}")
    for entry in index:
        path = os.path.join(root, "images", entry["file"])
        try:
            parsed = oci.read_archive(path)
            ok = parsed["references"] == [entry["image"]] and parsed["docker"][0]["RepoTags"] == [entry["image"]]
            add(f"archive {entry['file']} names {entry['image']}", ok, str(parsed["references"]))
        except (oci.OCIError, OSError, KeyError, ValueError) as exc:
            add(f"archive {entry['file']} is a valid OCI archive", False, str(exc))
    return {"ok": all(c["ok"] for c in checks), "checks": checks}
