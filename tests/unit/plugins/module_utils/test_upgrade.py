"""Version-skew rules of an upgrade (module_utils/_upgrade.py, filter upgrade_plan)."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.quorum.k8s.plugins.filter.upgrade import upgrade_plan as plan_filter
from ansible_collections.quorum.k8s.plugins.module_utils._upgrade import parse, upgrade_plan


def cluster(apis, kubelets):
    nodes = {"items": [{"metadata": {"name": n}, "status": {"nodeInfo": {"kubeletVersion": v}}}
                       for n, v in kubelets.items()]}
    pods = {"items": [{"metadata": {"name": "kube-apiserver-" + n},
                       "spec": {"nodeName": n, "containers": [{"name": "kube-apiserver",
                                                               "image": "registry.k8s.io/kube-apiserver:" + v}]}}
                      for n, v in apis.items()]}
    return nodes, pods


OLD = "v1.34.12"
NEW = "v1.35.8"


def test_parse():
    assert parse("1.35.8") == (1, 35, 8)
    assert parse("v1.34.12") == (1, 34, 12)
    assert parse("1.35") is None
    assert parse("v1.35.0-rc.1") is None


def test_one_minor_up_goes_and_lists_every_node():
    nodes, pods = cluster({"cp-1": OLD, "cp-2": OLD}, {"cp-1": OLD, "cp-2": OLD, "w-1": OLD})
    plan = upgrade_plan("1.35.8", nodes, pods)
    assert plan["refusals"] == []
    assert plan["pending"] == ["cp-1", "cp-2", "w-1"]
    assert plan["target"] == "1.35.8"


def test_half_done_upgrade_to_the_same_target_goes_on():
    nodes, pods = cluster({"cp-1": NEW, "cp-2": OLD}, {"cp-1": NEW, "cp-2": OLD, "w-1": OLD})
    plan = upgrade_plan("v1.35.8", nodes, pods)
    assert plan["refusals"] == []
    assert plan["pending"] == ["cp-2", "w-1"]


def test_nothing_to_do():
    nodes, pods = cluster({"cp-1": NEW}, {"cp-1": NEW, "w-1": NEW})
    plan = upgrade_plan("1.35.8", nodes, pods)
    assert plan["refusals"] == [] and plan["pending"] == []


def test_downgrade_names_the_node():
    nodes, pods = cluster({"cp-1": NEW}, {"cp-1": NEW, "w-1": NEW})
    refusals = upgrade_plan("1.34.12", nodes, pods)["refusals"]
    assert any("API server on cp-1 runs 1.35.8, newer than the target 1.34.12" in r for r in refusals)
    assert any("kubelet on w-1" in r and "downgrade" in r for r in refusals)


def test_skipped_minor_is_refused():
    nodes, pods = cluster({"cp-1": "v1.33.5"}, {"cp-1": "v1.33.5"})
    refusals = upgrade_plan("1.35.8", nodes, pods)["refusals"]
    assert len(refusals) == 1
    assert "upgrade to 1.34 first" in refusals[0] and "skips 1.34" in refusals[0]


def test_kubelet_newer_than_every_api_server_is_refused():
    nodes, pods = cluster({"cp-1": OLD}, {"cp-1": OLD, "w-1": "v1.34.13"})
    refusals = upgrade_plan("1.35.8", nodes, pods)["refusals"]
    assert refusals == ["kubelet on w-1 runs 1.34.13, newer than every API server (newest 1.34.12)"]


def test_kubelet_too_far_behind():
    nodes, pods = cluster({"cp-1": OLD}, {"cp-1": OLD, "w-1": "v1.31.2"})
    refusals = upgrade_plan("1.35.8", nodes, pods)["refusals"]
    assert refusals == ["kubelet on w-1 runs 1.31.2: more than 3 minors behind the target 1.35.8; upgrade it first"]


@pytest.mark.parametrize("target", ["1.35", "latest", "", None, "v2"])
def test_bad_target(target):
    nodes, pods = cluster({"cp-1": OLD}, {"cp-1": OLD})
    plan = upgrade_plan(target, nodes, pods)
    assert len(plan["refusals"]) == 1 and "quorum_kubernetes_version" in plan["refusals"][0]


def test_major_change_and_odd_versions():
    nodes, pods = cluster({"cp-1": OLD}, {"cp-1": OLD, "w-1": "v1.34.12-dirty"})
    refusals = upgrade_plan("2.0.0", nodes, pods)["refusals"]
    assert any("major version change" in r for r in refusals)
    assert any("kubelet on w-1 reports 'v1.34.12-dirty'" in r for r in refusals)


def test_no_api_server_pods():
    nodes, unused_pods = cluster({}, {"w-1": OLD})
    refusals = upgrade_plan("1.35.8", nodes, {"items": []})["refusals"]
    assert refusals == ["no API server pod found in kube-system: is this a kubeadm cluster that answers?"]


def test_filter_refuses_non_json():
    with pytest.raises(AnsibleFilterError, match="nodes must be the JSON"):
        plan_filter("1.35.8", "text", {})
