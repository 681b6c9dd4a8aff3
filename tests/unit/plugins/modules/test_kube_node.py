"""The kube_node module: labels and taints of a Node through kubectl, answered by a fake API."""
from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.quorum.k8s.plugins.modules import kube_node

META = "node-role.kubernetes.io/meta-worker"
WORKER = "node-role.kubernetes.io/worker"


class Exit(Exception):
    def __init__(self, kind, result):
        super().__init__(kind)
        self.kind = kind
        self.result = result


@pytest.fixture
def api(monkeypatch):
    calls = []
    state = {"node": {"metadata": {"labels": {WORKER: ""}},
                      "spec": {"taints": [{"key": META, "effect": "NoSchedule"}]}}}

    def run_command(self, argv, **kw):  # pylint: disable=unused-argument
        calls.append(list(argv))
        if "get" in argv:
            return 0, json.dumps(state["node"]), ""
        return 0, "", ""

    def exit_json(self, **kwargs):  # pylint: disable=unused-argument
        raise Exit("exit", kwargs)

    def fail_json(self, **kwargs):  # pylint: disable=unused-argument
        raise Exit("fail", kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, **kw: "/usr/local/bin/" + name)
    return calls


def call(args):
    with patch_module_args(args):
        with pytest.raises(Exit) as info:
            kube_node.main()
    return info.value


def test_labels_a_meta_worker(api, tmp_path):
    kubeconfig = tmp_path / "admin.conf"
    kubeconfig.write_text("apiVersion: v1\n")
    out = call({"name": "mw1", "kubeconfig": str(kubeconfig), "_ansible_diff": True,
                "labels": {META: "", WORKER: None}, "taints": [{"key": META, "effect": "NoSchedule"}]})
    assert out.kind == "exit" and out.result["changed"]
    assert api[-1][3:] == ["label", "node", "mw1", "--overwrite", META + "=", WORKER + "-"]
    assert out.result["diff"]["after"]["labels"] == {META: ""}
    assert not any("taint" in c for c in api)      # the taint is there already


def test_needs_the_admin_kubeconfig(api, tmp_path):
    out = call({"name": "mw1", "kubeconfig": str(tmp_path / "nope.conf")})
    assert out.kind == "fail" and "nope.conf" in out.result["msg"] and api == []
