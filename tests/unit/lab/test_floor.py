"""scripts/floor.py (make bench-floor): its pure parts. No lab is booted and no command runs on a node."""

import importlib.util
import re
import sys
from pathlib import Path

import jinja2
import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("floor", REPO / "scripts" / "floor.py")
floor = importlib.util.module_from_spec(SPEC)
sys.modules["floor"] = floor
SPEC.loader.exec_module(floor)

IPS = {"fe-1": "10.231.0.11", "fe-2": "10.231.0.12", "cp-1": "10.231.0.21", "cp-2": "10.231.0.22",
       "cp-3": "10.231.0.23", "worker-1": "10.231.0.100"}
HASH = "sha256:" + "ab" * 32
INDEX = [
    {"image": "registry.k8s.io/kube-apiserver:v1.35.8", "file": "a.tar", "sha256": "1" * 64, "kubernetes": ["v1.35.8"]},
    {"image": "registry.k8s.io/kube-apiserver:v1.34.12", "file": "b.tar", "sha256": "2" * 64, "kubernetes": ["v1.34.12"]},
    {"image": "registry.k8s.io/kube-proxy:v1.35.8", "file": "c.tar", "sha256": "3" * 64, "kubernetes": ["v1.35.8"]},
    {"image": "registry.k8s.io/pause:3.10.1", "file": "d.tar", "sha256": "4" * 64, "kubernetes": ["v1.34.12", "v1.35.8"]},
    {"image": "docker.io/cloudnativelabs/kube-router:v2.1.0", "file": "e.tar", "sha256": "5" * 64},
    {"image": "localhost/quorum/httpd:1.0", "file": "f.tar", "sha256": "6" * 64},
]
MANIFEST = {"artifacts": [{"kind": "binary", "name": n, "path": f"dl.k8s.io/release/v1.35.8/bin/linux/amd64/{n}",
                           "sha256": "7" * 64, "kubernetes": ["v1.35.8"]} for n in ("kubeadm", "kubelet", "kubectl")]}


def defaults(role):
    return yaml.safe_load((REPO / "roles" / role / "defaults" / "main.yml").read_text())


def make_plan(**extra):
    return floor.plan(ips=IPS, workers=["worker-1"], version="1.35.8", mirror="http://10.231.0.1", cluster="lab-floor",
                      vip="10.231.0.250", port=6443, pod_cidr="10.244.0.0/16", service_cidr="10.96.0.0/12",
                      manifest=MANIFEST, index=INDEX, kube_router_manifest="kind: List\n",
                      token="abcdef.0123456789abcdef", certificate_key="c" * 64, **extra)


# ---------------------------------------------------------------- the critical path

def test_critical_path_is_the_longest_chain():
    seconds = {"node:a": 20.0, "node:b": 30.0, "fe": 5.0, "init": 10.0, "join:b": 15.0, "join:w": 40.0, "ready": 2.0}
    after = {"init": ("node:a", "fe"), "join:b": ("init", "node:b"), "join:w": ("init",), "ready": ("join:b", "join:w")}
    total, path = floor.critical_path(seconds, after)
    assert total == 72.0  # node:a 20 + init 10 + join:w 40 + ready 2
    assert path == ["node:a", "init", "join:w", "ready"]


def test_a_late_dependency_moves_the_path():
    seconds = {"node:a": 20.0, "node:b": 45.0, "init": 10.0, "join:b": 15.0}
    total, path = floor.critical_path(seconds, {"init": ("node:a",), "join:b": ("init", "node:b")})
    assert (total, path) == (60.0, ["node:b", "join:b"])


def test_critical_path_of_nothing_and_of_a_circle():
    assert floor.critical_path({}, {}) == (0.0, [])
    with pytest.raises(ValueError, match="circle"):
        floor.critical_path({"a": 1.0, "b": 1.0}, {"a": ("b",), "b": ("a",)})


def test_ratio():
    assert floor.ratio(150.0, 100.0) == 1.5
    assert floor.ratio(129.2, 80.3) == 1.61
    assert floor.ratio(None, 80.0) is None
    assert floor.ratio(100.0, 0.0) is None


class FakeHost:
    """A load that falls by one per 5 s sleep, and a clock the sleeps move."""

    def __init__(self, loads):
        self.loads, self.now = list(loads), 0.0

    def load(self):
        return self.loads.pop(0) if self.loads else None

    def sleep(self, seconds):
        self.now += seconds


