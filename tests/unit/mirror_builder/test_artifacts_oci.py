import gzip
import hashlib
import io
import json
import tarfile

import pytest

from mirror_builder import oci


def test_split_reference_and_filename():
    assert oci.split_reference("registry.k8s.io/coredns/coredns:v1.13.1") == ("registry.k8s.io/coredns/coredns", "v1.13.1")
    assert oci.split_reference("localhost:5000/x:1") == ("localhost:5000/x", "1")
    assert oci.archive_filename("registry.k8s.io/pause:3.10.1") == "registry.k8s.io_pause_3.10.1.tar"
    for bad in ("registry.k8s.io/pause", "localhost:5000/x", "a/b:"):
        with pytest.raises(oci.OCIError):
            oci.split_reference(bad)
    with pytest.raises(oci.OCIError):
        oci.split_reference("a/b:1@sha256:00")


def test_layer_tar_adds_parents_and_is_deterministic(tmp_path):
    src = tmp_path / "bin"
    src.write_bytes(b"\x7fELF-ish")
    entries = [oci.Entry("usr/local/bin/x", kind="hostfile", mode=0o755, source=str(src)),
               oci.Entry("/etc/passwd", data=b"root:x:0:0::/:/x\n"),
               oci.Entry("lib64", kind="symlink", target="usr/lib64")]
    one = oci.layer_tar(entries, mtime=1000)
    two = oci.layer_tar(list(reversed(entries)), mtime=1000)
    assert one == two
    with tarfile.open(fileobj=io.BytesIO(one)) as tar:
        names = tar.getnames()
        assert names == sorted(names)
        assert {"usr", "usr/local", "usr/local/bin", "etc"} <= set(names)
        x = tar.getmember("usr/local/bin/x")
        assert (x.mode, x.uid, x.gid, x.mtime) == (0o755, 0, 0, 1000)
        assert tar.extractfile(x).read() == b"\x7fELF-ish"
        assert tar.getmember("lib64").issym() and tar.getmember("lib64").linkname == "usr/lib64"
    assert oci.layer_tar(entries, mtime=2000) != one


@pytest.mark.parametrize("path", ["", "/", "a/../b"])
def test_layer_tar_rejects_bad_paths(path):
    with pytest.raises(oci.OCIError):
        oci.layer_tar([oci.Entry(path, data=b"")], mtime=0)


def test_layer_tar_rejects_unknown_kind():
    with pytest.raises(oci.OCIError):
        oci.layer_tar([oci.Entry("a", kind="fifo")], mtime=0)


def _image():
    return oci.Image("registry.k8s.io/pause:3.10.1",
                     [[oci.Entry("pause", mode=0o755, data=b"binary")]],
                     entrypoint=["/pause"], user="65535:65535", env=[])


def test_archive_round_trip(tmp_path):
    dest = tmp_path / "img.tar"
    written = oci.write_archive(_image(), str(dest), mtime=0, created="2026-01-01T00:00:00Z")
    assert written.sha256 == hashlib.sha256(dest.read_bytes()).hexdigest()
    assert written.size == dest.stat().st_size
    parsed = oci.read_archive(str(dest))
    assert parsed["references"] == ["registry.k8s.io/pause:3.10.1"]
    desc = parsed["index"]["manifests"][0]
    assert desc["mediaType"] == oci.MEDIA_MANIFEST
    assert desc["digest"] == written.manifest_digest
    assert desc["platform"] == {"architecture": "amd64", "os": "linux"}
    assert desc["annotations"][oci.ANNOTATION_REF_NAME] == "3.10.1"
    config = parsed["configs"][0]
    assert config["config"]["Entrypoint"] == ["/pause"]
    assert config["config"]["User"] == "65535:65535"
    assert config["os"] == "linux" and config["architecture"] == "amd64"
    assert parsed["docker"][0]["RepoTags"] == ["registry.k8s.io/pause:3.10.1"]
    # diff_id is the digest of the uncompressed layer, the layer digest that of the gzip blob.
    with tarfile.open(dest) as tar:
        layer_desc = parsed["manifests"][0]["layers"][0]
        blob = tar.extractfile("blobs/sha256/" + layer_desc["digest"].split(":")[1]).read()
        assert layer_desc["mediaType"] == oci.MEDIA_LAYER_GZIP
        assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(gzip.decompress(blob)).hexdigest()]
        assert json.loads(tar.extractfile("oci-layout").read()) == {"imageLayoutVersion": "1.0.0"}


def test_archive_is_reproducible(tmp_path):
    a = oci.write_archive(_image(), str(tmp_path / "a.tar"), mtime=5, created="2026-01-01T00:00:00Z")
    b = oci.write_archive(_image(), str(tmp_path / "b.tar"), mtime=5, created="2026-01-01T00:00:00Z")
    assert a.sha256 == b.sha256 and a.manifest_digest == b.manifest_digest


def test_read_archive_detects_corrupt_blob(tmp_path):
    dest = tmp_path / "img.tar"
    oci.write_archive(_image(), str(dest), mtime=0, created="2026-01-01T00:00:00Z")
    bad = tmp_path / "bad.tar"
    with tarfile.open(dest) as src, tarfile.open(bad, "w") as out:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None
            if member.name.startswith("blobs/sha256/") and member.isfile() and data.startswith(b"\x1f\x8b"):
                data = gzip.compress(b"tampered", mtime=0)
                member.size = len(data)
            out.addfile(member, io.BytesIO(data) if data is not None else None)
    with pytest.raises(oci.OCIError, match="does not match its digest"):
        oci.read_archive(str(bad))


def test_tree_entries_keeps_modes_and_links(tmp_path):
    (tmp_path / "usr" / "sbin").mkdir(parents=True)
    tool = tmp_path / "usr" / "sbin" / "tool"
    tool.write_bytes(b"x")
    tool.chmod(0o750)
    (tmp_path / "usr" / "sbin" / "alias").symlink_to("tool")
    entries = {e.path: e for e in oci.tree_entries(str(tmp_path))}
    assert entries["usr/sbin/tool"].kind == "hostfile" and entries["usr/sbin/tool"].mode == 0o750
    assert entries["usr/sbin/alias"].kind == "symlink" and entries["usr/sbin/alias"].target == "tool"
    assert entries["usr"].kind == "dir"
