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


def release_pins(manifest: dict) -> dict[str, dict]:
    """Each release's pins by version: ``releases``, or the main release of a manifest from before it."""
    if isinstance(manifest.get("releases"), dict):
        return {version: entry["pins"] for version, entry in manifest["releases"].items()}
    return {manifest["kubernetes_version"]: manifest["pins"]}


def release_artifacts(manifest: dict, version: str, pins: dict) -> list[dict]:
    """One release's binaries and tarballs: its Kubernetes binaries, the etcd, CoreDNS and crictl it pins."""
    pinned = {"etcd": pins["etcd"], "coredns": pins["coredns"], "crictl": pins.get("crictl")}
    return [a for a in manifest["artifacts"]
            if (a["kind"] == "binary" and a["version"] == version)
            or (a["kind"] == "tarball" and pinned.get(a["name"]) == a["version"])]


def release_images(index: list[dict], version: str) -> list[str]:
    """The kubeadm images of images/index.json for ``version``: the entries whose ``kubernetes`` names it
    (an index from before that key: every ``kubeadm`` entry)."""
    if not any("kubernetes" in e for e in index):
        return sorted(e["image"] for e in index if e.get("kubeadm"))
    return sorted(e["image"] for e in index if version in e.get("kubernetes", []))


def _binaries(root: str, entries: list[dict], tmp: str) -> dict[str, str]:
    """The binaries of ``entries`` by name, tarballs unpacked under ``tmp``."""
    bins = {}
    for entry in entries:
        path = os.path.join(root, entry["path"])
        if entry["kind"] == "tarball":
            with tarfile.open(path) as tar:
                tar.extractall(tmp, filter="data")
        else:
            bins[entry["name"]] = os.path.join(tmp, "bin", entry["name"])
            os.makedirs(os.path.dirname(bins[entry["name"]]), exist_ok=True)
            shutil.copyfile(path, bins[entry["name"]])
            os.chmod(bins[entry["name"]], 0o755)
    for dirpath, _dirs, files in os.walk(tmp):
        if dirpath.startswith(os.path.join(tmp, "bin")):
            continue
        for fname in files:
            if fname in VERSION_CHECKS:
                bins[fname] = os.path.join(dirpath, fname)
    return bins


def verify(manifest_path: str) -> dict:
    """Run every check, for every release the manifest carries; returns {"ok": bool, "checks": [{name, ok, detail}]}."""
    root = os.path.dirname(manifest_path)
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    checks: list[dict] = []

    def add(name: str, ok: bool, detail: str = "") -> None:
        checks.append({"name": name, "ok": bool(ok), "detail": detail})

    faults = mirror.verify(root, manifest)
    add("sha256 and size of every artifact", not faults, "; ".join(faults))
    index_path = os.path.join(root, "images", "index.json")
    with open(index_path, encoding="utf-8") as f:
        index = json.load(f)
    releases = release_pins(manifest)
    add(f"main release {manifest['kubernetes_version']} among the releases", manifest["kubernetes_version"] in releases,
        f"releases: {sorted(releases)}")
    for version, pins in sorted(releases.items()):
        with tempfile.TemporaryDirectory() as tmp:
            bins = _binaries(root, release_artifacts(manifest, version, pins), tmp)
            want = {n: version for n in VERSION_CHECKS}
            want.update({"etcd": pins["etcd"].lstrip("v"), "etcdctl": pins["etcd"].lstrip("v"),
                         "etcdutl": pins["etcd"].lstrip("v"), "coredns": pins["coredns"].lstrip("v"),
                         "crictl": pins.get("crictl") or ""})
            for name in VERSION_CHECKS:
                if name == "crictl" and not pins.get("crictl"):
                    continue
                if name not in bins:
                    add(f"{version}: {name} present", False, "missing from the mirror")
                    continue
                ok, line = check_version(bins[name], name, want[name])
                add(f"{version}: {name} reports {want[name]}", ok, line)
                add(f"{version}: {name} is statically linked", is_static_elf(bins[name]))
            if "kubeadm" in bins:
                listed = sorted(_run([bins["kubeadm"], "config", "images", "list",
                                      "--kubernetes-version", version]).split())
                have = release_images(index, version)
                add(f"{version}: kubeadm config images list == images/index.json (images for {version})",
                    listed == have, f"kubeadm: {listed}; index: {have}")

    def belongs(entry: dict) -> bool:  # an index from before the key: the manifest's one release
        named = set(entry.get("kubernetes", releases))
        return bool(named) and named <= set(releases)

    strays = [e["image"] for e in index if e.get("kubeadm") and not belongs(e)]
    strays += [f"{e['image']} (not marked kubeadm)" for e in index if "kubernetes" in e and not e.get("kubeadm")]
    add("every kubeadm image of images/index.json belongs to a release of the manifest", not strays, ", ".join(strays))
    for entry in index:
        path = os.path.join(root, "images", entry["file"])
        try:
            parsed = oci.read_archive(path)
            ok = parsed["references"] == [entry["image"]] and parsed["docker"][0]["RepoTags"] == [entry["image"]]
            add(f"archive {entry['file']} names {entry['image']}", ok, str(parsed["references"]))
        except (oci.OCIError, OSError, KeyError, ValueError) as exc:
            add(f"archive {entry['file']} is a valid OCI archive", False, str(exc))
    return {"ok": all(c["ok"] for c in checks), "checks": checks}
