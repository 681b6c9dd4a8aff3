"""The kubeadm_node module end to end, with kubeadm answered by a fake node under a test root."""
from __future__ import annotations

import os

import pytest
import yaml
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.quorum.k8s.plugins.modules import kubeadm_node

TOKEN = "qrmtok.0123456789abcdef"
HASH = "sha256:" + "1" * 64
CP_MEMBER = ["etc/kubernetes/kubelet.conf", "etc/kubernetes/manifests/kube-apiserver.yaml",
             "etc/kubernetes/manifests/etcd.yaml"]


class Exit(Exception):
    def __init__(self, kind, result):
        super().__init__(kind)
        self.kind = kind
        self.result = result


class Node:
    """A node's files under ``root``; kubeadm join/init write the member files, reset removes them."""

    def __init__(self, root):
        self.root = root
        self.calls = []
        self.join_configs = []
        self.fail_join = False

    def touch(self, *paths):
        for path in paths:
            full = os.path.join(self.root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as handle:
                handle.write("x")

    def run_command(self, argv, **kwargs):  # pylint: disable=unused-argument
        self.calls.append(list(argv))
        verb = argv[1]
        if verb == "join":
            with open(argv[argv.index("--config") + 1]) as handle:
                self.join_configs.append(yaml.safe_load(handle))
            if self.fail_join:
                self.touch("etc/kubernetes/kubelet.conf")
                return 1, "", "W1 a warning\nerror execution phase kubelet-start: timed out\nmore\n"
            self.touch(*CP_MEMBER)
            return 0, "This node has joined the cluster\n", ""
        if verb == "init":
            self.touch(*CP_MEMBER)
            return 0, "initialised\n", ""
        if verb == "reset":
            for path in CP_MEMBER:
                full = os.path.join(self.root, path)
                if os.path.exists(full):
                    os.unlink(full)
            return 0, "", ""
        return 1, "", "unexpected %r" % argv


@pytest.fixture
def node(tmp_path, monkeypatch):
    root = tmp_path / "root"
    root.mkdir()
    fake = Node(str(root))

    def exit_json(self, **kwargs):  # pylint: disable=unused-argument
        raise Exit("exit", kwargs)

    def fail_json(self, **kwargs):  # pylint: disable=unused-argument
        raise Exit("fail", kwargs)

    monkeypatch.setattr(kubeadm_node, "ROOT", str(root))
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    monkeypatch.setattr(basic.AnsibleModule, "run_command",
                        lambda self, argv, **kw: fake.run_command(argv, **kw))
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, **kw: "/usr/local/bin/" + name)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    monkeypatch.setattr(basic.AnsibleModule, "tmpdir", property(lambda self: str(tmpdir)))
    fake.tmpdir = tmpdir
    return fake


CP_JOIN = {
    "state": "joined", "node_role": "control_plane", "node_name": "cp2",
    "api_server_endpoint": "10.0.0.10:6443", "token": TOKEN, "discovery_token_ca_cert_hash": HASH,
    "node_ip": "10.0.0.12", "patches_dir": "/etc/kubernetes/patches",
    "control_plane": {"advertise_address": "10.0.0.12", "bind_port": 6443},
}


def call(args, check_mode=False, diff=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    if diff:
        args = dict(args, _ansible_diff=True)
    with patch_module_args(args):
        with pytest.raises(Exit) as info:
            kubeadm_node.main()
    return info.value


def test_info_on_a_fresh_node(node):
    out = call({"node_role": "control_plane", "node_name": "cp2"})
    assert out.kind == "exit" and out.result["node_state"] == "absent" and not out.result["changed"]
    assert out.result["expected"][-1] == "/etc/kubernetes/manifests/etcd.yaml"
    assert node.calls == []


def test_join_then_idempotent(node):
    first = call(CP_JOIN, diff=True)
    assert first.kind == "exit" and first.result["changed"] and first.result["node_state"] == "member"
    assert first.result["diff"] == {"before": {"node_state": "absent"}, "after": {"node_state": "member"}}
    config = node.join_configs[0]
    assert config["controlPlane"]["localAPIEndpoint"] == {"advertiseAddress": "10.0.0.12", "bindPort": 6443}
    assert config["nodeRegistration"]["name"] == "cp2" and "taints" not in config["nodeRegistration"]
    assert os.listdir(str(node.tmpdir)) == []          # the file with the token is gone
    assert not any(TOKEN in " ".join(c) for c in node.calls)
    second = call(CP_JOIN)
    assert not second.result["changed"] and len(node.calls) == 1


def test_check_mode_without_token_nor_kubeadm(node):
    # before kubernetes_node installed kubeadm (check mode on a fresh machine)
    out = call(dict(CP_JOIN, token=None, discovery_token_ca_cert_hash=None, kubeadm_path="/nonexistent/kubeadm"),
               check_mode=True)
    assert out.kind == "exit" and out.result["changed"] and out.result["action"] == "join"
    assert node.calls == []


def test_real_join_needs_a_token(node):
    out = call(dict(CP_JOIN, token=None))
    assert out.kind == "fail" and "token is required" in out.result["msg"]
    out = call(dict(CP_JOIN, token="not-a-token"))
    assert out.kind == "fail" and "bootstrap token" in out.result["msg"]


def test_control_plane_join_needs_its_section(node):
    out = call(dict(CP_JOIN, control_plane=None))
    assert out.kind == "fail" and "control_plane" in out.result["msg"]


def test_failed_join_is_reset(node):
    node.fail_join = True
    out = call(CP_JOIN)
    assert out.kind == "fail" and out.result["reset"] and out.result["changed"]
    assert out.result["msg"].startswith("kubeadm join failed on cp2 and was undone with kubeadm reset; "
                                        "re-run the playbook: error execution phase kubelet-start")
    assert [c[1] for c in node.calls] == ["join", "reset"]
    assert out.result["node_state"] == "absent"


def test_half_joined_is_refused_with_the_files(node):
    node.touch("etc/kubernetes/kubelet.conf")
    out = call(CP_JOIN)
    assert out.kind == "fail" and out.result["node_state"] == "partial"
    assert out.result["found"] == ["/etc/kubernetes/kubelet.conf"]
    assert "kubeadm reset --force" in out.result["msg"] and node.calls == []


def test_init(node):
    node.touch("etc/kubernetes/kubeadm-config.yaml")
    out = call({"state": "initialized", "node_role": "control_plane", "node_name": "cp1",
                "config": "/etc/kubernetes/kubeadm-config.yaml", "verbosity": 2})
    assert out.kind == "exit" and out.result["action"] == "init" and out.result["node_state"] == "member"
    assert node.calls[0][-2:] == ["--skip-token-print", "--v=2"]


def test_init_requires_config(node):
    out = call({"state": "initialized", "node_role": "control_plane"})
    assert out.kind == "fail" and "config" in out.result["msg"]


def test_worker_taints(node):
    out = call({"state": "joined", "node_name": "mw1", "api_server_endpoint": "10.0.0.10:6443",
                "token": TOKEN, "discovery_token_ca_cert_hash": HASH,
                "taints": [{"key": "node-role.kubernetes.io/meta-worker"}]})
    assert out.kind == "exit"
    assert node.join_configs[0]["nodeRegistration"]["taints"] == [
        {"key": "node-role.kubernetes.io/meta-worker", "effect": "NoSchedule"}]
    assert "controlPlane" not in node.join_configs[0]
