"""make bench-floor: site.yml against the unavoidable floor (issue 22 part 3, docs/performance.md).

On the lab's `large` topology with one worker (2 frontends, 3 control planes with stacked etcd,
1 worker; systemd-nspawn), in its own lab instance (default `floor`):

  1. lab up large --workers 1;
  2. the floor: over plain SSH from inside the lab's namespace (the host firewall is not on yet),
     the shell commands a cluster of that shape cannot skip, timed step by step, steps on
     different nodes at the same time wherever a real cluster allows it:
       every node      apt packages (the roles' list), kernel settings, containerd's configuration
                       as the roles write it for nspawn nodes, kubeadm/kubelet/kubectl from the
                       artifact mirror, the kubelet unit, `ctr images import` of the mirror's images;
       frontends       keepalived and HAProxy: the VIP, port 6443 balanced to the control planes;
       cp-1            kubeadm init --upload-certs (kubeadm's own CA: the floor has no Vault);
       cp-2, then cp-3 kubeadm join --control-plane;
       the worker      kubeadm join, as soon as cp-1 has its API;
       network         kube-router's manifest (the network role's, rendered here) applied, each
                       node's CNI configuration, then every node Ready and kube-router rolled out;
  3. lab down, lab up again, and site.yml from booted nodes timed as scripts/bench.py times it
     (its Bench.playbook, with the task profile on);
  4. lab down (also on failure and Ctrl-C: only what this script started is stopped).

The record (each step's start, end and wall time, the critical path, site.yml's time, their
ratio, git commit, date, N) is appended to $QUORUM_LAB_HOME/results/floor.json; logs go to
results/floor-work/. Standard library only; bench.py's helpers are imported, not copied.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import queue
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
for extra_path in (REPO, REPO / "scripts"):
    if str(extra_path) not in sys.path:
        sys.path.insert(0, str(extra_path))

import bench  # noqa: E402  scripts/bench.py: runner, logs, git commit, site.yml as the bench runs it
from lab import config, lifecycle, net, state  # noqa: E402
from lab.inventory import WAIT_VARS, kubernetes_version  # noqa: E402
from lab.nspawn import INVENTORY_VARS  # noqa: E402

TOPOLOGY = "large"
GOAL_RATIO = 1.5  # issue 22: site.yml at most 1.5 times the floor at N = 1
FRONTENDS = ("fe-1", "fe-2")
CONTROL_PLANES = ("cp-1", "cp-2", "cp-3")

# What the roles install and write (their defaults; tests/unit/lab/test_floor.py keeps them equal).
NODE_PACKAGES = ("containerd", "runc", "containernetworking-plugins", "conntrack", "iptables", "ethtool", "socat")
FRONTEND_PACKAGES = ("keepalived", "haproxy")
BINARIES = ("kubeadm", "kubelet", "kubectl")
SANDBOX_IMAGE = "registry.k8s.io/pause:3.10.1"
CNI_BIN_DIR = "/usr/lib/cni"
CNI_CONF_DIR = "/etc/cni/net.d"
SYSCTLS = {"net.bridge.bridge-nf-call-iptables": 1, "net.bridge.bridge-nf-call-ip6tables": 1, "net.ipv4.ip_forward": 1}
WORKER_IMAGE_PREFIXES = ("registry.k8s.io/pause:", "registry.k8s.io/kube-proxy:", "registry.k8s.io/coredns/", "localhost/")
KUBE_ROUTER_TEMPLATE = REPO / "roles" / "network" / "templates" / "kube-router.yaml.j2"
KUBE_ROUTER_HEALTH_PORT = 20244
API_PORT = 6443  # the lab inventory leaves quorum_api_port at its default
CRI_SOCKET = "unix:///run/containerd/containerd.sock"
MARK = "FLOOR"  # lines the scripts print: "FLOOR phase NAME EPOCH", "FLOOR ca-hash sha256:..."


def _kube_router_image() -> str:
    text = (REPO / "plugins" / "module_utils" / "_defaults.py").read_text()
    found = re.search(r'^KUBE_ROUTER_IMAGE = "([^"]+)"', text, re.M)
    if not found:
        raise SystemExit("floor: no KUBE_ROUTER_IMAGE in plugins/module_utils/_defaults.py")
    return found.group(1)


# ---------------------------------------------------------------- pure parts (tests/unit/lab/test_floor.py)

@dataclass
class Step:
    """One timed command on one node; it starts once every step of ``after`` has ended well.
    ``script`` is the shell text, or a function of the outputs of the steps before it."""

    name: str
    node: str
    after: tuple[str, ...]
    script: str | Callable[[dict[str, str]], str]
    what: str = ""
    result: dict[str, Any] = field(default_factory=dict)


def critical_path(seconds: dict[str, float], after: dict[str, tuple[str, ...]]) -> tuple[float, list[str]]:
    """The longest chain of dependent steps (each as long as ``seconds`` says): its length and its
    steps in order. With every step started as soon as its dependencies end, that is the wall time."""
    finish: dict[str, float] = {}
    best: dict[str, str | None] = {}

    def end(name: str, seen: tuple[str, ...] = ()) -> float:
        if name in seen:
            raise ValueError(f"steps depend on each other in a circle: {' -> '.join(seen + (name,))}")
        if name not in finish:
            deps = after.get(name, ())
            prev = max(deps, key=lambda d: end(d, seen + (name,)), default=None)
            best[name] = prev
            finish[name] = seconds[name] + (end(prev, seen + (name,)) if prev else 0.0)
        return finish[name]

    if not seconds:
        return 0.0, []
    last = max(seconds, key=end)
    path = [last]
    while best[path[-1]]:
        path.append(best[path[-1]])  # type: ignore[arg-type]
    return round(finish[last], 1), list(reversed(path))


def ratio(site_seconds: float | None, floor_seconds: float | None) -> float | None:
    if not site_seconds or not floor_seconds:
        return None
    return round(site_seconds / floor_seconds, 2)


def phases(output: str, ended: float) -> dict[str, float]:
    """The seconds of each phase a step's script announced ("FLOOR phase NAME EPOCH"), the last
    phase up to the step's end."""
    marks = [(m.group(1), float(m.group(2))) for m in re.finditer(rf"(?m)^{MARK} phase (\S+) (\d+(?:\.\d+)?)$", output)]
    out: dict[str, float] = {}
    for i, (name, t) in enumerate(marks):
        stop = marks[i + 1][1] if i + 1 < len(marks) else ended
        out[name] = round(max(0.0, stop - t), 1)
    return out


