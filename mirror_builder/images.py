"""What each image holds. The references come from the built kubeadm itself."""

from __future__ import annotations

import os

from mirror_builder.oci import Entry, Image, OCIError, split_reference, tree_entries

TEST_IMAGE = "localhost/quorum/httpd:1.0"
TEST_IMAGE_PORT = 8080
# The packet-filter userland of kube-proxy and kube-router (ipset and ip: kube-router's policies and routes).
NETWORK_DEBS = ["iptables", "nftables", "conntrack", "ipset", "iproute2"]
TEST_IMAGE_DEBS = ["busybox-static"]
# iptables' postinst would set these through update-alternatives; trixie defaults to nft.
IPTABLES_ALTERNATIVES = {
    name: "xtables-nft-multi"
    for name in ("iptables", "iptables-save", "iptables-restore",
                 "ip6tables", "ip6tables-save", "ip6tables-restore")
}
BUSYBOX_APPLETS = ("sh", "ls", "cat", "wget", "nc", "nslookup", "ps", "sleep", "env", "hostname", "httpd")
PASSWD = ("root:x:0:0:root:/root:/sbin/nologin\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
          "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")
GROUP = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"


def base_entries() -> list[Entry]:
    """The few files a static binary image needs (what distroless/static provides)."""
    return [
        Entry("etc/passwd", data=PASSWD.encode()),
        Entry("etc/group", data=GROUP.encode()),
        Entry("etc/nsswitch.conf", data=b"hosts: files dns\n"),
        Entry("tmp", kind="dir", mode=0o1777),
        Entry("root", kind="dir", mode=0o700),
        Entry("home/nonroot", kind="dir", mode=0o700, uid=65532, gid=65532),
    ]


def merged_usr_links(root: str) -> list[Entry]:
    """/bin, /sbin, /lib, /lib64 as links into /usr (Debian's merged /usr) unless the tree has them."""
    out = []
    for name in ("bin", "sbin", "lib", "lib64"):
        if not os.path.lexists(os.path.join(root, name)):
            out.append(Entry(name, kind="symlink", target=f"usr/{name}"))
    return out


def binary(path: str, source: str) -> Entry:
    return Entry(path, kind="hostfile", mode=0o755, source=source)


def repository_of(ref: str) -> str:
    return split_reference(ref)[0].rsplit("/", 1)[-1]


def define(ref: str, bins: dict[str, str], network_root: str | None, busybox_root: str | None,
           labels: dict[str, str]) -> Image:
    """The image for reference ``ref``; ``bins`` maps binary names to built files."""
    repo = repository_of(ref)
    if repo in ("kube-proxy", "kube-router"):
        if network_root is None:
            raise OCIError(f"{repo} needs the iptables/nftables userland")
        userland = tree_entries(network_root) + merged_usr_links(network_root)
        userland += [Entry(f"usr/sbin/{n}", kind="symlink", target=t) for n, t in IPTABLES_ALTERNATIVES.items()]
        layer = base_entries() + [binary(f"usr/local/bin/{repo}", bins[repo])]
        if repo == "kube-router":
            # kube-router adds its routing tables to /etc/iproute2/rt_tables; trixie ships the file
            # under /usr/share only
            layer.append(Entry("etc/iproute2/rt_tables", kind="hostfile",
                               source=_find(network_root, ("etc/iproute2/rt_tables", "usr/share/iproute2/rt_tables"))))
        return Image(ref, [userland, layer], entrypoint=[f"/usr/local/bin/{repo}"], labels=labels)
    if repo in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        layer = base_entries() + [binary(f"usr/local/bin/{repo}", bins[repo])]
        return Image(ref, [layer], entrypoint=[f"/usr/local/bin/{repo}"], labels=labels)
    if repo == "etcd":
        layer = base_entries() + [binary(f"usr/local/bin/{n}", bins[n]) for n in ("etcd", "etcdctl", "etcdutl")]
        layer.append(Entry("var/lib/etcd", kind="dir", mode=0o700))
        return Image(ref, [layer], entrypoint=["/usr/local/bin/etcd"], labels=labels)
    if repo == "coredns":
        layer = base_entries() + [binary("coredns", bins["coredns"])]
        return Image(ref, [layer], entrypoint=["/coredns"], labels=labels)
    if repo == "pause":
        layer = [binary("pause", bins["pause"])]
        return Image(ref, [layer], entrypoint=["/pause"], user="65535:65535", env=[], labels=labels)
    if ref == TEST_IMAGE:
        if busybox_root is None:
            raise OCIError("the test image needs busybox-static")
        busybox = _find(busybox_root, ("usr/bin/busybox", "bin/busybox"))
        layer = base_entries() + [binary("usr/bin/busybox", busybox)]
        layer += [Entry(f"usr/bin/{a}", kind="symlink", target="busybox") for a in BUSYBOX_APPLETS]
        layer += [Entry("bin", kind="symlink", target="usr/bin"),
                  Entry("www/index.html", data=b"quorum test httpd\n")]
        return Image(ref, [layer], labels=labels,
                     entrypoint=["/usr/bin/busybox", "httpd", "-f", "-v", "-p", str(TEST_IMAGE_PORT), "-h", "/www"],
                     user="65532:65532")
    raise OCIError(f"no recipe for image '{ref}'")


def _find(root: str, candidates: tuple[str, ...]) -> str:
    for rel in candidates:
        path = os.path.join(root, rel)
        if os.path.isfile(path) and not os.path.islink(path):
            return path
    raise OCIError(f"none of {candidates} under {root}")


def expected_references(version: str, etcd_tag: str, coredns: str, pause: str) -> list[str]:
    """What kubeadm lists for a default ClusterConfiguration (used when kubeadm cannot run)."""
    return sorted([
        f"registry.k8s.io/kube-apiserver:{version}",
        f"registry.k8s.io/kube-controller-manager:{version}",
        f"registry.k8s.io/kube-scheduler:{version}",
        f"registry.k8s.io/kube-proxy:{version}",
        f"registry.k8s.io/coredns/coredns:{coredns}",
        f"registry.k8s.io/pause:{pause}",
        f"registry.k8s.io/etcd:{etcd_tag}",
    ])
