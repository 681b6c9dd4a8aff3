"""EtcdClient against a recorded gateway (a fake opener): requests, decoding and error mapping."""

from __future__ import annotations

import io
import json
import ssl

import pytest
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError

from ansible_collections.quorum.k8s.plugins.module_utils._etcd.client import EtcdClient, member_id_hex, parse_member_id
from ansible_collections.quorum.k8s.plugins.module_utils._etcd.errors import (
    EtcdAPIError,
    EtcdConnectionError,
    EtcdLearnerNotReadyError,
    EtcdTLSError,
)

LIST = {
    "header": {"cluster_id": "6328709751833505057", "member_id": "11719934994822390420"},
    "members": [
        {"ID": "9385011349664726491", "peerURLs": ["https://10.0.0.4:2380"], "isLearner": True},
        {"ID": "11719934994822390420", "name": "e1", "peerURLs": ["https://10.0.0.1:2380"],
         "clientURLs": ["https://10.0.0.1:2379"]},
    ],
}


class Opener:
    """Records calls; answers from a dict url -> response (dict, or an exception to raise)."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, url, data=None, **kwargs):
        self.calls.append((url, json.loads(data) if data else None, kwargs))
        answer = self.answers[url]
        if isinstance(answer, Exception):
            raise answer
        return io.BytesIO(json.dumps(answer).encode())


def http_error(url, code, message):
    body = io.BytesIO(json.dumps({"error": message, "message": message, "code": 9}).encode())
    return HTTPError(url, code, "error", {}, body)


def test_member_list_decodes_proto3_json_and_sends_tls_options():
    opener = Opener({"https://e1:2379/v3/cluster/member/list": LIST})
    client = EtcdClient(["https://e1:2379/"], ca_cert="/ca", client_cert="/c", client_key="/k", opener=opener)
    cluster_id, members = client.member_list()
    assert cluster_id == member_id_hex(6328709751833505057)
    assert [m["name"] for m in members] == ["e1", ""]
    e1, learner = members
    assert e1["is_learner"] is False and e1["client_urls"] == ["https://10.0.0.1:2379"]
    assert learner["is_learner"] is True and learner["client_urls"] == []
    assert learner["id"] == "823e42193dc67ddb"
    kwargs = opener.calls[0][2]
    assert (kwargs["ca_path"], kwargs["client_cert"], kwargs["client_key"]) == ("/ca", "/c", "/k")
    assert kwargs["use_proxy"] is False and kwargs["method"] == "POST"


def test_ids_are_sent_as_decimal_strings():
    opener = Opener({"https://e1:2379/v3/cluster/member/remove": {}, "https://e1:2379/v3/cluster/member/promote": {}})
    client = EtcdClient(["https://e1:2379"], opener=opener)
    client.member_remove("823e42193dc67ddb")
    client.member_promote(9385011349664726491)
    assert opener.calls[0][1] == {"ID": "9385011349664726491"}
    assert opener.calls[1][1] == {"ID": "9385011349664726491"}
    assert parse_member_id("0x10") == 16


def test_failover_to_next_endpoint_and_learner_endpoints_skipped():
    opener = Opener({
        "https://dead:2379/v3/cluster/member/list": URLError(ConnectionRefusedError(111, "Connection refused")),
        "https://learner:2379/v3/cluster/member/list": http_error("x", 503, "etcdserver: rpc not supported for learner"),
        "https://e1:2379/v3/cluster/member/list": LIST,
    })
    client = EtcdClient(["https://dead:2379", "https://learner:2379", "https://e1:2379"], opener=opener)
    assert len(client.member_list()[1]) == 2


def test_all_endpoints_unreachable_names_each():
    opener = Opener({
        "https://a:2379/v3/cluster/member/list": URLError(ConnectionRefusedError(111, "Connection refused")),
        "https://b:2379/v3/cluster/member/list": URLError(TimeoutError("timed out")),
    })
    with pytest.raises(EtcdConnectionError) as err:
        EtcdClient(["https://a:2379", "https://b:2379"], opener=opener).member_list()
    assert "https://a:2379" in str(err.value) and "https://b:2379" in str(err.value)
    assert set(err.value.failures) == {"https://a:2379", "https://b:2379"}
    assert not isinstance(err.value, EtcdTLSError)


def test_tls_failure_is_typed():
    verify = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    opener = Opener({"https://a:2379/v3/cluster/member/list": URLError(verify)})
    with pytest.raises(EtcdTLSError, match="https://a:2379"):
        EtcdClient(["https://a:2379"], opener=opener).member_list()


def test_api_errors_are_typed_and_not_retried_elsewhere():
    opener = Opener({
        "https://a:2379/v3/cluster/member/promote": http_error(
            "x", 412, "etcdserver: can only promote a learner member which is in sync with leader"),
        "https://a:2379/v3/cluster/member/remove": http_error("x", 404, "etcdserver: member not found"),
    })
    client = EtcdClient(["https://a:2379", "https://b:2379"], opener=opener)
    with pytest.raises(EtcdLearnerNotReadyError):
        client.member_promote(1)
    with pytest.raises(EtcdAPIError, match="member not found") as err:
        client.member_remove(1)
    assert err.value.status == 404
    assert all(call[0].startswith("https://a:2379") for call in opener.calls)


def test_member_health_reads_status():
    member = {"id": "a1", "name": "e1", "client_urls": ["https://e1:2379"], "peer_urls": [], "is_learner": False}
    opener = Opener({"https://e1:2379/v3/maintenance/status": {
        "header": {"member_id": "161"}, "version": "3.4.23", "leader": "161", "raftIndex": "9", "dbSize": "20480"}})
    client = EtcdClient(["https://e1:2379"], opener=opener)
    probe = client.member_health(member)
    assert probe["healthy"] is True and probe["status"]["raft_index"] == 9 and probe["status"]["leader"] == "a1"
    opener.answers["https://e1:2379/v3/maintenance/status"] = {"header": {}, "leader": "0"}
    assert client.member_health(member)["healthy"] is False
    opener.answers["https://e1:2379/v3/maintenance/status"] = {"leader": "1", "errors": ["NOSPACE"]}
    assert client.member_health(member)["reason"] == "NOSPACE"
    assert client.member_health(dict(member, client_urls=[]))["reason"].startswith("not started")


def test_kv_helpers_encode_base64():
    opener = Opener({"https://a:2379/v3/kv/range": {"kvs": [{"key": "YQ==", "value": "dmFsdWU="}], "count": "1"}})
    client = EtcdClient(["https://a:2379"], opener=opener)
    assert client.get("a") == "value"
    assert client.count("/p/") == 1
    body = opener.calls[1][1]
    assert body["key"] == "L3Av" and body["range_end"] == "L3Aw" and body["count_only"] is True