def ca_hash(output: str) -> str:
    found = re.search(rf"(?m)^{MARK} ca-hash (sha256:[0-9a-f]{{64}})$", output)
    if not found:
        raise ValueError("kubeadm init printed no CA hash")
    return found.group(1)


def wanted_images(index: list[dict[str, Any]], version: str, control_plane: bool) -> list[dict[str, Any]]:
    """The images a node imports from the mirror's index, as the kubernetes_node role picks them:
    those of its Kubernetes version or of none; a control plane every one, other nodes only theirs."""
    version = "v" + version.lstrip("v")
    mine = [i for i in index if "kubernetes" not in i or version in i["kubernetes"]]
    if control_plane:
        return mine
    prefixes = WORKER_IMAGE_PREFIXES + (_kube_router_image(),)
    return [i for i in mine if i["image"].startswith(prefixes)]


def render_kube_router(template: str, values: dict[str, str]) -> str:
    """The network role's kube-router manifest with its few expressions replaced (no Jinja2 in the
    standard library); an expression this table does not know is an error, not left in place."""
    def sub(m: re.Match[str]) -> str:
        expr = m.group(1).strip()
        if expr not in values:
            raise KeyError(f"kube-router template: no value for {{{{ {expr} }}}}")
        return values[expr]

    if "{%" in template:
        raise ValueError("kube-router template: statements ({% %}) are not rendered here")
    return re.sub(r"\{\{(.*?)\}\}", sub, template)


def kube_router_values(service_cidr: str, vip: str, port: int) -> dict[str, str]:
    return {
        "ansible_managed": "rendered by scripts/floor.py",
        "network_kube_router_image": _kube_router_image(),
        "network_ip_masq | bool | lower": "false",
        "network_service_cidr": service_cidr,
        "network_api_vip": vip,
        "network_api_port": str(port),
        "network_kube_router_health_port": str(KUBE_ROUTER_HEALTH_PORT),
    }


def yaml_list(key: str, items: list[tuple[str, str]], indent: int) -> str:
    pad = " " * indent
    return f"{pad}{key}:\n" + "".join(f"{pad}  - name: {k}\n{pad}    value: \"{v}\"\n" for k, v in items)


def timeouts_yaml(timeouts: dict[str, str]) -> str:
    return "timeouts:\n" + "".join(f"  {k}: {v}\n" for k, v in timeouts.items())


def node_registration(name: str, ip: str) -> str:
    errors = "".join(f"    - {e}\n" for e in INVENTORY_VARS.get("control_plane_ignore_preflight_errors", []))
    return (f"nodeRegistration:\n  name: {name}\n  criSocket: {CRI_SOCKET}\n  imagePullPolicy: IfNotPresent\n"
            + yaml_list("kubeletExtraArgs", [("node-ip", ip)], 2)
            + (f"  ignorePreflightErrors:\n{errors}" if errors else ""))


