from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm import manager, tokens as t
from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.client import KubeadmClient
from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.errors import CommandError, KubeadmError

from kubeadm_testlib import NOW, token_secret
from kubeadm_testlib import encrypted_secret


def at(minutes):
    return t.format_time(NOW + datetime.timedelta(minutes=minutes))


class FakeCluster:
    """Answers the kubectl/kubeadm command lines KubeadmClient builds, keeping state."""

    def __init__(self, secrets=(), certs=None):
        self.secrets = list(secrets)
        self.certs = certs
        self.calls = []
        self.fail = None

    def run(self, argv):
        self.calls.append(list(argv))
        if self.fail and self.fail in argv:
            return 1, "", "boom"
        if argv[0] == "kubectl":
            if "--field-selector" in argv:
                return 0, json.dumps({"kind": "List", "items": self.secrets}), ""
            if "kubeadm-certs" in argv:
                return 0, json.dumps(self.certs) if self.certs else "", ""
        if argv[:3] == ["kubeadm", "token", "create"]:
            token = "newtok.0123456789abcdef"
            ttl = int(argv[argv.index("--ttl") + 1].rstrip("s"))
            self.secrets.append(token_secret("newtok", "0123456789abcdef", at(ttl // 60)))
            return 0, token + "\n", ""
        if argv[:3] == ["kubeadm", "token", "delete"]:
            self.secrets = [s for s in self.secrets if s["metadata"]["name"] != "bootstrap-token-" + argv[-1]]
            return 0, "deleted\n", ""
        if argv[:4] == ["kubeadm", "init", "phase", "upload-certs"]:
            key = argv[argv.index("--certificate-key") + 1]
            self.secrets.append(token_secret("proxy1", "p" * 16, at(120), usages=(), groups=""))
            self.certs = encrypted_secret(key)
            self.certs["metadata"] = {"name": "kubeadm-certs", "ownerReferences": [
                {"kind": "Secret", "name": "bootstrap-token-proxy1"}]}
            return 0, "uploaded\n", ""
        raise AssertionError("unexpected command %r" % argv)

    def commands(self, word):
        return [c for c in self.calls if word in c]


def run(cluster, ca_pem, check_mode=False, **kwargs):
    client = KubeadmClient(cluster.run)
    return manager.ensure(client, manager.TokenRequest(**kwargs), ca_pem, now=NOW, check_mode=check_mode)


def test_creates_when_nothing_usable(ca_pem):
    cluster = FakeCluster([token_secret("oldtok", "a" * 16, at(10))])
    result = run(cluster, ca_pem)
    assert result["changed"] and result["token_created"]
    assert result["token"] == "newtok.0123456789abcdef"
    assert result["token_expires"] == at(120)
    assert result["discovery_token_ca_cert_hash"].startswith("sha256:")
    assert result["diff"]["after"]["token_ids"] == ["newtok", "oldtok"]
    # the token is never on a command line
    assert not any("0123456789abcdef" in " ".join(c) for c in cluster.calls)


def test_second_run_reuses(ca_pem):
    cluster = FakeCluster()
    first = run(cluster, ca_pem)
    second = run(cluster, ca_pem)
    assert first["changed"] and not second["changed"]
    assert second["token"] == first["token"]
    assert len(cluster.commands("create")) == 1


def test_deletes_expired(ca_pem):
    cluster = FakeCluster([token_secret("expire", "a" * 16, at(-3)), token_secret("goodtk", "b" * 16, at(100))])
    result = run(cluster, ca_pem)
    assert result["deleted_tokens"] == ["expire"]
    assert result["token_id"] == "goodtk" and not result["token_created"]
    assert result["changed"]
    assert [s["metadata"]["name"] for s in cluster.secrets] == ["bootstrap-token-goodtk"]


def test_keep_expired_when_asked(ca_pem):
    cluster = FakeCluster([token_secret("expire", "a" * 16, at(-3)), token_secret("goodtk", "b" * 16, at(100))])
    result = run(cluster, ca_pem, delete_expired=False)
    assert result["deleted_tokens"] == [] and not result["changed"]


def test_check_mode_changes_nothing(ca_pem):
    cluster = FakeCluster([token_secret("expire", "a" * 16, at(-3))])
    result = run(cluster, ca_pem, check_mode=True, upload_certs=True, certificate_key="ab" * 32)
    assert result["changed"] and result["token_created"] and result["token"] is None
    assert result["deleted_tokens"] == ["expire"]
    assert result["certificate_key_uploaded"] and result["certs_upload_reason"] == "missing"
    assert not cluster.commands("create") and not cluster.commands("delete") and not cluster.commands("upload-certs")


def test_upload_when_missing_then_idempotent(ca_pem):
    key = "cd" * 32
    cluster = FakeCluster([token_secret("goodtk", "b" * 16, at(100))])
    first = run(cluster, ca_pem, upload_certs=True, certificate_key=key)
    assert first["certificate_key_uploaded"] and first["certificate_key"] == key
    assert first["certs_upload_reason"] == "missing"
    second = run(cluster, ca_pem, upload_certs=True, certificate_key=key)
    assert not second["changed"] and second["certificate_key"] == key


def test_upload_when_key_does_not_match(ca_pem):
    cluster = FakeCluster([token_secret("goodtk", "b" * 16, at(100))])
    run(cluster, ca_pem, upload_certs=True, certificate_key="11" * 32)
    result = run(cluster, ca_pem, upload_certs=True, certificate_key="22" * 32)
    assert result["certs_upload_reason"] == "key mismatch"


def test_upload_when_expiring(ca_pem):
    cluster = FakeCluster([token_secret("goodtk", "b" * 16, at(100)),
                           token_secret("proxy0", "p" * 16, at(10), usages=(), groups="")])
    cluster.certs = encrypted_secret("33" * 32)
    cluster.certs["metadata"] = {"name": "kubeadm-certs",
                                 "ownerReferences": [{"kind": "Secret", "name": "bootstrap-token-proxy0"}]}
    result = run(cluster, ca_pem, upload_certs=True, certificate_key="33" * 32)
    assert result["certs_upload_reason"] == "expiring"


def test_fresh_key_without_one_given(ca_pem):
    cluster = FakeCluster([token_secret("goodtk", "b" * 16, at(100))])
    result = run(cluster, ca_pem, upload_certs=True)
    assert t.valid_certificate_key(result["certificate_key"])
    assert result["certs_upload_reason"] == "missing"
    again = run(cluster, ca_pem, upload_certs=True)
    assert again["certs_upload_reason"] == "key unknown"
    assert again["certificate_key"] != result["certificate_key"]


def test_request_validation():
    with pytest.raises(KubeadmError):
        manager.TokenRequest(min_remaining_minutes=60, ttl_minutes=60)
    with pytest.raises(KubeadmError):
        manager.TokenRequest(upload_certs=True, certs_min_remaining_minutes=120)
    with pytest.raises(KubeadmError):
        manager.TokenRequest(min_remaining_minutes=-1)


def test_command_failure_is_typed_and_hides_arguments(ca_pem):
    cluster = FakeCluster()
    cluster.fail = "upload-certs"
    with pytest.raises(CommandError) as info:
        run(cluster, ca_pem, upload_certs=True, certificate_key="44" * 32)
    assert "44" * 32 not in str(info.value)
    assert "upload-certs" in str(info.value)


CONFIG = """apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
certificateKey: "old"
localAPIEndpoint:
  advertiseAddress: 10.0.0.1
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: lab
"""


def test_config_with_certificate_key_replaces_the_old_one():
    from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.client import config_with_certificate_key
    out = config_with_certificate_key(CONFIG, "55" * 32)
    assert out.count("certificateKey") == 1
    first, second = out.split("---")
    assert 'certificateKey: "%s"' % ("55" * 32) in first
    assert "clusterName: lab" in second


def test_config_with_certificate_key_adds_init_configuration():
    from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.client import config_with_certificate_key
    cluster_only = CONFIG.split("---\n")[1]
    out = config_with_certificate_key(cluster_only, "66" * 32)
    assert "kind: InitConfiguration" in out and out.count("---") == 1


def test_upload_with_config_uses_a_private_copy(ca_pem, tmp_path):
    config = tmp_path / "kubeadm.yaml"
    config.write_text(CONFIG)
    written = {}

    def write_temp(text):
        path = tmp_path / "tmp.yaml"
        path.write_text(text)
        written["text"] = text
        return str(path), path.unlink

    cluster = FakeCluster([token_secret("goodtk", "b" * 16, at(100))])
    original = cluster.run

    def run(argv):
        if "upload-certs" in argv and "--config" in argv:
            assert "--certificate-key" not in argv
            cluster.calls.append(list(argv))
            return 0, "", ""
        return original(argv)

    cluster.run = run
    client = KubeadmClient(cluster.run)
    request = manager.TokenRequest(upload_certs=True, certificate_key="77" * 32, config=str(config))
    result = manager.ensure(client, request, ca_pem, now=NOW, write_temp=write_temp)
    assert result["certificate_key_uploaded"]
    assert "77" * 32 in written["text"]
    assert not (tmp_path / "tmp.yaml").exists()
