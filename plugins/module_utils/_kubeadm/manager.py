# -*- coding: utf-8 -*-
# Copyright (c) quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide and apply: reuse or create a join token, drop expired ones, keep kubeadm-certs usable."""

from __future__ import annotations

import datetime

from .cahash import discovery_hash
from .certkey import key_opens_secret
from .errors import KubeadmError
from .tokens import (
    NODE_GROUP,
    BootstrapToken,
    certs_secret_remaining,
    choose_reusable,
    expired_tokens,
    format_time,
    generate_certificate_key,
    parse_token_list,
    token_id_of,
)

DEFAULT_USAGES = ("authentication", "signing")
DEFAULT_GROUPS = (NODE_GROUP,)


class TokenRequest:
    """What the caller wants (minutes, as the module takes them)."""

    def __init__(self, min_remaining_minutes=30, ttl_minutes=120, description="quorum.k8s join token",
                 delete_expired=True, upload_certs=False, certificate_key=None,
                 certs_min_remaining_minutes=30, config=None):
        if min_remaining_minutes < 0:
            raise KubeadmError("min_remaining_minutes must not be negative")
        if ttl_minutes <= min_remaining_minutes:
            raise KubeadmError(
                "ttl_minutes (%d) must be greater than min_remaining_minutes (%d), or a new token "
                "would never be good enough" % (ttl_minutes, min_remaining_minutes)
            )
        if upload_certs and certs_min_remaining_minutes >= 120:
            raise KubeadmError(
                "certs_min_remaining_minutes must be below 120: kubeadm keeps kubeadm-certs for 2 hours"
            )
        self.min_remaining_minutes = min_remaining_minutes
        self.ttl_minutes = ttl_minutes
        self.description = description
        self.delete_expired = delete_expired
        self.upload_certs = upload_certs
        self.certificate_key = certificate_key
        self.certs_min_remaining_minutes = certs_min_remaining_minutes
        self.config = config


def ensure(client, request, ca_pem, now=None, check_mode=False, write_temp=None):
    """Bring tokens and kubeadm-certs to the requested state; return the module result.

    ``result['token']`` and ``result['certificate_key']`` are secrets.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    result = {
        "changed": False,
        "token": None,
        "token_id": None,
        "token_expires": None,
        "token_created": False,
        "deleted_tokens": [],
        "discovery_token_ca_cert_hash": discovery_hash(ca_pem),
        "certificate_key": None,
        "certificate_key_uploaded": False,
        "certs_upload_reason": None,
    }

    tokens = parse_token_list(client.token_secrets())
    before_ids = sorted(t.token_id for t in tokens)

    gone = set()
    if request.delete_expired:
        for token in expired_tokens(tokens, now):
            if not check_mode:
                client.delete_token(token.token_id)
            gone.add(token.token_id)
            result["deleted_tokens"].append(token.token_id)
    live = [t for t in tokens if t.token_id not in gone and not t.expired(now)]

    reuse = choose_reusable(live, now, request.min_remaining_minutes * 60)
    if reuse is not None:
        result["token"] = reuse.token
        result["token_id"] = reuse.token_id
        result["token_expires"] = format_time(reuse.expiration) if reuse.expiration else None
    else:
        result["token_created"] = True
        expires = now + datetime.timedelta(minutes=request.ttl_minutes)
        result["token_expires"] = format_time(expires)
        if not check_mode:
            token = client.create_token(request.ttl_minutes * 60, request.description,
                                        DEFAULT_USAGES, DEFAULT_GROUPS)
            result["token"] = token
            result["token_id"] = token_id_of(token)
            live.append(BootstrapToken(result["token_id"], token.split(".", 1)[1], expires,
                                       DEFAULT_USAGES, DEFAULT_GROUPS, request.description))

    if request.upload_certs:
        certs = client.certs_secret()
        left = certs_secret_remaining(certs, live, now)
        reason = None
        if certs is None:
            reason = "missing"
        elif left is not None and left < request.certs_min_remaining_minutes * 60:
            reason = "expiring"
        elif not request.certificate_key:
            reason = "key unknown"
        elif key_opens_secret(certs, request.certificate_key) is False:
            reason = "key mismatch"
        key = request.certificate_key or None
        if reason:
            key = key or generate_certificate_key()
            if not check_mode:
                client.upload_certs(key, request.config, write_temp)
            result["certificate_key_uploaded"] = True
            result["certs_upload_reason"] = reason
        result["certificate_key"] = key

    after_ids = sorted(
        set(before_ids) - gone | ({result["token_id"]} if result["token_id"] else set())
    )
    result["changed"] = bool(result["deleted_tokens"] or result["token_created"]
                             or result["certificate_key_uploaded"])
    result["diff"] = {
        "before": {"token_ids": before_ids},
        "after": {"token_ids": after_ids, "kubeadm_certs_uploaded": result["certificate_key_uploaded"]},
    }
    return result