def kubeadm_init_config(*, cluster: str, version: str, name: str, ip: str, vip: str, port: int, pod_cidr: str,
                        service_cidr: str, token: str, certificate_key: str) -> str:
    """kubeadm init's configuration: the essentials of the control_plane role's (endpoint on the
    VIP, CIDRs, stacked etcd, the kubelet and kube-proxy settings nspawn nodes need), without what
    needs Vault (its CAs, service-account keys, encryption at rest) or hardening files."""
    kubelet = [f"cgroupDriver: {INVENTORY_VARS['control_plane_kubelet_cgroup_driver']}"]
    if not INVENTORY_VARS.get("control_plane_kubelet_fail_cgroup_v1", True):
        kubelet.append("failCgroupV1: false")
    conntrack = INVENTORY_VARS.get("control_plane_kube_proxy_config", {}).get("conntrack", {})
    proxy = ""
    if conntrack:
        proxy = ("---\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nconntrack:\n"
                 + "".join(f"  {k}: {v}\n" for k, v in conntrack.items()))
    return (
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
        f"bootstrapTokens:\n  - token: \"{token}\"\n    ttl: 2h0m0s\n"
        f"certificateKey: \"{certificate_key}\"\n"
        f"localAPIEndpoint:\n  advertiseAddress: {ip}\n  bindPort: {port}\n"
        + node_registration(name, ip)
        + timeouts_yaml(WAIT_VARS["control_plane_kubeadm_timeouts"])
        + "---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
        f"clusterName: {cluster}\nkubernetesVersion: v{version.lstrip('v')}\n"
        f"controlPlaneEndpoint: \"{vip}:{port}\"\nimageRepository: registry.k8s.io\n"
        f"networking:\n  podSubnet: {pod_cidr}\n  serviceSubnet: {service_cidr}\n  dnsDomain: cluster.local\n"
        "etcd:\n  local:\n    dataDir: /var/lib/etcd\n"
        "---\napiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
        + "".join(line + "\n" for line in kubelet)
        + proxy
    )


def kubeadm_join_config(*, name: str, ip: str, vip: str, port: int, token: str, ca_cert_hash: str,
                        certificate_key: str | None) -> str:
    """kubeadm join's configuration; a control plane when ``certificate_key`` is given."""
    control = ""
    if certificate_key:
        control = (f"controlPlane:\n  localAPIEndpoint:\n    advertiseAddress: {ip}\n    bindPort: {port}\n"
                   f"  certificateKey: \"{certificate_key}\"\n")
    timeouts = WAIT_VARS["control_plane_kubeadm_timeouts" if certificate_key else "worker_kubeadm_timeouts"]
    return ("apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n"
            f"discovery:\n  bootstrapToken:\n    apiServerEndpoint: \"{vip}:{port}\"\n    token: \"{token}\"\n"
            f"    caCertHashes:\n      - \"{ca_cert_hash}\"\n"
            + node_registration(name, ip) + control + timeouts_yaml(timeouts))


def new_token() -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

    def word(length: int) -> str:
        return "".join(secrets.choice(alphabet) for unused_i in range(length))

    return word(6) + "." + word(16)


def heredoc(path: str, text: str, mode: str = "0644") -> str:
    """Shell that writes ``text`` to ``path`` (quoted heredoc: nothing in it is expanded)."""
    tag = "FLOOR_EOF"
    if tag in text:
        raise ValueError(f"{path}: the text holds the heredoc tag")
    return f"install -m {mode} /dev/null {path}\ncat > {path} <<'{tag}'\n{text.rstrip()}\n{tag}\n"


PREAMBLE = f"""set -eu
export DEBIAN_FRONTEND=noninteractive
phase() {{ echo "{MARK} phase $1 $(date +%s.%N)"; }}
fetch() {{ python3 -c 'import shutil, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=300) as r, open(sys.argv[2], "wb") as f:
    shutil.copyfileobj(r, f, 1 << 20)' "$1" "$2"; }}
"""


def apt_install(packages: tuple[str, ...]) -> str:
    names = " ".join(packages)
    # the image's lists are empty: the package_lists module runs apt-get update for the same reason
    return (f"apt-cache show {packages[0]} >/dev/null 2>&1 || apt-get update -qq\n"
            f"apt-get install -y -qq --no-install-recommends {names} >/dev/null\n")


CONTAINERD_V2 = """version = 2

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{sandbox}"
  restrict_oom_score_adj = {restrict}

  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = {systemd}

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{cni_bin}"
    conf_dir = "{cni_conf}"
"""

CONTAINERD_V3 = """version = 3

[plugins."io.containerd.cri.v1.images".pinned_images]
  sandbox = "{sandbox}"

[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = {restrict}

[plugins."io.containerd.cri.v1.runtime".containerd]
  default_runtime_name = "runc"

[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
  SystemdCgroup = {systemd}

[plugins."io.containerd.cri.v1.runtime".cni]
  bin_dirs = ["{cni_bin}"]
  conf_dir = "{cni_conf}"
"""

KUBELET_UNIT = """[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target containerd.service
After=network-online.target containerd.service

[Service]
ExecStart=/usr/local/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
"""

KUBEADM_DROPIN = """[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
"""


