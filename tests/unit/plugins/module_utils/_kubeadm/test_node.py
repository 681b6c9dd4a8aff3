"""The node-state decisions of _kubeadm/node.py: member, not joined, half-joined; init, join, reset."""
from __future__ import annotations

import pytest
import yaml

from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm import node as n
from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.client import KubeadmClient
from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.errors import KubeadmError

KUBELET = "/etc/kubernetes/kubelet.conf"
APISERVER = "/etc/kubernetes/manifests/kube-apiserver.yaml"
ETCD = "/etc/kubernetes/manifests/etcd.yaml"
TOKEN = "abcdef.0123456789abcdef"
HASH = "sha256:" + "0" * 64
JOIN_ERROR = ("W1203 warning one\n"
              "error execution phase control-plane-join/etcd: etcd cluster is not healthy\n"
              "To see the stack trace of this error execute with --v=5 or higher\n")


def state_of(files, role="control_plane", topology="stacked"):
    return n.read_state(lambda path: path in files, role, topology)


# ------------------------------------------------------------------ state decisions
@pytest.mark.parametrize("files, expected", [
    ({KUBELET, APISERVER, ETCD}, n.MEMBER),
    (set(), n.ABSENT),
    ({KUBELET, APISERVER}, n.PARTIAL),           # stacked: etcd's manifest is missing
    ({APISERVER}, n.PARTIAL),
    ({"/etc/kubernetes/bootstrap-kubelet.conf"}, n.PARTIAL),    # a join stopped in the TLS bootstrap
    ({"/etc/kubernetes/manifests/kube-scheduler.yaml"}, n.PARTIAL),
    ({"/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/admin.conf"}, n.ABSENT),  # the PKI comes from Vault
])
def test_control_plane_stacked(files, expected):
    assert state_of(files).state == expected


def test_control_plane_external_etcd_needs_no_etcd_manifest():
    state = state_of({KUBELET, APISERVER}, topology="external")
    assert state.state == n.MEMBER and state.expected == [KUBELET, APISERVER]


@pytest.mark.parametrize("files, expected", [
    ({KUBELET}, n.MEMBER),
    (set(), n.ABSENT),
    ({"/etc/kubernetes/pki/ca.crt"}, n.PARTIAL),   # only kubeadm join writes a worker's CA
    ({"/var/lib/kubelet/config.yaml"}, n.PARTIAL),
])
def test_worker(files, expected):
    assert state_of(files, role="worker").state == expected


def test_partial_lists_found_and_missing():
    state = state_of({KUBELET, "/etc/kubernetes/bootstrap-kubelet.conf"})
    assert state.found == [KUBELET, "/etc/kubernetes/bootstrap-kubelet.conf"]
    assert state.missing == [APISERVER, ETCD]
    text = state.describe("cp2")
    assert text.startswith("cp2 holds part of a node (/etc/kubernetes/kubelet.conf, ")
    assert "kubeadm reset --force" in text


def test_rooted_exists(tmp_path):
    (tmp_path / "etc/kubernetes").mkdir(parents=True)
    (tmp_path / "etc/kubernetes/kubelet.conf").write_text("x")
    assert n.read_state(n.rooted(str(tmp_path)), "worker").state == n.MEMBER


# ------------------------------------------------------------------ the leader
@pytest.mark.parametrize("states, leader, needs_init", [
    ({"cp1": "absent", "cp2": "absent", "cp3": "absent"}, "cp1", True),
    ({"cp1": "absent", "cp2": "member", "cp3": "member"}, "cp2", False),   # cp1 rebuilt: it joins cp2
    ({"cp1": "partial", "cp2": "absent", "cp3": "absent"}, "cp2", True),   # a half-joined host never leads
    ({"cp1": "member", "cp2": "partial", "cp3": "absent"}, "cp1", False),
])
def test_choose_leader(states, leader, needs_init):
    plan = n.choose_leader(["cp1", "cp2", "cp3"], states)
    assert (plan["leader"], plan["needs_init"]) == (leader, needs_init)


def test_choose_leader_keeps_the_given_order():
    plan = n.choose_leader(["cp3", "cp1"], {"cp1": "member", "cp3": "member"})
    assert plan == {"leader": "cp3", "needs_init": False, "members": ["cp3", "cp1"]}


@pytest.mark.parametrize("hosts, states, words", [
    ([], {}, "no control plane"),
    (["cp1"], {}, "no node state for cp1"),
    (["cp1"], {"cp1": "partial"}, "half-joined"),
])
def test_choose_leader_refuses(hosts, states, words):
    with pytest.raises(KubeadmError, match=words):
        n.choose_leader(hosts, states)


# ------------------------------------------------------------------ the join configuration
def join_yaml(**kwargs):
    args = dict(api_server_endpoint="10.0.0.10:6443", token=TOKEN, ca_cert_hash=HASH, node_name="w1")
    args.update(kwargs)
    return yaml.safe_load(n.to_yaml(n.join_configuration(**args)))


