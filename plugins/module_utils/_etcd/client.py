# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small client for the etcd v3 HTTP/JSON gateway (etcd 3.4 and later).

It stands on ansible.module_utils.urls.open_url only, so a node needs no extra
Python package. Every call takes a list of endpoints; cluster-wide calls try them
in order and report each failure by endpoint when none answers.

The gateway speaks proto3 JSON: 64-bit integers are strings, fields at their
default value (false, 0, empty list) are left out.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import SSLValidationError, open_url

from ansible_collections.quorum.k8s.plugins.module_utils._etcd.errors import (
    EtcdAPIError,
    EtcdConnectionError,
    EtcdLearnerNotReadyError,
    EtcdTLSError,
)

LEARNER_NOT_READY = (
    "can only promote a learner member which is in sync with leader",
    "can only promote a learner member",
    "learner member is not ready",
)
NOT_FOR_LEARNER = "rpc not supported for learner"
# etcd refuses reconfiguration until every voter has been connected for 5 s (strict reconfig check).
UNHEALTHY = "etcdserver: unhealthy cluster"


def member_id_hex(member_id):
    """Render a member ID as etcdctl does (lower-case hexadecimal)."""
    return "%x" % int(member_id)


def parse_member_id(value):
    """Accept a member ID as decimal int/str or as etcdctl's hexadecimal string."""
    if isinstance(value, int):
        return value
    text = str(value).strip().lower()
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 16)


def normalize_url(url):
    """Compare URLs the way etcd does in practice: scheme and host case-insensitive, no trailing slash."""
    url = url.strip().rstrip("/")
    if "://" in url:
        scheme, rest = url.split("://", 1)
        host, sep, path = rest.partition("/")
        return "%s://%s%s%s" % (scheme.lower(), host.lower(), sep, path)
    return url.lower()


def normalize_member(raw):
    """Turn a gateway member object into a plain dict with stable keys."""
    member_id = int(raw.get("ID", 0))
    return {
        "id": member_id_hex(member_id),
        "id_int": member_id,
        "name": raw.get("name", ""),
        "peer_urls": list(raw.get("peerURLs", [])),
        "client_urls": list(raw.get("clientURLs", [])),
        "is_learner": bool(raw.get("isLearner", False)),
    }


def _reason(exc):
    """Classify a transport exception: (is_tls, text)."""
    reason = getattr(exc, "reason", exc)
    if isinstance(exc, SSLValidationError) or isinstance(reason, (ssl.SSLError, ssl.CertificateError)):
        return True, str(reason)
    text = str(reason)
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text or "TLS" in text:
        return True, text
    return False, text