def node_script(*, version: str, mirror: str, binaries: list[dict[str, Any]], images: list[dict[str, Any]]) -> str:
    """A Kubernetes node, up to a kubelet waiting for kubeadm: what container_runtime and
    kubernetes_node do, as plain commands. ``binaries``: {name, path, sha256} of the mirror's manifest."""
    driver = INVENTORY_VARS["container_runtime_cgroup_driver"]
    values = {"sandbox": SANDBOX_IMAGE, "restrict": str(bool(INVENTORY_VARS["container_runtime_restrict_oom_score_adj"])).lower(),
              "systemd": str(driver == "systemd").lower(), "cni_bin": CNI_BIN_DIR, "cni_conf": CNI_CONF_DIR}
    sysctl = "".join(f"{k} = {v}\n" for k, v in SYSCTLS.items())
    base = mirror.rstrip("/")
    lines = [PREAMBLE, "phase packages\n", apt_install(NODE_PACKAGES),
             "phase kernel\n", heredoc("/etc/sysctl.d/90-quorum-k8s.conf", sysctl),
             "sysctl -q -p /etc/sysctl.d/90-quorum-k8s.conf\nswapoff -a\n",
             "phase containerd\n", f"mkdir -p /etc/containerd {CNI_CONF_DIR}\n",
             "if containerd --version | grep -qE '\\sv?[2-9]\\.'; then\n",
             heredoc("/etc/containerd/config.toml", CONTAINERD_V3.format(**values)), "else\n",
             heredoc("/etc/containerd/config.toml", CONTAINERD_V2.format(**values)), "fi\n",
             heredoc("/etc/crictl.yaml", "runtime-endpoint: unix:///run/containerd/containerd.sock\n"
                                         "image-endpoint: unix:///run/containerd/containerd.sock\ntimeout: 30\n"),
             "systemctl restart containerd\n",
             "phase binaries\n"]
    for b in binaries:
        dest = f"/usr/local/bin/{b['name']}"
        lines.append(f"fetch {base}/{b['path']} {dest}\necho '{b['sha256']}  {dest}' | sha256sum -c --quiet\nchmod 0755 {dest}\n")
    lines += ["phase kubelet-unit\n", heredoc("/etc/systemd/system/kubelet.service", KUBELET_UNIT),
              "mkdir -p /etc/systemd/system/kubelet.service.d\n",
              heredoc("/etc/systemd/system/kubelet.service.d/10-kubeadm.conf", KUBEADM_DROPIN, "0600"),
              "systemctl daemon-reload\nsystemctl enable -q kubelet\n",
              "phase images\n", "cache=/var/cache/quorum-k8s/images\nmkdir -p -m 0700 $cache\n",
              "local=''\nif ctr --version | grep -qE '\\sv?[2-9]\\.'; then local=--local; fi\n"]
    for i in images:
        name = i["file"].rsplit("/", 1)[-1]
        lines.append(f"fetch {base}/images/{i['file']} $cache/{name}\necho \"{i['sha256']}  $cache/{name}\" | sha256sum -c --quiet\n"
                     f"ctr -n k8s.io images import $local $cache/{name} >/dev/null\n")
    lines.append("rm -rf $cache\n")
    del version
    return "".join(lines)


def frontend_script(*, name: str, ip: str, peers: list[str], priority: int, vip: str, port: int,
                    backends: list[tuple[str, str]], maxconn: int) -> str:
    """keepalived holding the VIP (VRRP unicast between the frontends) and HAProxy balancing the API
    port over the control planes' /readyz, as the frontend role configures them, less the track
    script, VRRP authentication (a secret), the stats page and the hardening drop-ins."""
    servers = "".join(f"    server {n} {a}:{port}\n" for n, a in backends)
    haproxy = f"""global
    log /dev/log local0
    chroot /var/lib/haproxy
    user haproxy
    group haproxy
    maxconn {maxconn}
    stats socket /run/haproxy/admin.sock mode 660 level admin expose-fd listeners

defaults
    log global
    mode tcp
    option tcplog
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout check 5s
    retries 3
    option redispatch 1

frontend fe_kube_apiserver
    bind {vip}:{port}
    default_backend be_kube_apiserver

backend be_kube_apiserver
    balance leastconn
    option httpchk
    http-check connect ssl
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host kube-apiserver
    http-check expect status 200
    default-server check check-ssl verify none inter 1s fall 2 rise 2
{servers}"""
    unicast = "".join(f"        {p}\n" for p in peers)
    keepalived = f"""global_defs {{
    router_id {name}
}}

vrrp_instance VI_KUBE_API {{
    state BACKUP
    nopreempt
    interface IFACE
    virtual_router_id 51
    priority {priority}
    advert_int 1
    unicast_src_ip {ip}
    unicast_peer {{
{unicast}    }}
    virtual_ipaddress {{
        {vip}/32 dev IFACE
    }}
}}
"""
    return "".join([
        PREAMBLE, "phase packages\n", apt_install(FRONTEND_PACKAGES),
        "phase config\n", "sysctl -q -w net.ipv4.ip_nonlocal_bind=1\n",
        f"iface=$(ip -o -4 addr show | awk '{{split($4, a, \"/\"); if (a[1] == \"{ip}\") print $2}}')\n",
        heredoc("/etc/haproxy/haproxy.cfg", haproxy),
        heredoc("/etc/keepalived/keepalived.conf", keepalived),
        "sed -i \"s/IFACE/$iface/g\" /etc/keepalived/keepalived.conf\n",
        "haproxy -c -q -f /etc/haproxy/haproxy.cfg\n",
        "phase start\n", "systemctl restart haproxy keepalived\n",
    ])