def test_worker_join_configuration():
    doc = join_yaml(node_ip="10.0.0.21", cri_socket="unix:///run/containerd/containerd.sock",
                    taints=[{"key": "node-role.kubernetes.io/meta-worker", "effect": "NoSchedule"}],
                    ignore_preflight_errors=["SystemVerification"], timeouts={"discovery": "5m0s"})
    assert doc["apiVersion"] == "kubeadm.k8s.io/v1beta4" and doc["kind"] == "JoinConfiguration"
    assert doc["discovery"]["bootstrapToken"] == {
        "apiServerEndpoint": "10.0.0.10:6443", "token": TOKEN, "caCertHashes": [HASH]}
    reg = doc["nodeRegistration"]
    assert reg["name"] == "w1" and reg["criSocket"].startswith("unix://")
    assert reg["kubeletExtraArgs"] == [{"name": "node-ip", "value": "10.0.0.21"}]
    assert reg["taints"] == [{"key": "node-role.kubernetes.io/meta-worker", "effect": "NoSchedule"}]
    assert reg["ignorePreflightErrors"] == ["SystemVerification"]
    assert doc["timeouts"] == {"discovery": "5m0s"}
    assert "controlPlane" not in doc and "patches" not in doc


def test_plain_worker_gets_no_taint_and_control_plane_keeps_kubeadms():
    assert join_yaml(taints=[])["nodeRegistration"]["taints"] == []
    assert "taints" not in join_yaml(control_plane={"advertise_address": "10.0.0.11"})["nodeRegistration"]


def test_control_plane_join_configuration():
    doc = join_yaml(patches_dir="/etc/kubernetes/patches",
                    control_plane={"advertise_address": "10.0.0.11", "bind_port": "6443"})
    assert doc["controlPlane"] == {"localAPIEndpoint": {"advertiseAddress": "10.0.0.11", "bindPort": 6443}}
    assert doc["patches"] == {"directory": "/etc/kubernetes/patches"}
    key = "ab" * 32
    doc = join_yaml(control_plane={"advertise_address": "10.0.0.11", "certificate_key": key})
    assert doc["controlPlane"]["certificateKey"] == key


def test_values_cannot_change_the_structure():
    doc = join_yaml(node_name='w1"\nkind: Evil: [', ignore_preflight_errors=["a: b", "- c"])
    assert doc["kind"] == "JoinConfiguration" and doc["nodeRegistration"]["name"] == 'w1"\nkind: Evil: ['
    assert doc["nodeRegistration"]["ignorePreflightErrors"] == ["a: b", "- c"]


def test_bad_taint():
    with pytest.raises(KubeadmError, match="key"):
        n.join_configuration("v:1", TOKEN, HASH, "w1", taints=[{"effect": "NoSchedule"}])


def test_failure_summary_puts_the_error_line_first():
    text = n.failure_summary(JOIN_ERROR)
    assert text.startswith("error execution phase control-plane-join/etcd")
    assert text.count("error execution phase") == 1 and "W1203 warning one" in text
    assert n.failure_summary("") == "no output"


# ------------------------------------------------------------------ ensure: init, join, reset
class FakeNode:
    """kubeadm on a node: init and join create the member files, reset removes every trace."""

    def __init__(self, files=(), role="control_plane", topology="stacked", fail=None, reset_fails=False):
        self.files = set(files)
        self.role, self.topology = role, topology
        self.fail = fail
        self.reset_fails = reset_fails
        self.calls = []
        self.configs = []

    def exists(self, path):
        return path in self.files

    def run(self, argv):
        self.calls.append(list(argv))
        verb = argv[1]
        if verb in ("init", "join"):
            if verb == "join":
                with open(argv[argv.index("--config") + 1]) as handle:
                    self.configs.append(yaml.safe_load(handle))
            if self.fail == verb:
                self.files |= {KUBELET, "/etc/kubernetes/bootstrap-kubelet.conf"}
                return 1, "", JOIN_ERROR
            self.files |= set(n.member_files(self.role, self.topology))
            return 0, "done\n", ""
        if verb == "reset":
            if self.reset_fails:
                return 1, "", "reset broke"
            self.files -= set(n.trace_files(self.role, self.topology))
            return 0, "", ""
        raise AssertionError("unexpected %r" % argv)

    def verbs(self):
        return [c[1] for c in self.calls]


@pytest.fixture
def writer(tmp_path):
    written = []

    def write_temp(text):
        path = tmp_path / ("join-%d.yaml" % len(written))
        path.write_text(text)
        written.append(path)
        return str(path), path.unlink
    write_temp.written = written
    return write_temp


JOIN = dict(api_server_endpoint="10.0.0.10:6443", token=TOKEN, ca_cert_hash=HASH,
            control_plane={"advertise_address": "10.0.0.12", "bind_port": 6443})


