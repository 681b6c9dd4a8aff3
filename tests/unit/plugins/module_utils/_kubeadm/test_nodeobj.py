"""Labels and taints of a Node: what to change (nodeobj.plan), waiting for it, applying through kubectl."""
from __future__ import annotations

import json

import pytest

from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm import nodeobj
from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.client import KubeadmClient
from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.errors import CommandError, KubeadmError

META = "node-role.kubernetes.io/meta-worker"
WORKER = "node-role.kubernetes.io/worker"


def node(labels=None, taints=None):
    return {"metadata": {"name": "mw1", "labels": labels or {}}, "spec": {"taints": taints} if taints else {}}


def meta_wanted(meta):
    labels = {META: "", WORKER: None} if meta else {WORKER: "", META: None}
    # as roles/worker asks: the meta taint present with its effect, or gone with every effect
    taints = [{"key": META, "effect": "NoSchedule"} if meta else {"key": META, "state": "absent"}]
    return labels, taints


def test_fresh_meta_worker_gets_label_and_taint():
    change = nodeobj.plan(node({"kubernetes.io/hostname": "mw1"}), *meta_wanted(True))
    assert change["label_args"] == [META + "="]
    assert change["taint_args"] == [META + ":NoSchedule"]
    assert change["after"]["labels"] == {"kubernetes.io/hostname": "mw1", META: ""}


def test_meta_worker_as_joined_needs_only_the_label():
    # kubeadm join set the taint already (nodeRegistration.taints)
    change = nodeobj.plan(node(taints=[{"key": META, "effect": "NoSchedule"}]), *meta_wanted(True))
    assert change["label_args"] == [META + "="] and change["taint_args"] == []


def test_done_node_needs_nothing():
    change = nodeobj.plan(node({META: ""}, [{"key": META, "effect": "NoSchedule"}]), *meta_wanted(True))
    assert change["label_args"] == [] and change["taint_args"] == []


def test_meta_worker_turned_worker():
    change = nodeobj.plan(node({META: ""}, [{"key": META, "effect": "NoSchedule"},
                                            {"key": META, "effect": "NoExecute"}]), *meta_wanted(False))
    assert change["label_args"] == [META + "-", WORKER + "="]
    assert change["taint_args"] == [META + "-"]                 # every effect of the key
    assert change["after"]["taints"] == []


def test_taint_value_and_effect():
    change = nodeobj.plan(node(taints=[{"key": "k", "value": "a", "effect": "NoSchedule"}]),
                          taints=[{"key": "k", "value": "b", "effect": "NoSchedule"},
                                  {"key": "x", "effect": "NoExecute", "state": "absent"}])
    assert change["taint_args"] == ["k=b:NoSchedule"]
    assert change["after"]["taints"] == [{"key": "k", "effect": "NoSchedule", "value": "b"}]


def test_bad_taints():
    with pytest.raises(KubeadmError, match="key"):
        nodeobj.plan(node(), taints=[{"effect": "NoSchedule"}])
    with pytest.raises(KubeadmError, match="effect"):
        nodeobj.plan(node(), taints=[{"key": "k", "effect": "Sometimes"}])


class FakeApi:
    def __init__(self, obj=None, appears_after=0, fails=0):
        self.obj = obj
        self.appears_after = appears_after
        self.fails = fails
        self.calls = []

    def run(self, argv):
        self.calls.append(list(argv))
        verb = argv[3]
        if verb == "get":
            if self.fails > 0:
                self.fails -= 1
                return 1, "", "Unable to connect to the server: EOF"
            if self.appears_after > 0:
                self.appears_after -= 1
                return 0, "", ""
            return 0, json.dumps(self.obj) if self.obj else "", ""
        if verb in ("label", "taint"):
            return 0, "node/mw1 %sed\n" % verb, ""
        raise AssertionError(argv)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_waits_for_the_node_then_applies():
    api = FakeApi(node(), appears_after=2)
    clock = Clock()
    result = nodeobj.ensure(KubeadmClient(api.run), "mw1", *meta_wanted(True), sleep=clock.sleep, clock=clock)
    assert result["changed"] and clock.now == 20
    assert api.calls[-2][3:] == ["label", "node", "mw1", "--overwrite", META + "="]
    assert api.calls[-1][3:] == ["taint", "node", "mw1", META + ":NoSchedule", "--overwrite"]
    assert result["diff"]["before"]["labels"] == {} and result["labels"] == {META: ""}


def test_gives_up_after_the_timeout():
    clock = Clock()
    with pytest.raises(KubeadmError, match="did not register within 30 s"):
        nodeobj.ensure(KubeadmClient(FakeApi(None).run), "mw1", *meta_wanted(True), wait_timeout=30,
                       sleep=clock.sleep, clock=clock)


def test_check_mode_does_not_wait_nor_write():
    api = FakeApi(None)
    result = nodeobj.ensure(KubeadmClient(api.run), "mw1", *meta_wanted(True), check_mode=True)
    assert result["changed"] and not result["registered"]
    assert [c[3] for c in api.calls] == ["get"]


def test_unchanged_node_is_only_read():
    api = FakeApi(node({META: ""}, [{"key": META, "effect": "NoSchedule"}]))
    result = nodeobj.ensure(KubeadmClient(api.run), "mw1", *meta_wanted(True))
    assert not result["changed"] and [c[3] for c in api.calls] == ["get"]


def test_a_failed_read_is_retried():
    clock = Clock()
    api = FakeApi(node({META: ""}, [{"key": META, "effect": "NoSchedule"}]), fails=1)
    result = nodeobj.ensure(KubeadmClient(api.run), "mw1", *meta_wanted(True), sleep=clock.sleep, clock=clock)
    assert not result["changed"] and clock.now == 10


def test_a_read_failing_until_the_timeout_is_raised():
    clock = Clock()
    with pytest.raises(CommandError, match="EOF"):
        nodeobj.ensure(KubeadmClient(FakeApi(node(), fails=99).run), "mw1", *meta_wanted(True), wait_timeout=20,
                       sleep=clock.sleep, clock=clock)