@pytest.mark.parametrize("loads, limit, waited", [
    ([1.0], 2, 0.0),                   # at rest: no wait
    ([11.5, 6.0, 3.1, 2.0], 2, 15.0),  # waits until the load is at the limit
    ([9.0] * 100, 2, 300.0),           # never settles: stops at the bound
    ([], 2, 0.0),                      # no load average to read: no wait
])
def test_settle_waits_for_the_load_to_fall_to_the_limit(loads, limit, waited):
    host = FakeHost(loads)
    assert floor.settle(limit, load=host.load, sleep=host.sleep, clock=lambda: host.now) == waited


# ---------------------------------------------------------------- what the steps print

def test_phases_run_to_the_next_mark_and_the_last_to_the_end():
    out = "noise\nFLOOR phase packages 100.0\nFLOOR phase images 112.5\nmore\n"
    assert floor.phases(out, 130.0) == {"packages": 12.5, "images": 17.5}
    assert floor.phases("nothing", 1.0) == {}


def test_ca_hash_from_the_init_output():
    assert floor.ca_hash(f"x\nFLOOR ca-hash {HASH}\n") == HASH
    with pytest.raises(ValueError):
        floor.ca_hash("kubeadm failed")


def test_top_tasks_from_profile_tasks():
    log = ("TASK [x]\nquorum.k8s.preflight : fake ---- 9.00s\nPLAY RECAP ***\n"
           "cp-1 : ok=1 changed=1\n"
           "quorum.k8s.control_plane ------------------------------ 50.10s\n"
           "quorum.k8s.control_plane : Init the cluster ----------- 40.20s\n"
           "quorum.k8s.kubernetes_node : Import the archives into containerd -- 12.30s\n")
    assert floor.top_tasks(log) == [
        {"task": "quorum.k8s.control_plane : Init the cluster", "seconds": 40.2},
        {"task": "quorum.k8s.kubernetes_node : Import the archives into containerd", "seconds": 12.3},
    ]


# ---------------------------------------------------------------- the same as the roles

def test_packages_and_paths_are_the_roles():
    runtime = defaults("container_runtime")
    assert list(floor.NODE_PACKAGES) == runtime["container_runtime_packages"] + runtime["container_runtime_extra_packages"]
    assert floor.SANDBOX_IMAGE == runtime["container_runtime_sandbox_image"]
    assert floor.CNI_BIN_DIR == runtime["container_runtime_cni_bin_dir"]
    assert floor.CNI_CONF_DIR == runtime["container_runtime_cni_conf_dir"]
    assert floor.SYSCTLS == runtime["container_runtime_sysctls"]
    assert list(floor.FRONTEND_PACKAGES) == defaults("frontend")["frontend_packages"]
    node = defaults("kubernetes_node")
    assert list(floor.BINARIES) == node["kubernetes_node_binaries"]
    assert list(floor.WORKER_IMAGE_PREFIXES) == node["kubernetes_node_worker_images"][:4]
    assert floor.KUBE_ROUTER_HEALTH_PORT == defaults("network")["network_kube_router_health_port"]


@pytest.mark.parametrize("template, text", [("config-v2.toml.j2", "CONTAINERD_V2"), ("config-v3.toml.j2", "CONTAINERD_V3")])
def test_containerd_configuration_is_the_roles_for_nspawn_nodes(template, text):
    source = (REPO / "roles" / "container_runtime" / "templates" / template).read_text()
    env = jinja2.Environment(keep_trailing_newline=True)
    env.filters["bool"] = bool
    rendered = env.from_string(source).render(
        ansible_managed="x", container_runtime_sandbox_image=floor.SANDBOX_IMAGE,
        container_runtime_restrict_oom_score_adj=True, container_runtime_cgroup_driver="cgroupfs",
        container_runtime_cni_bin_dir=floor.CNI_BIN_DIR, container_runtime_cni_conf_dir=floor.CNI_CONF_DIR)
    body = "".join(line for line in rendered.splitlines(keepends=True) if not line.startswith("#"))
    ours = getattr(floor, text).format(sandbox=floor.SANDBOX_IMAGE, restrict="true", systemd="false",
                                       cni_bin=floor.CNI_BIN_DIR, cni_conf=floor.CNI_CONF_DIR)
    assert body == ours