def init_script(config_text: str) -> str:
    return "".join([
        PREAMBLE, "mkdir -p /etc/kubernetes\n", heredoc("/etc/kubernetes/floor-kubeadm.yaml", config_text, "0600"),
        "phase kubeadm-init\n",
        "kubeadm init --config /etc/kubernetes/floor-kubeadm.yaml --upload-certs >/root/floor-kubeadm.log 2>&1 "
        "|| { tail -40 /root/floor-kubeadm.log; exit 1; }\n",
        f"echo \"{MARK} ca-hash sha256:$(openssl x509 -pubkey -noout -in /etc/kubernetes/pki/ca.crt "
        "| openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1)\"\n",
    ])


def join_script(config_text: str) -> str:
    return "".join([
        PREAMBLE, "mkdir -p /etc/kubernetes\n", heredoc("/etc/kubernetes/floor-kubeadm.yaml", config_text, "0600"),
        "phase kubeadm-join\n",
        "kubeadm join --config /etc/kubernetes/floor-kubeadm.yaml >/root/floor-kubeadm.log 2>&1 "
        "|| { tail -40 /root/floor-kubeadm.log; exit 1; }\n",
    ])


def apply_script(manifest: str) -> str:
    return "".join([PREAMBLE, heredoc("/etc/kubernetes/quorum-kube-router.yaml", manifest, "0600"),
                    "phase apply\n", "kubectl --kubeconfig=/etc/kubernetes/admin.conf apply -f /etc/kubernetes/quorum-kube-router.yaml\n"])


CONFLIST = """{
  "cniVersion": "1.0.0",
  "name": "quorum",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "kube-bridge",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "mtu": 1500,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "SUBNET"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {
      "type": "portmap",
      "capabilities": {"portMappings": true}
    }
  ]
}
"""


def cni_script(name: str) -> str:
    """The network role's CNI configuration on one node: a bridge on its podCIDR; then containerd
    restarted, as the role's handler does (containerd 1.7 loads no conflist written after its start)."""
    path = f"{CNI_CONF_DIR}/10-quorum-kube-router.conflist"
    return "".join([
        PREAMBLE, "phase pod-cidr\n",
        f"until cidr=$(kubectl --kubeconfig=/etc/kubernetes/kubelet.conf get node {name} -o jsonpath='{{.spec.podCIDR}}') "
        "&& [ -n \"$cidr\" ]; do sleep 1; done\n",
        "phase conflist\n", heredoc(path, CONFLIST),
        f"sed -i \"s#SUBNET#$cidr#\" {path}\n", "systemctl restart containerd\n",
    ])


def ready_script(nodes: int) -> str:
    k = "kubectl --kubeconfig=/etc/kubernetes/admin.conf"
    return "".join([
        PREAMBLE, "phase nodes-ready\n",
        f"until [ \"$({k} get nodes -o name | wc -l)\" -ge {nodes} ]; do sleep 1; done\n",
        f"{k} wait --for=condition=Ready node --all --timeout=900s >/dev/null\n",
        "phase kube-router\n", f"{k} -n kube-system rollout status daemonset/kube-router --timeout=600s >/dev/null\n",
    ])


def plan(*, ips: dict[str, str], workers: list[str], version: str, mirror: str, cluster: str, vip: str, port: int,
         pod_cidr: str, service_cidr: str, manifest: dict[str, Any], index: list[dict[str, Any]],
         kube_router_manifest: str, token: str | None = None, certificate_key: str | None = None) -> list[Step]:
    """The floor's steps and what each waits for."""
    token = token or new_token()
    certificate_key = certificate_key or secrets.token_hex(32)
    binaries = [a for a in manifest.get("artifacts", []) if a.get("kind") == "binary" and a.get("name") in BINARIES
                and f"v{version.lstrip('v')}" in a.get("kubernetes", [])]
    if sorted(b["name"] for b in binaries) != sorted(BINARIES):
        raise SystemExit(f"floor: the mirror's manifest lacks kubeadm, kubelet or kubectl v{version}")
    frontends = [n for n in FRONTENDS if n in ips]
    steps: list[Step] = []
    for i, fe in enumerate(frontends):
        steps.append(Step(f"frontend:{fe}", fe, (), frontend_script(
            name=fe, ip=ips[fe], peers=[ips[p] for p in frontends if p != fe], priority=250 - 10 * i, vip=vip, port=port,
            backends=[(c, ips[c]) for c in CONTROL_PLANES], maxconn=INVENTORY_VARS.get("frontend_haproxy_maxconn", 4000)),
            "keepalived + HAProxy installed, VIP and API balancing configured"))
    for node in list(CONTROL_PLANES) + workers:
        steps.append(Step(f"node:{node}", node, (), node_script(
            version=version, mirror=mirror, binaries=binaries,
            images=wanted_images(index, version, node in CONTROL_PLANES)),
            "packages, containerd, Kubernetes binaries, kubelet unit, image import"))
    fe_steps = tuple(f"frontend:{fe}" for fe in frontends)
    first = CONTROL_PLANES[0]
    init = kubeadm_init_config(cluster=cluster, version=version, name=first, ip=ips[first], vip=vip, port=port,
                               pod_cidr=pod_cidr, service_cidr=service_cidr, token=token, certificate_key=certificate_key)
    steps.append(Step(f"init:{first}", first, (f"node:{first}",) + fe_steps, init_script(init), "kubeadm init --upload-certs"))

    def joiner(node: str, control_plane: bool) -> Callable[[dict[str, str]], str]:
        def script(outputs: dict[str, str]) -> str:
            return join_script(kubeadm_join_config(name=node, ip=ips[node], vip=vip, port=port, token=token,
                                                   ca_cert_hash=ca_hash(outputs[f"init:{first}"]),
                                                   certificate_key=certificate_key if control_plane else None))
        return script

    previous = f"init:{first}"
    for cp in CONTROL_PLANES[1:]:
        steps.append(Step(f"join:{cp}", cp, (previous, f"node:{cp}"), joiner(cp, True), "kubeadm join --control-plane"))
        previous = f"join:{cp}"
    for w in workers:
        steps.append(Step(f"join:{w}", w, (f"init:{first}", f"node:{w}"), joiner(w, False), "kubeadm join"))
    steps.append(Step("network:apply", first, (f"init:{first}",), apply_script(kube_router_manifest),
                      "kubectl apply of kube-router's manifest"))
    joined = tuple(s.name for s in steps if s.name.startswith(("init:", "join:")))
    for node in list(CONTROL_PLANES) + workers:
        steps.append(Step(f"cni:{node}", node, joined, cni_script(node), "CNI configuration on the podCIDR, containerd restarted"))
    steps.append(Step("network:ready", first, ("network:apply",) + tuple(f"cni:{n}" for n in list(CONTROL_PLANES) + workers),
                      ready_script(len(CONTROL_PLANES) + len(workers)), "every node Ready, kube-router rolled out"))
    return steps


