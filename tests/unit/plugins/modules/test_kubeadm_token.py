"""The kubeadm_token module end to end, with kubectl/kubeadm answered by a fake cluster."""
from __future__ import annotations

import datetime
import json
import os
import sys

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from cryptography.hazmat.primitives import serialization

from ansible_collections.quorum.k8s.plugins.modules import kubeadm_token

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "module_utils", "_kubeadm"))
from kubeadm_testlib import encrypted_secret, make_ca, token_secret  # noqa: E402  pylint: disable=wrong-import-position

TOKEN = "qrmtok.0123456789abcdef"


def at(minutes):
    stamp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


class Exit(Exception):
    def __init__(self, kind, result):
        super().__init__(kind)
        self.kind = kind
        self.result = result


class Cluster:
    def __init__(self, secrets=(), certs=None):
        self.secrets = list(secrets)
        self.certs = certs
        self.calls = []

    def run_command(self, argv, **kwargs):  # pylint: disable=unused-argument
        self.calls.append(list(argv))
        name = os.path.basename(argv[0])
        if name == "kubectl":
            if "--field-selector" in argv:
                return 0, json.dumps({"items": self.secrets}), ""
            return 0, json.dumps(self.certs) if self.certs else "", ""
        if argv[1:3] == ["token", "create"]:
            self.secrets.append(token_secret(TOKEN[:6], TOKEN[7:], at(120)))
            return 0, TOKEN + "\n", ""
        if argv[1:3] == ["token", "delete"]:
            self.secrets = [s for s in self.secrets if not s["metadata"]["name"].endswith(argv[-1])]
            return 0, "", ""
        if "upload-certs" in argv:
            key = argv[argv.index("--certificate-key") + 1]
            self.secrets.append(token_secret("proxy1", "p" * 16, at(120), usages=(), groups=""))
            self.certs = encrypted_secret(key)
            self.certs["metadata"] = {"name": "kubeadm-certs",
                                      "ownerReferences": [{"kind": "Secret", "name": "bootstrap-token-proxy1"}]}
            return 0, "", ""
        return 1, "", "unexpected %r" % argv


@pytest.fixture
def node(tmp_path, monkeypatch):
    ca = tmp_path / "ca.crt"
    ca.write_bytes(make_ca("ec").public_bytes(serialization.Encoding.PEM))
    kubeconfig = tmp_path / "admin.conf"
    kubeconfig.write_text("apiVersion: v1\n")
    cluster = Cluster()

    def exit_json(self, **kwargs):  # pylint: disable=unused-argument
        raise Exit("exit", kwargs)

    def fail_json(self, **kwargs):  # pylint: disable=unused-argument
        raise Exit("fail", kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    monkeypatch.setattr(basic.AnsibleModule, "run_command",
                        lambda self, argv, **kw: cluster.run_command(argv, **kw))
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, **kw: "/usr/local/bin/" + name)
    cluster.args = {"ca_cert": str(ca), "kubeconfig": str(kubeconfig)}
    return cluster


def call(args, check_mode=False, diff=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    if diff:
        args = dict(args, _ansible_diff=True)
    with patch_module_args(args):
        with pytest.raises(Exit) as info:
            kubeadm_token.main()
    return info.value


def test_create_then_reuse(node):
    first = call(node.args)
    assert first.kind == "exit" and first.result["changed"] and first.result["token"] == TOKEN
    assert first.result["discovery_token_ca_cert_hash"].startswith("sha256:")
    second = call(node.args)
    assert not second.result["changed"] and second.result["token"] == TOKEN


def test_check_mode_and_diff(node):
    node.secrets.append(token_secret("oldold", "o" * 16, at(-10)))
    out = call(node.args, check_mode=True, diff=True)
    assert out.result["changed"] and out.result["deleted_tokens"] == ["oldold"]
    assert out.result["diff"]["before"]["token_ids"] == ["oldold"]
    assert not any("create" in c or "delete" in c for c in node.calls)


def test_given_key_is_not_echoed(node):
    key = "ab" * 32
    out = call(dict(node.args, upload_certs=True, certificate_key=key))
    assert out.result["certificate_key_uploaded"] and out.result["certificate_key"] is None
    again = call(dict(node.args, upload_certs=True, certificate_key=key))
    assert not again.result["changed"]


def test_generated_key_is_returned(node):
    out = call(dict(node.args, upload_certs=True))
    assert len(out.result["certificate_key"]) == 64


def test_bad_key_rejected(node):
    out = call(dict(node.args, upload_certs=True, certificate_key="nothex"))
    assert out.kind == "fail" and "64" in out.result["msg"]


def test_missing_ca_names_the_path(node, tmp_path):
    out = call(dict(node.args, ca_cert=str(tmp_path / "nope.crt")))
    assert out.kind == "fail" and "nope.crt" in out.result["msg"]


def test_ttl_must_exceed_min(node):
    out = call(dict(node.args, ttl_minutes=10, min_remaining_minutes=30))
    assert out.kind == "fail" and "ttl_minutes" in out.result["msg"]
