"""openstack_info and openstack_tags: argument handling and results, over a stubbed Cloud."""
from __future__ import annotations

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.quorum.k8s.plugins.module_utils._openstack.errors import (
    OpenStackAPIError, OpenStackAuthError)
from ansible_collections.quorum.k8s.plugins.modules import openstack_info, openstack_tags


class Exit(Exception):
    def __init__(self, kind, result):
        super().__init__(kind)
        self.kind = kind
        self.result = result


class StubCloud:
    fail_auth = None
    fail_wait = None
    tags = {}
    waited = []

    def __init__(self, conn, cloud):
        self.cloud = cloud

    def authenticate(self):
        if self.fail_auth:
            raise OpenStackAuthError(self.cloud, self.fail_auth)
        return {"ok": True, "cloud_label": "cloud 'c'", "project_id": "p1", "project_name": "quorum"}

    def flavors(self, names):
        return dict((n, {"id": n}) for n in names)

    def images(self, names):
        return {}

    def networks(self, names):
        return {}

    def keypair(self, name):
        return None

    def address_holders(self, network, address):
        return []

    def limits(self):
        return {"compute": {}, "network": {}, "unreadable": []}

    def services(self):
        return {"types": ["compute"], "block_storage": False}

    def cluster(self, name):
        return {"servers": [{"id": "s1", "name": name + "-cp-1"}]}

    def wait_servers(self, cluster, names, timeout):
        StubCloud.waited.append(list(names))
        if self.fail_wait:
            raise OpenStackAPIError(self.fail_wait)

    def tag(self, kind, rid, tags, check_mode=False):
        before = StubCloud.tags.get(rid, [])
        after = sorted(set(before) | set(tags))
        if not check_mode:
            StubCloud.tags[rid] = after
        return after != before, before, after


@pytest.fixture
def stub(monkeypatch):
    def exit_json(self, **kwargs):  # pylint: disable=unused-argument
        raise Exit("exit", kwargs)

    def fail_json(self, **kwargs):  # pylint: disable=unused-argument
        raise Exit("fail", kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    for module in (openstack_info, openstack_tags):
        monkeypatch.setattr(module, "connect", lambda params: object())
        monkeypatch.setattr(module, "Cloud", StubCloud)
    StubCloud.fail_auth = None
    StubCloud.fail_wait = None
    StubCloud.tags = {}
    StubCloud.waited = []
    return StubCloud


def call(module, args):
    with patch_module_args(args):
        with pytest.raises(Exit) as info:
            module.main()
    return info.value


def test_info_reports_a_failed_authentication_as_data(stub):
    stub.fail_auth = "authentication failed: 401"
    out = call(openstack_info, {"cloud": "c", "flavors": ["x"]})
    assert out.kind == "exit" and out.result["changed"] is False
    assert out.result["auth"] == {"ok": False, "error": "cloud 'c': authentication failed: 401", "cloud_label": "cloud"}
    assert "flavors" not in out.result


def test_info_fails_a_wait_it_cannot_do(stub):
    stub.fail_auth = "authentication failed: 401"
    out = call(openstack_info, {"cloud": "c", "cluster": "k", "wait_servers": ["k-cp-1"]})
    assert out.kind == "fail" and "401" in out.result["msg"]


def test_info_reads_what_was_asked(stub):
    out = call(openstack_info, {"cloud": "c", "flavors": ["lab.small"], "cluster": "k"})
    assert out.kind == "exit"
    assert out.result["flavors"] == {"lab.small": {"id": "lab.small"}}
    assert out.result["services"]["types"] == ["compute"] and "limits" in out.result
    assert out.result["cluster"]["servers"][0]["name"] == "k-cp-1"
    out = call(openstack_info, {"cloud": "c", "project": False})
    assert "limits" not in out.result and "cluster" not in out.result


def test_info_waits_only_outside_check_mode_and_names_the_fault(stub):
    call(openstack_info, {"cloud": "c", "cluster": "k", "wait_servers": ["k-cp-1"], "_ansible_check_mode": True})
    assert stub.waited == []
    stub.fail_wait = "server k-cp-1: ERROR (No valid host was found.)"
    out = call(openstack_info, {"cloud": "c", "cluster": "k", "wait_servers": ["k-cp-1"]})
    assert out.kind == "fail" and "No valid host" in out.result["msg"] and "quorum" in out.result["msg"]


def test_info_vip_options_go_together(stub):
    out = call(openstack_info, {"cloud": "c", "vip_address": "10.0.0.1"})
    assert out.kind == "fail" and "required together" in out.result["msg"]


def test_tags_check_mode_diff_then_apply_then_idempotent(stub):
    args = {"cloud": "c", "resources": [{"type": "port", "id": "p1", "name": "k-vip"}], "tags": ["quorum-cluster=k"]}
    out = call(openstack_tags, dict(args, _ansible_check_mode=True, _ansible_diff=True))
    assert out.result["changed"] and stub.tags == {}
    assert out.result["diff"] == {"before": "port k-vip: \n", "after": "port k-vip: quorum-cluster=k\n"}
    out = call(openstack_tags, args)
    assert out.result["changed"] and stub.tags == {"p1": ["quorum-cluster=k"]}
    out = call(openstack_tags, args)
    assert out.result == {"changed": False, "tagged": []}


def test_tags_refuses_what_neutron_would(stub):
    out = call(openstack_tags, {"resources": [{"type": "port", "id": "p1"}], "tags": ["a,b"]})
    assert out.kind == "fail" and "without ',' or '/'" in out.result["msg"]
    out = call(openstack_tags, {"resources": [{"type": "server", "id": "p1"}], "tags": ["a"]})
    assert out.kind == "fail" and "type" in out.result["msg"]