# ---------------------------------------------------------------- running the steps (only our own children)

class StepRunner:
    """Runs the steps, each as soon as its dependencies ended well, each in a session of its own
    (ssh to the node inside the lab's namespace, the script on its stdin). Ctrl-C stops those
    sessions only."""

    def __init__(self, paths: config.Paths, ips: dict[str, str], log_dir: Path) -> None:
        self.paths = paths
        self.ns = config.netns_name(paths.instance)
        self.ips = ips
        self.log_dir = log_dir
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.lock = threading.Lock()
        self.stopping = False

    def argv(self, node: str) -> list[str]:
        return net.ns_cmd(self.ns, lifecycle.ssh_argv(self.paths, self.ips[node], ["bash", "-s"]))

    def one(self, step: Step, script: str, t0: float) -> None:
        log_file = self.log_dir / f"{step.name.replace(':', '-')}.log"
        start = time.monotonic()
        with log_file.open("wb") as out:
            out.write(f"# {step.name} on {step.node}: {step.what}\n".encode())
            out.flush()
            with self.lock:
                if self.stopping:
                    step.result = {"rc": -1, "output": "", "log": str(log_file)}
                    return
                proc = subprocess.Popen(self.argv(step.node), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, start_new_session=True)
                self.children[step.name] = proc
            output, unused_err = proc.communicate(script.encode())
            out.write(output)
        with self.lock:
            self.children.pop(step.name, None)
        end = time.monotonic()
        text = output.decode(errors="replace")
        step.result = {"rc": proc.returncode, "start": round(start - t0, 1), "end": round(end - t0, 1),
                       "seconds": round(end - start, 1), "phases": phases(text, time.time()),
                       "output": text, "log": str(log_file)}

    def run(self, steps: list[Step]) -> tuple[bool, float]:
        """Every step, as early as it may start; False at the first failure (the rest not started)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        by_name = {s.name: s for s in steps}
        done: set[str] = set()
        started: set[str] = set()
        finished: queue.Queue[str] = queue.Queue()
        t0 = time.monotonic()
        ok = True
        threads = []

        def start(step: Step) -> None:
            outputs = {n: by_name[n].result.get("output", "") for n in done}
            try:
                script = step.script(outputs) if callable(step.script) else step.script
            except (ValueError, KeyError) as exc:
                step.result = {"rc": -1, "output": f"{type(exc).__name__}: {exc}", "seconds": 0.0}
                finished.put(step.name)
                return
            bench.log(f"floor: {step.name} starts ({step.what})")
            th = threading.Thread(target=lambda: (self.one(step, script, t0), finished.put(step.name)), daemon=True)
            threads.append(th)
            th.start()

        try:
            while True:
                if ok:
                    for step in steps:
                        if step.name not in started and all(d in done for d in step.after):
                            started.add(step.name)
                            start(step)
                if len(started) == len(done):
                    break  # all ended, or nothing more may start after a failure
                name = finished.get()
                done.add(name)
                step = by_name[name]
                rc = step.result.get("rc")
                bench.log(f"floor: {name} rc {rc} in {step.result.get('seconds')} s")
                if rc != 0:
                    ok = False
                    tail = "\n".join(step.result.get("output", "").splitlines()[-15:])
                    bench.log(f"floor: {name} failed:\n{tail}")
        except KeyboardInterrupt:
            self.stop()
            raise bench.Interrupted("floor steps") from None
        return ok, round(time.monotonic() - t0, 1)

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            children = list(self.children.values())
        for proc in children:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if proc.poll() is not None:
                    break
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)  # the session this script started for that step
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)


# ---------------------------------------------------------------- the run

class Floor(bench.Bench):
    """bench.Bench for the lab, the runner and site.yml; the task profile on for site.yml."""

    def ansible_env(self) -> dict[str, str]:
        return {**super().ansible_env(),
                "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_roles,ansible.posix.profile_tasks,ansible.posix.timer",
                "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "40"}

    def lab_up(self, log_file: Path) -> tuple[int, float]:
        return self.runner.run([self.lab, "-i", self.instance, "up", TOPOLOGY, "--workers", str(self.args.workers)],
                               log_file, extra_env={"QUORUM_LAB_SKIP_RESOURCE_CHECK": "1"})

    def lab_down(self, log_file: Path) -> tuple[int, float]:
        with bench.no_interrupts("Ctrl-C ignored: taking the lab instance down"):
            bench.log(f"lab -i {self.instance} down")
            return self.runner.run([self.lab, "-i", self.instance, "down"], log_file)

    def measure_floor(self, record: dict[str, Any], log_dir: Path) -> bool:
        st = state.load(self.paths) or {}
        ips = {name: vm["ip"] for name, vm in (st.get("vms") or {}).items()}
        workers = sorted((n for n in ips if n.startswith("worker-")), key=lambda n: int(n.split("-")[1]))
        version = kubernetes_version(self.home)
        mirror = self.home / "mirror"
        kube_router = render_kube_router(KUBE_ROUTER_TEMPLATE.read_text(),
                                         kube_router_values(config.SERVICE_CIDR, config.API_VIP, API_PORT))
        steps = plan(ips=ips, workers=workers, version=version, mirror=config.MIRROR_URL,
                     cluster=f"lab-{self.instance}", vip=config.API_VIP, port=API_PORT,
                     pod_cidr=config.POD_CIDR, service_cidr=config.SERVICE_CIDR,
                     manifest=json.loads((mirror / "manifest.json").read_text()),
                     index=json.loads((mirror / "images" / "index.json").read_text()),
                     kube_router_manifest=kube_router)
        runner = StepRunner(self.paths, ips, log_dir / "floor")
        try:
            ok, wall = runner.run(steps)
        finally:
            record["floor"] = self.floor_record(steps)
        record["floor"]["wall_seconds"] = wall
        record["kubernetes_version"] = version
        if not ok:
            failed = [s.name for s in steps if s.result and s.result.get("rc") not in (0, None)]
            record["failed"] = f"floor step {', '.join(failed)} (logs {log_dir / 'floor'})"
        return ok

    @staticmethod
    def floor_record(steps: list[Step]) -> dict[str, Any]:
        measured = {s.name: s for s in steps if s.result.get("rc") == 0}
        path_seconds, path = critical_path({n: s.result["seconds"] for n, s in measured.items()},
                                           {n: tuple(d for d in s.after if d in measured) for n, s in measured.items()})
        return {
            "seconds": path_seconds if len(measured) == len(steps) else None,
            "critical_path": path,
            "steps": {s.name: {"node": s.node, "what": s.what, "after": list(s.after),
                               **{k: v for k, v in s.result.items() if k != "output"}} for s in steps if s.result},
        }


def load1() -> float | None:
    """The host's 1-minute load average: the lab host is shared, and a loaded one slows both runs."""
    with contextlib.suppress(OSError):
        return round(os.getloadavg()[0], 1)
    return None