def ensure(fake, state, writer, check_mode=False, **kwargs):
    request = n.NodeRequest(state, fake.role, "cp2", etcd_topology=fake.topology,
                            config="/etc/kubernetes/kubeadm-config.yaml", join=kwargs.get("join", JOIN),
                            verbosity=kwargs.get("verbosity", 0), cri_socket="unix:///run/containerd/containerd.sock")
    return n.ensure(KubeadmClient(fake.run), request, fake.exists, check_mode=check_mode, write_temp=writer)


def test_member_runs_nothing(writer):
    fake = FakeNode({KUBELET, APISERVER, ETCD})
    for state in ("info", "initialized", "joined"):
        result = ensure(fake, state, writer)
        assert not result["changed"] and result["node_state"] == n.MEMBER and result["action"] is None
    assert fake.calls == []


def test_info_reports_a_half_joined_node_without_failing(writer):
    result = ensure(FakeNode({APISERVER}), "info", writer)
    assert result["node_state"] == n.PARTIAL and result["found"] == [APISERVER] and not result["changed"]


@pytest.mark.parametrize("state", ["initialized", "joined"])
def test_half_joined_is_refused(writer, state):
    fake = FakeNode({KUBELET})
    with pytest.raises(KubeadmError, match="holds part of a node"):
        ensure(fake, state, writer)
    assert fake.calls == []


def test_init_then_second_run_unchanged(writer):
    fake = FakeNode({"/etc/kubernetes/kubeadm-config.yaml"})
    first = ensure(fake, "initialized", writer, verbosity=5)
    assert first["changed"] and first["action"] == "init" and first["node_state"] == n.MEMBER
    assert fake.calls == [["kubeadm", "init", "--config", "/etc/kubernetes/kubeadm-config.yaml",
                           "--skip-token-print", "--v=5"]]
    assert first["diff"] == {"before": {"node_state": "absent"}, "after": {"node_state": "member"}}
    assert not ensure(fake, "initialized", writer)["changed"] and len(fake.calls) == 1


def test_init_needs_its_configuration(writer):
    with pytest.raises(KubeadmError, match="kubeadm-config.yaml not found"):
        ensure(FakeNode(), "initialized", writer)


def test_failed_init_is_not_reset(writer):
    fake = FakeNode({"/etc/kubernetes/kubeadm-config.yaml"}, fail="init")
    with pytest.raises(n.KubeadmRunFailed) as info:
        ensure(fake, "initialized", writer)
    assert not info.value.reset and fake.verbs() == ["init"]
    assert str(info.value).startswith("kubeadm init failed on cp2: error execution phase")


def test_join_writes_removes_config_and_keeps_token_off_the_command_line(writer):
    fake = FakeNode()
    result = ensure(fake, "joined", writer)
    assert result["changed"] and result["action"] == "join" and result["node_state"] == n.MEMBER
    assert fake.verbs() == ["join"]
    assert not any(TOKEN in " ".join(c) for c in fake.calls)
    assert fake.configs[0]["discovery"]["bootstrapToken"]["token"] == TOKEN
    assert fake.configs[0]["controlPlane"]["localAPIEndpoint"]["advertiseAddress"] == "10.0.0.12"
    assert not any(p.exists() for p in writer.written)
    assert not ensure(fake, "joined", writer)["changed"] and fake.verbs() == ["join"]


def test_worker_join_drops_control_plane_fields(writer):
    fake = FakeNode(role="worker")
    ensure(fake, "joined", writer)
    assert "controlPlane" not in fake.configs[0]


def test_failed_join_is_reset_and_reported_with_the_error_line(writer):
    fake = FakeNode(fail="join")
    with pytest.raises(n.KubeadmRunFailed) as info:
        ensure(fake, "joined", writer)
    assert fake.verbs() == ["join", "reset"]
    assert fake.calls[1] == ["kubeadm", "reset", "--force", "--cri-socket", "unix:///run/containerd/containerd.sock"]
    assert info.value.reset and info.value.rc == 1
    assert str(info.value).startswith(
        "kubeadm join failed on cp2 and was undone with kubeadm reset; re-run the playbook: error execution phase")
    assert not any(p.exists() for p in writer.written)
    # the node is clean again: the next run joins
    assert n.read_state(fake.exists, "control_plane").state == n.ABSENT


def test_failed_reset_is_reported(writer):
    fake = FakeNode(fail="join", reset_fails=True)
    with pytest.raises(n.KubeadmRunFailed) as info:
        ensure(fake, "joined", writer)
    assert not info.value.reset and "kubeadm reset failed too (reset broke)" in str(info.value)


@pytest.mark.parametrize("state", ["initialized", "joined"])
def test_check_mode_runs_nothing(writer, state):
    fake = FakeNode()
    result = ensure(fake, state, writer, check_mode=True, join=dict(JOIN, token=None, ca_cert_hash=None))
    assert result["changed"] and result["action"] == ("init" if state == "initialized" else "join")
    assert result["node_state"] == n.ABSENT and result["diff"]["after"]["node_state"] == n.MEMBER
    assert fake.calls == [] and writer.written == []


def test_only_a_control_plane_inits():
    with pytest.raises(KubeadmError, match="only a control plane"):
        n.NodeRequest("initialized", "worker", "w1")