def test_kubelet_unit_and_drop_in_are_the_roles():
    for name, ours in (("kubelet.service.j2", floor.KUBELET_UNIT), ("10-kubeadm.conf.j2", floor.KUBEADM_DROPIN)):
        source = (REPO / "roles" / "kubernetes_node" / "templates" / name).read_text()
        rendered = jinja2.Template(source, keep_trailing_newline=True).render(
            ansible_managed="x", kubernetes_node_bin_dir="/usr/local/bin")
        assert "".join(line for line in rendered.splitlines(keepends=True) if not line.startswith("#")) == ours


def test_kube_router_manifest_is_the_network_roles():
    text = floor.render_kube_router(floor.KUBE_ROUTER_TEMPLATE.read_text(),
                                    floor.kube_router_values("10.96.0.0/12", "10.231.0.250", 6443))
    assert "{{" not in text
    docs = [d for d in yaml.safe_load_all(text) if d]
    assert [d["kind"] for d in docs] == ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "DaemonSet"]
    container = docs[-1]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "docker.io/cloudnativelabs/kube-router:v2.1.0"
    assert "--service-cluster-ip-range=10.96.0.0/12" in container["args"]
    assert "--enable-pod-egress=false" in container["args"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert (env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"]) == ("10.231.0.250", "6443")
    with pytest.raises(KeyError, match="network_new_thing"):
        floor.render_kube_router("a: {{ network_new_thing }}", {})


def test_images_a_node_takes():
    cp = [i["image"] for i in floor.wanted_images(INDEX, "1.35.8", control_plane=True)]
    worker = [i["image"] for i in floor.wanted_images(INDEX, "v1.35.8", control_plane=False)]
    assert cp == ["registry.k8s.io/kube-apiserver:v1.35.8", "registry.k8s.io/kube-proxy:v1.35.8", "registry.k8s.io/pause:3.10.1",
                  "docker.io/cloudnativelabs/kube-router:v2.1.0", "localhost/quorum/httpd:1.0"]
    assert worker == ["registry.k8s.io/kube-proxy:v1.35.8", "registry.k8s.io/pause:3.10.1",
                      "docker.io/cloudnativelabs/kube-router:v2.1.0", "localhost/quorum/httpd:1.0"]


# ---------------------------------------------------------------- kubeadm's configuration

def test_init_configuration():
    text = floor.kubeadm_init_config(cluster="lab-floor", version="1.35.8", name="cp-1", ip="10.231.0.21",
                                     vip="10.231.0.250", port=6443, pod_cidr="10.244.0.0/16", service_cidr="10.96.0.0/12",
                                     token="abcdef.0123456789abcdef", certificate_key="c" * 64)
    init, cluster, kubelet, proxy = yaml.safe_load_all(text)
    assert init["kind"] == "InitConfiguration"
    assert init["bootstrapTokens"][0]["token"] == "abcdef.0123456789abcdef"
    assert init["certificateKey"] == "c" * 64
    assert init["nodeRegistration"]["ignorePreflightErrors"] == ["SystemVerification"]
    assert init["nodeRegistration"]["kubeletExtraArgs"] == [{"name": "node-ip", "value": "10.231.0.21"}]
    assert init["timeouts"]["controlPlaneComponentHealthCheck"] == "15m0s"
    assert cluster["controlPlaneEndpoint"] == "10.231.0.250:6443"
    assert cluster["kubernetesVersion"] == "v1.35.8"
    assert cluster["networking"] == {"podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/12", "dnsDomain": "cluster.local"}
    assert kubelet == {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
                       "cgroupDriver": "cgroupfs", "failCgroupV1": False}
    assert proxy["conntrack"] == {"maxPerCore": 0}


@pytest.mark.parametrize("key, control_plane", [("c" * 64, True), (None, False)])
def test_join_configuration(key, control_plane):
    (join,) = yaml.safe_load_all(floor.kubeadm_join_config(name="cp-2", ip="10.231.0.22", vip="10.231.0.250", port=6443,
                                                           token="abcdef.0123456789abcdef", ca_cert_hash=HASH,
                                                           certificate_key=key))
    assert join["discovery"]["bootstrapToken"] == {"apiServerEndpoint": "10.231.0.250:6443", "token": "abcdef.0123456789abcdef",
                                                   "caCertHashes": [HASH]}
    assert ("controlPlane" in join) is control_plane
    if control_plane:
        assert join["controlPlane"] == {"localAPIEndpoint": {"advertiseAddress": "10.231.0.22", "bindPort": 6443},
                                        "certificateKey": key}


def test_new_token_has_kubeadms_form():
    assert re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", floor.new_token())


# ---------------------------------------------------------------- the steps and their order

def test_plan_order():
    steps = {s.name: s for s in make_plan()}
    assert set(steps) == {"frontend:fe-1", "frontend:fe-2", "node:cp-1", "node:cp-2", "node:cp-3", "node:worker-1",
                          "init:cp-1", "join:cp-2", "join:cp-3", "join:worker-1", "network:apply",
                          "cni:cp-1", "cni:cp-2", "cni:cp-3", "cni:worker-1", "network:ready"}
    assert steps["init:cp-1"].after == ("node:cp-1", "frontend:fe-1", "frontend:fe-2")
    assert steps["join:cp-2"].after == ("init:cp-1", "node:cp-2")
    assert steps["join:cp-3"].after == ("join:cp-2", "node:cp-3")  # one control plane after the other
    assert steps["join:worker-1"].after == ("init:cp-1", "node:worker-1")  # beside the control-plane joins
    assert set(steps["cni:worker-1"].after) == {"init:cp-1", "join:cp-2", "join:cp-3", "join:worker-1"}
    assert set(steps["network:ready"].after) == {"network:apply", "cni:cp-1", "cni:cp-2", "cni:cp-3", "cni:worker-1"}
    assert all(not s.after for n, s in steps.items() if n.startswith(("node:", "frontend:")))
    assert floor.critical_path({n: 1.0 for n in steps}, {n: s.after for n, s in steps.items()})[1] == \
        ["node:cp-1", "init:cp-1", "join:cp-2", "join:cp-3", "cni:cp-1", "network:ready"]


def test_plan_scripts():
    steps = {s.name: s for s in make_plan()}
    node = steps["node:worker-1"].script
    assert "apt-get install -y -qq --no-install-recommends containerd runc containernetworking-plugins conntrack " \
           "iptables ethtool socat" in node
    assert "fetch http://10.231.0.1/dl.k8s.io/release/v1.35.8/bin/linux/amd64/kubeadm /usr/local/bin/kubeadm" in node
    assert "ctr -n k8s.io images import $local $cache/c.tar" in node
    assert "a.tar" not in node  # the API server image is a control plane's
    assert "a.tar" in steps["node:cp-1"].script and "b.tar" not in steps["node:cp-1"].script
    fe = steps["frontend:fe-2"].script
    assert "unicast_peer {\n        10.231.0.11\n" in fe and "priority 240" in fe
    assert "server cp-3 10.231.0.23:6443" in fe and "bind 10.231.0.250:6443" in fe
    assert "kubeadm init --config /etc/kubernetes/floor-kubeadm.yaml --upload-certs" in steps["init:cp-1"].script
    join = steps["join:cp-3"].script({"init:cp-1": f"FLOOR ca-hash {HASH}\n"})
    assert HASH in join and 'certificateKey: "' + "c" * 64 in join
    worker = steps["join:worker-1"].script({"init:cp-1": f"FLOOR ca-hash {HASH}\n"})
    assert "controlPlane" not in worker
    assert "get node worker-1 -o jsonpath='{.spec.podCIDR}'" in steps["cni:worker-1"].script
    assert "-ge 4 ]" in steps["network:ready"].script


def test_plan_needs_the_binaries_in_the_manifest():
    with pytest.raises(SystemExit, match="lacks kubeadm"):
        floor.plan(ips=IPS, workers=["worker-1"], version="1.34.12", mirror="http://10.231.0.1", cluster="c", vip="v",
                   port=6443, pod_cidr="p", service_cidr="s", manifest=MANIFEST, index=INDEX, kube_router_manifest="")


def test_heredoc_refuses_its_own_tag():
    assert floor.heredoc("/f", "a $b\n") == "install -m 0644 /dev/null /f\ncat > /f <<'FLOOR_EOF'\na $b\nFLOOR_EOF\n"
    with pytest.raises(ValueError):
        floor.heredoc("/f", "FLOOR_EOF")
