from __future__ import annotations

import datetime
import re

import pytest

from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm import tokens as t
from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.errors import ParseError

from kubeadm_testlib import NOW, token_secret


def at(minutes):
    return t.format_time(NOW + datetime.timedelta(minutes=minutes))


def parse(*secrets):
    return t.parse_token_list({"kind": "List", "items": list(secrets)})


@pytest.mark.parametrize("text,expected", [
    ("2026-11-22T08:00:00Z", NOW),
    ("2026-11-22T09:30:00+01:30", NOW),
    ("2026-11-22T07:00:00-01:00", NOW),
    ("2026-11-22T08:00:00.250Z", NOW + datetime.timedelta(milliseconds=250)),
])
def test_parse_time(text, expected):
    assert t.parse_time(text) == expected


@pytest.mark.parametrize("text", ["2026-11-22", "tomorrow", "2026-13-01T00:00:00Z", None])
def test_parse_time_rejects(text):
    with pytest.raises(ParseError):
        t.parse_time(text)


def test_parse_secret_fields():
    (token,) = parse(token_secret("abcdef", "0123456789abcdef", at(60), description="join"))
    assert token.token == "abcdef.0123456789abcdef"
    assert token.usages == ("authentication", "signing")
    assert token.groups == ("system:bootstrappers:kubeadm:default-node-token",)
    assert token.remaining(NOW) == 3600
    assert token.is_join_token()
    assert token.description == "join"
    assert "0123456789abcdef" not in repr(token.public(NOW))
    assert token.public(NOW)["remaining_minutes"] == 60


def test_other_secret_types_are_skipped():
    other = {"type": "Opaque", "metadata": {"name": "x"}, "data": {}}
    assert parse(other) == []


def test_bad_token_secret_is_an_error():
    bad = token_secret("ABCDEF", "0123456789abcdef", at(60))
    with pytest.raises(ParseError):
        parse(bad)
    broken = token_secret("abcdef", "0123456789abcdef", at(60))
    broken["data"]["token-id"] = "%%%"
    with pytest.raises(ParseError):
        parse(broken)


def test_parse_list_requires_items():
    with pytest.raises(ParseError):
        t.parse_token_list({"kind": "Secret"})


def test_choose_reusable_prefers_most_time_left():
    toks = parse(
        token_secret("aaaaaa", "a" * 16, at(40)),
        token_secret("bbbbbb", "b" * 16, at(90)),
        token_secret("cccccc", "c" * 16, at(10)),
    )
    assert t.choose_reusable(toks, NOW, 30 * 60).token_id == "bbbbbb"
    assert t.choose_reusable(toks, NOW, 100 * 60) is None


def test_choose_reusable_never_expiring_wins():
    toks = parse(token_secret("aaaaaa", "a" * 16, at(600)), token_secret("zzzzzz", "z" * 16, None))
    assert t.choose_reusable(toks, NOW, 30 * 60).token_id == "zzzzzz"


def test_choose_reusable_ignores_non_join_tokens():
    proxy = token_secret("pppppp", "p" * 16, at(100), usages=(), groups="",
                         description="Proxy for managing TTL for the kubeadm-certs secret")
    signing_only = token_secret("ssssss", "s" * 16, at(100), usages=("signing",))
    assert t.choose_reusable(parse(proxy, signing_only), NOW, 60) is None


def test_expired_tokens():
    toks = parse(token_secret("aaaaaa", "a" * 16, at(-1)), token_secret("bbbbbb", "b" * 16, at(1)),
                 token_secret("cccccc", "c" * 16, None))
    assert [x.token_id for x in t.expired_tokens(toks, NOW)] == ["aaaaaa"]


def certs(owner=None):
    meta = {"name": "kubeadm-certs", "namespace": "kube-system"}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "Secret", "name": "bootstrap-token-" + owner}]
    return {"kind": "Secret", "metadata": meta, "data": {}}


def test_certs_secret_remaining():
    toks = parse(token_secret("pppppp", "p" * 16, at(45), usages=(), groups=""))
    assert t.certs_secret_remaining(None, toks, NOW) == 0
    assert t.certs_secret_remaining(certs("pppppp"), toks, NOW) == 45 * 60
    assert t.certs_secret_remaining(certs("gone00"), toks, NOW) == 0
    assert t.certs_secret_remaining(certs(), toks, NOW) is None
    expired = parse(token_secret("pppppp", "p" * 16, at(-5), usages=(), groups=""))
    assert t.certs_secret_remaining(certs("pppppp"), expired, NOW) == 0


def test_generators():
    token = t.generate_token()
    assert t.valid_token(token)
    assert t.token_id_of(token) == token[:6]
    assert t.generate_token() != token
    key = t.generate_certificate_key()
    assert t.valid_certificate_key(key)
    assert re.match(r"^[0-9a-f]{64}$", key)
    assert not t.valid_certificate_key("xyz")
    assert t.token_id_of("nope") is None