def settle(limit: float, max_seconds: float = 300.0, *, load: Callable[[], float | None] = load1,
           sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> float:
    """Wait, at most ``max_seconds``, until the 1-minute load is at most ``limit``, and return the
    seconds waited: each leg then starts on a host at rest, not the second one right after the first
    one's nodes went down (site.yml once started at load 11.5 that way and took 11 % longer)."""
    start = clock()
    while True:
        value = load()
        waited = clock() - start
        if value is None or value <= limit or waited >= max_seconds:
            return round(waited, 1)
        sleep(5)


def summary(record: dict[str, Any]) -> str:
    floor = record.get("floor") or {}
    lines = [f"{'step':22} {'node':9} {'start':>7} {'end':>7} {'seconds':>8}  phases"]
    for name, s in sorted((floor.get("steps") or {}).items(), key=lambda kv: kv[1].get("start", 1e9)):
        ph = ", ".join(f"{k} {v}" for k, v in (s.get("phases") or {}).items())
        lines.append(f"{name:22} {s['node']:9} {s.get('start', '-'):>7} {s.get('end', '-'):>7} {s.get('seconds', '-'):>8}  {ph}")
    lines.append(f"floor (critical path): {floor.get('seconds')} s: {' -> '.join(floor.get('critical_path') or [])}")
    lines.append(f"floor (wall, steps started as soon as allowed): {floor.get('wall_seconds')} s")
    site = (record.get("site") or {}).get("seconds")
    lines.append(f"site.yml from booted nodes: {site} s; ratio site / floor: {record.get('ratio')} (goal <= {GOAL_RATIO})")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="floor", description=__doc__.split("\n\n", maxsplit=1)[0])
    p.add_argument("--instance", default=os.environ.get("FLOOR_INSTANCE", "floor"), help="the lab instance (default floor)")
    p.add_argument("--workers", type=int, default=1, help="workers of the cluster (default 1: the issue's N)")
    p.add_argument("--results", type=Path, default=None, help="directory of floor.json ($QUORUM_LAB_HOME/results)")
    p.add_argument("--no-site", action="store_true", help="measure the floor only")
    args = p.parse_args(argv)
    if args.results is None:
        args.results = config.lab_home() / "results"
    config.check_instance(args.instance)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if os.geteuid() != 0:
        print("floor: the lab needs root", file=sys.stderr)
        return 1
    fl = Floor(args)
    if fl.paths.state_file.exists():
        print(f"floor: lab instance {args.instance!r} is up ({fl.paths.state_file}): take it down first "
              f"(lab/lab -i {args.instance} down)", file=sys.stderr)
        return 1
    json_path = args.results / "floor.json"
    data = bench.load(json_path)
    log_dir = args.results / "floor-work"
    log_dir.mkdir(parents=True, exist_ok=True)
    commit, dirty = bench.git_commit()
    record: dict[str, Any] = {
        "workers": args.workers, "commit": commit, "dirty": dirty, "topology": TOPOLOGY, "instance": args.instance,
        "when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": {"cpus": os.cpu_count(), "memory_available_mib": bench.meminfo()["MemAvailable"]},
        "ansible": bench.ansible_settings(fl.env), "goal_ratio": GOAL_RATIO,
        "seconds": {}, "failed": None, "logs": str(log_dir),
    }
    status = 0

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    step = "lab up (floor)"
    try:
        rc, record["seconds"]["lab_up_floor"] = fl.lab_up(log_dir / "lab-up-floor.log")
        if rc != 0:
            raise RuntimeError(f"lab up (rc {rc}, {log_dir / 'lab-up-floor.log'})")
        step = "floor"
        record["seconds"]["settle_floor"] = settle(os.cpu_count() or 1)
        bench.log("floor: the raw steps over SSH")
        record["host"]["load1_floor"] = load1()
        ok = fl.measure_floor(record, log_dir)
        step = "lab down (floor)"
        rc, record["seconds"]["lab_down_floor"] = fl.lab_down(log_dir / "lab-down-floor.log")
        if not ok:
            status = 1
        elif not args.no_site:
            step = "lab up (site)"
            rc, record["seconds"]["lab_up_site"] = fl.lab_up(log_dir / "lab-up-site.log")
            if rc != 0:
                raise RuntimeError(f"lab up (rc {rc}, {log_dir / 'lab-up-site.log'})")
            step = "site.yml"
            record["seconds"]["settle_site"] = settle(os.cpu_count() or 1)
            record["host"]["load1_site"] = load1()
            result = fl.playbook("site", fl.paths.inventory, "site.yml", log_dir)
            record["site"] = {k: result[k] for k in ("rc", "seconds", "changed", "failed", "log")}
            record["site"]["top_tasks"] = top_tasks(Path(result["log"]).read_text(errors="replace"))
            if result["rc"] != 0:
                record["failed"] = f"site.yml (rc {result['rc']}, {result['log']})"
                status = 1
            else:
                record["ratio"] = ratio(result["seconds"], (record.get("floor") or {}).get("seconds"))
    except (bench.Interrupted, KeyboardInterrupt):
        record["failed"] = f"interrupted during {step}"
        status = 130
    except Exception as exc:  # noqa: BLE001 - recorded, the lab taken down
        record["failed"] = f"{step}: {type(exc).__name__}: {exc}"
        status = 1
    finally:
        if fl.paths.state_file.exists():
            rc, record["seconds"]["lab_down"] = fl.lab_down(log_dir / "lab-down.log")
        data.setdefault("runs", []).append(record)
        bench.save(json_path, data)
        print(summary(record))
        if record["failed"]:
            print(f"failed: {record['failed']}")
        print(f"figures: {json_path}")
    return status


TASK_LINE = re.compile(r"^(?P<name>\S.*?) -{2,} (?P<seconds>\d+\.\d+)s$")


def top_tasks(log_text: str, count: int = 15) -> list[dict[str, Any]]:
    """The slowest tasks of profile_tasks' summary (after the recap): name and seconds, slowest first.
    profile_roles' lines (a role name, no ' : ') are left out."""
    tail = log_text.split("PLAY RECAP", 1)[-1]
    tasks = []
    for line in tail.splitlines():
        m = TASK_LINE.match(line.strip())
        if m and " : " in m.group("name"):
            tasks.append({"task": m.group("name").strip(), "seconds": float(m.group("seconds"))})
    tasks.sort(key=lambda t: -t["seconds"])
    return tasks[:count]


if __name__ == "__main__":
    sys.exit(main())