class EtcdClient:
    """Talk to etcd members through the v3 gateway.

    endpoints: client URLs (https://host:2379) tried in order.
    ca_cert, client_cert, client_key: paths of PEM files for client TLS.
    """

    def __init__(self, endpoints, ca_cert=None, client_cert=None, client_key=None,
                 timeout=5.0, validate_certs=True, opener=None):
        if not endpoints:
            raise ValueError("at least one etcd endpoint is required")
        self.endpoints = [e.rstrip("/") for e in endpoints]
        self.ca_cert = ca_cert
        self.client_cert = client_cert
        self.client_key = client_key
        self.timeout = timeout
        self.validate_certs = validate_certs
        self._open = opener or open_url

    # -- transport ---------------------------------------------------------------
    def _request(self, endpoint, path, body=None, method="POST", timeout=None):
        """One HTTP call to one endpoint; returns the decoded JSON body."""
        url = endpoint.rstrip("/") + path
        data = None if body is None else json.dumps(body)
        headers = {"Content-Type": "application/json"} if data is not None else {}
        try:
            resp = self._open(
                url, data=data, headers=headers, method=method,
                timeout=timeout or self.timeout, validate_certs=self.validate_certs,
                ca_path=self.ca_cert, client_cert=self.client_cert,
                client_key=self.client_key, use_proxy=False, follow_redirects="none",
                use_netrc=False,
            )
            raw = resp.read()
        except HTTPError as exc:
            try:
                payload = json.loads(exc.read() or b"{}")
            except ValueError:
                payload = {}
            etcd_message = payload.get("message") or payload.get("error") or str(exc)
            cls = EtcdAPIError
            if any(m in etcd_message for m in LEARNER_NOT_READY):
                cls = EtcdLearnerNotReadyError
            raise cls("etcd at %s refused %s: %s (HTTP %s)" % (endpoint, path, etcd_message, exc.code),
                      endpoint=endpoint, status=exc.code, etcd_message=etcd_message)
        except (URLError, SSLValidationError, socket.timeout, ssl.SSLError, ConnectionError, OSError) as exc:
            is_tls, text = _reason(exc)
            if is_tls:
                raise EtcdTLSError("TLS handshake with %s failed: %s" % (endpoint, text), {endpoint: text})
            raise EtcdConnectionError("cannot reach etcd at %s: %s" % (endpoint, text), {endpoint: text})
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            raise EtcdAPIError("etcd at %s answered %s with something that is not JSON" % (endpoint, path),
                               endpoint=endpoint)

    def _cluster_call(self, path, body):
        """Try the endpoints in order; skip ones that cannot serve (unreachable, learners)."""
        failures = {}
        tls_only = True
        for endpoint in self.endpoints:
            try:
                return endpoint, self._request(endpoint, path, body)
            except EtcdTLSError as exc:
                failures.update(exc.failures)
            except EtcdConnectionError as exc:
                tls_only = False
                failures.update(exc.failures)
            except EtcdAPIError as exc:
                if NOT_FOR_LEARNER in exc.etcd_message:
                    tls_only = False
                    failures[endpoint] = "is a learner: " + exc.etcd_message
                    continue
                raise
        detail = "; ".join("%s: %s" % (e, r) for e, r in failures.items())
        if tls_only:
            raise EtcdTLSError("TLS handshake failed with every etcd endpoint (%s)" % detail, failures)
        raise EtcdConnectionError("no etcd endpoint answered %s (%s)" % (path, detail), failures)

    # -- cluster API -------------------------------------------------------------
    def member_list(self):
        """Return (cluster_id_hex, [member dict, ...])."""
        dummy, resp = self._cluster_call("/v3/cluster/member/list", {})
        header = resp.get("header", {})
        members = [normalize_member(m) for m in resp.get("members", [])]
        members.sort(key=lambda m: (m["name"] or "~", m["id"]))
        return member_id_hex(header.get("cluster_id", 0)), members

    def member_add(self, peer_urls, is_learner=True):
        """Add a member; returns the new member dict (name and client URLs empty until it starts)."""
        body = {"peerURLs": list(peer_urls)}
        if is_learner:
            body["isLearner"] = True
        dummy, resp = self._cluster_call("/v3/cluster/member/add", body)
        return normalize_member(resp.get("member", {}))

    def member_remove(self, member_id):
        self._cluster_call("/v3/cluster/member/remove", {"ID": str(parse_member_id(member_id))})

    def member_promote(self, member_id):
        self._cluster_call("/v3/cluster/member/promote", {"ID": str(parse_member_id(member_id))})

    def alarms(self):
        dummy, resp = self._cluster_call("/v3/maintenance/alarm", {"action": "GET"})
        return [
            {"member_id": member_id_hex(a.get("memberID", 0)), "alarm": a.get("alarm", "NONE")}
            for a in resp.get("alarms", [])
        ]

    # -- per-member calls --------------------------------------------------------
    def status(self, endpoint, timeout=None):
        """Maintenance status of the member behind one endpoint (works on learners too)."""
        resp = self._request(endpoint, "/v3/maintenance/status", {}, timeout=timeout)
        header = resp.get("header", {})
        return {
            "endpoint": endpoint,
            "member_id": member_id_hex(header.get("member_id", 0)),
            "version": resp.get("version", ""),
            "db_size": int(resp.get("dbSize", 0)),
            "leader": member_id_hex(resp.get("leader", 0)),
            "raft_index": int(resp.get("raftIndex", 0)),
            "raft_term": int(resp.get("raftTerm", 0)),
            "raft_applied_index": int(resp.get("raftAppliedIndex", 0)),
            "is_learner": bool(resp.get("isLearner", False)),
            "errors": list(resp.get("errors", [])),
        }

    def member_health(self, member, timeout=None):
        """Probe one member through its client URLs: a dict with healthy, reason and status."""
        if not member["client_urls"]:
            return {"healthy": False, "reason": "not started (no client URLs published yet)", "status": None}
        reasons = []
        for url in member["client_urls"]:
            try:
                st = self.status(url, timeout=timeout)
            except (EtcdConnectionError, EtcdAPIError) as exc:
                reasons.append(str(exc))
                continue
            if st["errors"]:
                return {"healthy": False, "reason": "; ".join(st["errors"]), "status": st}
            if int(st["leader"], 16) == 0:
                return {"healthy": False, "reason": "%s sees no leader" % url, "status": st}
            return {"healthy": True, "reason": "", "status": st}
        return {"healthy": False, "reason": "; ".join(reasons), "status": None}

    # -- key/value (used by verification steps and tests) -------------------------
    def put(self, key, value):
        self._cluster_call("/v3/kv/put", {"key": _b64(key), "value": _b64(value)})

    def get(self, key):
        """Return the value of key as text, or None."""
        dummy, resp = self._cluster_call("/v3/kv/range", {"key": _b64(key)})
        kvs = resp.get("kvs", [])
        if not kvs:
            return None
        return base64.b64decode(kvs[0].get("value", "")).decode("utf-8")

    def count(self, prefix=""):
        """Number of keys under prefix ("" = every key)."""
        if prefix:
            body = {"key": _b64(prefix), "range_end": _b64(_prefix_end(prefix)), "count_only": True}
        else:
            body = {"key": _b64("\0"), "range_end": _b64("\0"), "count_only": True}
        dummy, resp = self._cluster_call("/v3/kv/range", body)
        return int(resp.get("count", 0))


def _b64(text):
    if isinstance(text, str):
        text = text.encode("utf-8")
    return base64.b64encode(text).decode("ascii")


def _prefix_end(prefix):
    raw = bytearray(prefix.encode("utf-8"))
    for i in range(len(raw) - 1, -1, -1):
        if raw[i] < 0xFF:
            raw[i] += 1
            return bytes(raw[: i + 1])
    return b"\0"
