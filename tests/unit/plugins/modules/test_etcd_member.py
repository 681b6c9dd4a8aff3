"""etcd_member and etcd_info module wiring: option rules, results, diff, error messages."""
from __future__ import annotations

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.quorum.k8s.plugins.module_utils._etcd.errors import EtcdConnectionError, EtcdTLSError
from ansible_collections.quorum.k8s.plugins.modules import etcd_info, etcd_member

CONN = {"endpoints": ["https://10.0.0.1:2379"], "ca_cert": "/ca", "client_cert": "/c", "client_key": "/k"}


class Exit(Exception):
    def __init__(self, kind, result):
        super().__init__(kind)
        self.kind = kind
        self.result = result


def _exit(self, **kw):  # pylint: disable=unused-argument
    raise Exit("exit", kw)


def _fail(self, msg, **kw):  # pylint: disable=unused-argument
    kw["msg"] = msg
    raise Exit("fail", kw)


@pytest.fixture(autouse=True)
def no_exit(monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail)


class Client:
    def __init__(self, error=None):
        self.error = error
        self.members = [{"id": "a1", "id_int": 0xa1, "name": "e1", "peer_urls": ["https://10.0.0.1:2380"],
                         "client_urls": ["https://10.0.0.1:2379"], "is_learner": False}]
        self.removed = []

    def member_list(self):
        if self.error:
            raise self.error
        return "c1", [dict(m) for m in self.members]

    def member_health(self, member, timeout=None):  # pylint: disable=unused-argument
        return {"healthy": True, "reason": "", "status": None}

    def member_add(self, peer_urls, is_learner=True):
        m = {"id": "b2", "id_int": 0xb2, "name": "", "peer_urls": list(peer_urls), "client_urls": [],
             "is_learner": is_learner}
        self.members.append(m)
        return dict(m)

    def alarms(self):
        return []


def run(module, args, client, monkeypatch, check=False, diff=False):
    monkeypatch.setattr(module, "client_from_params", lambda params: client)
    extra = {"_ansible_check_mode": check, "_ansible_diff": diff}
    with patch_module_args(dict(args, **extra)):
        with pytest.raises(Exit) as exc:
            module.main()
    return exc.value


def test_add_learner_with_diff(monkeypatch):
    client = Client()
    out = run(etcd_member, dict(CONN, name="e2", peer_urls=["https://10.0.0.2:2380"], promote=False), client,
              monkeypatch, diff=True)
    assert out.kind == "exit" and out.result["changed"] is True
    assert out.result["member"]["is_learner"] is True and "id_int" not in out.result["member"]
    assert "https://10.0.0.2:2380" in out.result["diff"]["after"]
    assert "https://10.0.0.2:2380" not in out.result["diff"]["before"]


def test_replace_needs_the_old_member(monkeypatch):
    out = run(etcd_member, dict(CONN, state="replace", peer_urls=["https://10.0.0.2:2380"]), Client(), monkeypatch)
    assert out.kind == "fail" and "replace" in out.result["msg"]


def test_absent_needs_a_selector(monkeypatch):
    out = run(etcd_member, dict(CONN, state="absent"), Client(), monkeypatch)
    assert out.kind == "fail" and "member_id" in out.result["msg"]


def test_tls_error_message_names_endpoint_and_options(monkeypatch):
    err = EtcdTLSError("TLS handshake failed with every etcd endpoint (https://10.0.0.1:2379: bad certificate)",
                       {"https://10.0.0.1:2379": "bad certificate"})
    out = run(etcd_member, dict(CONN, state="absent", name="e1"), Client(err), monkeypatch)
    assert out.kind == "fail"
    assert "https://10.0.0.1:2379" in out.result["msg"] and "ca_cert" in out.result["msg"]
    assert out.result["failures"] == {"https://10.0.0.1:2379": "bad certificate"}


def test_info_unreachable_reported_or_failed(monkeypatch):
    err = EtcdConnectionError("no etcd endpoint answered", {"https://10.0.0.1:2379": "refused"})
    out = run(etcd_info, dict(CONN, fail_on_unreachable=False), Client(err), monkeypatch)
    assert out.kind == "exit" and out.result["reachable"] is False
    out = run(etcd_info, CONN, Client(err), monkeypatch)
    assert out.kind == "fail" and "https://10.0.0.1:2379" in str(out.result["failures"])


def test_info_summary(monkeypatch):
    out = run(etcd_info, CONN, Client(), monkeypatch)
    assert out.kind == "exit" and out.result["voters"] == 1 and out.result["has_quorum"] is True
    assert out.result["changed"] is False
