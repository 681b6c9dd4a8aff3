import pytest

from mirror_builder import gobuild

CONSTANTS = '''
const (
\t// DefaultEtcdVersion indicates the default etcd version that kubeadm uses
\tDefaultEtcdVersion = "3.6.6-0"
\tCoreDNSVersion = "v1.13.1"
\tPauseVersion = "3.10.1"
)
'''

KUBE_GOMOD = """module k8s.io/kubernetes

go 1.25.0

godebug default=go1.25

require (
\tk8s.io/api v0.0.0
\tk8s.io/klog/v2 v2.130.1
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go
)
"""


def test_parse_kubeadm_pins():
    pins = gobuild.parse_kubeadm_pins(CONSTANTS)
    assert pins == gobuild.KubeadmPins("3.6.6-0", "v1.13.1", "3.10.1")
    assert pins.etcd_version == "v3.6.6"
    with pytest.raises(gobuild.GoBuildError, match="PauseVersion"):
        gobuild.parse_kubeadm_pins('DefaultEtcdVersion = "1"\nCoreDNSVersion = "2"\n')


def test_parse_version():
    assert gobuild.parse_version("v1.35.8") == (1, 35, 8)
    for bad in ("1.35.8", "v1.35", "v1.35.8-rc.0"):
        with pytest.raises(gobuild.GoBuildError):
            gobuild.parse_version(bad)


def test_consumer_gomod_replaces_staging_with_published_versions():
    assert gobuild.staging_modules(KUBE_GOMOD) == ["k8s.io/api", "k8s.io/client-go"]
    gomod = gobuild.kubernetes_consumer_gomod("v1.35.8", KUBE_GOMOD)
    assert "require k8s.io/kubernetes v1.35.8" in gomod
    assert "\tk8s.io/api => k8s.io/api v0.35.8" in gomod
    assert "\tk8s.io/client-go => k8s.io/client-go v0.35.8" in gomod
    assert "go 1.25.0" in gomod and "godebug default=go1.25" in gomod
    assert "klog" not in gomod


def test_ldflags_stamp_both_version_packages():
    flags = gobuild.kubernetes_ldflags("v1.35.8", "2026-08-20T15:16:14Z", "abc123")
    for pkg in gobuild.VERSION_PACKAGES:
        for part in (".gitVersion=v1.35.8", ".gitMajor=1", ".gitMinor=35", ".gitTreeState=clean",
                     ".buildDate=2026-08-20T15:16:14Z", ".gitCommit=abc123"):
            assert f"-X {pkg}{part}" in flags
    assert flags.startswith("-s -w ")
    assert "gitCommit= " in gobuild.kubernetes_ldflags("v1.35.8", "d") + " "


def test_toolchain_hashes(tmp_path):
    import base64
    import hashlib
    import zipfile

    from mirror_builder import toolchain

    path = tmp_path / "m.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mod@v1/b.txt", b"b")
        zf.writestr("mod@v1/a.txt", b"a")
    lines = "".join(f"{hashlib.sha256(c).hexdigest()}  mod@v1/{n}\n" for n, c in (("a.txt", b"a"), ("b.txt", b"b")))
    assert toolchain.zip_h1(str(path)) == "h1:" + base64.b64encode(hashlib.sha256(lines.encode()).digest()).decode()
    body = "123\ngolang.org/toolchain v0.0.1-go1.26.8.linux-amd64 h1:abc=\n" \
           "golang.org/toolchain v0.0.1-go1.26.8.linux-amd64/go.mod h1:def=\n"
    assert toolchain.sumdb_h1(body, "golang.org/toolchain", "v0.0.1-go1.26.8.linux-amd64") == "h1:abc="
    with pytest.raises(toolchain.ToolchainError):
        toolchain.sumdb_h1(body, "golang.org/toolchain", "v0.0.1-go1.20.linux-amd64")
    assert toolchain.parse_go_version("go version go1.26.8 linux/amd64") == (1, 26, 8)
    assert toolchain.parse_go_version("go version go1.25 linux/amd64") == (1, 25, 0)
    assert toolchain.parse_go_version("nothing") is None


def test_crictl_candidates():
    assert gobuild.crictl_candidates("v1.35.8") == ["v1.35.0", "v1.36.0", "v1.34.0"]


class FakeGo:
    """Records go commands; `go build -o X` writes X (or the commands into X/)."""

    def __init__(self, root):
        self.cache_root = str(root)
        self.runs = []
        self.gomod = root / "upstream.mod"
        self.gomod.write_text("module upstream\n\ngo 1.24.0\n")

    def module(self, path, version):
        return gobuild.ModuleInfo(path, version, "2025-11-01T00:00:00Z", "0123456789abcdef", str(self.gomod), "/nowhere")

    def version(self):
        return "go version go1.26.8 linux/amd64"

    def log(self, msg):
        pass

    def run(self, args, cwd):
        self.runs.append((args, cwd))
        if args[0] == "build":
            out = args[args.index("-o") + 1]
            with open(out, "w", encoding="utf-8") as f:
                f.write("binary")


def test_etcd_build_in_a_consumer_module_then_reused(tmp_path):
    go = FakeGo(tmp_path)
    outdir = tmp_path / "bin" / "etcd-v3.6.6"
    facts = gobuild.build_etcd(go, "v3.6.6", str(outdir))
    assert facts["commit"] == "0123456789abcdef" and "seconds" in facts
    builds = [args for args, _cwd in go.runs if args[0] == "build"]
    assert [b[-1] for b in builds] == ["go.etcd.io/etcd/server/v3", "go.etcd.io/etcd/etcdctl/v3", "go.etcd.io/etcd/etcdutl/v3"]
    assert all(b[b.index("-ldflags") + 1] == "-X go.etcd.io/etcd/api/v3/version.GitSHA=012345678" for b in builds)
    assert sorted(p.name for p in outdir.iterdir()) == [".stamp.json", "etcd", "etcdctl", "etcdutl"]
    src = tmp_path / "src" / "etcd-v3.6.6"
    assert (src / "go.mod").read_text() == ("module quorum.lab/etcd-build\n\ngo 1.24.0\n\nrequire (\n"
                                            "\tgo.etcd.io/etcd/etcdctl/v3 v3.6.6\n\tgo.etcd.io/etcd/etcdutl/v3 v3.6.6\n"
                                            "\tgo.etcd.io/etcd/server/v3 v3.6.6\n)\n")
    assert not (tmp_path / "bin" / "etcd-v3.6.6.tmp").exists()
    go.runs.clear()
    assert "seconds" not in gobuild.build_etcd(go, "v3.6.6", str(outdir))
    assert go.runs == []  # the stamp matches: nothing is built again


def test_coredns_build_stamped_with_the_short_commit(tmp_path):
    go = FakeGo(tmp_path)
    outdir = tmp_path / "bin" / "coredns-v1.13.1"
    gobuild.build_coredns(go, "v1.13.1", str(outdir))
    (args, cwd), = [r for r in go.runs if r[0][0] == "build"]
    assert args[-1] == "github.com/coredns/coredns" and args[args.index("-o") + 1].endswith("coredns-v1.13.1.tmp/coredns")
    assert "coremain.GitCommit=0123456" in args[args.index("-ldflags") + 1]
    assert (tmp_path / "src" / "coredns-v1.13.1" / "go.mod").read_text().endswith(
        "require github.com/coredns/coredns v1.13.1\n")
    assert (outdir / "coredns").is_file()
