# -*- coding: utf-8 -*-
# Copyright (c) quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bootstrap tokens and the kubeadm-certs secret: pure functions, no I/O.

Tokens are read from the bootstrap-token secrets of kube-system
(``type: bootstrap.kubernetes.io/token``), which carry everything
``kubeadm token list`` shows plus the owner links kubeadm-certs depends on.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
import secrets as _secrets
import string

from .errors import ParseError

TOKEN_SECRET_TYPE = "bootstrap.kubernetes.io/token"
TOKEN_SECRET_PREFIX = "bootstrap-token-"
NODE_GROUP = "system:bootstrappers:kubeadm:default-node-token"
CERTS_SECRET_NAME = "kubeadm-certs"

_TOKEN_RE = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
_ID_RE = re.compile(r"^[a-z0-9]{6}$")
_RFC3339_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_TOKEN_ALPHABET = string.ascii_lowercase + string.digits
UTC = datetime.timezone.utc


class BootstrapToken:
    """One bootstrap token as stored in its secret."""

    __slots__ = ("token_id", "token_secret", "expiration", "usages", "groups", "description")

    def __init__(self, token_id, token_secret, expiration=None, usages=(), groups=(), description=""):
        self.token_id = token_id
        self.token_secret = token_secret
        self.expiration = expiration
        self.usages = tuple(usages)
        self.groups = tuple(groups)
        self.description = description

    @property
    def token(self):
        """The full token, ``id.secret`` (a secret: never log it)."""
        return "%s.%s" % (self.token_id, self.token_secret)

    @property
    def secret_name(self):
        return TOKEN_SECRET_PREFIX + self.token_id

    def remaining(self, now):
        """Seconds left before expiry; None when the token never expires."""
        if self.expiration is None:
            return None
        return (self.expiration - now).total_seconds()

    def expired(self, now):
        left = self.remaining(now)
        return left is not None and left <= 0

    def is_join_token(self):
        """True when kubeadm join can use the token (authentication, signing, node group)."""
        return (
            "authentication" in self.usages
            and "signing" in self.usages
            and NODE_GROUP in self.groups
        )

    def public(self, now=None):
        """A description without the secret half, safe to return and log."""
        out = {
            "id": self.token_id,
            "expires": format_time(self.expiration) if self.expiration else None,
            "usages": list(self.usages),
            "groups": list(self.groups),
            "description": self.description,
        }
        if now is not None:
            left = self.remaining(now)
            out["remaining_minutes"] = None if left is None else int(left // 60)
        return out


def parse_time(value):
    """Parse an RFC 3339 time (as Kubernetes writes it) into an aware UTC datetime."""
    match = _RFC3339_RE.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise ParseError("not an RFC 3339 time: %r" % (value,))
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    frac, zone = match.group(7), match.group(8)
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    if zone in ("Z", "z"):
        offset = datetime.timedelta(0)
    else:
        sign = -1 if zone[0] == "-" else 1
        offset = sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    try:
        stamp = datetime.datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError as exc:
        raise ParseError("not a valid time: %r (%s)" % (value, exc))
    return stamp - offset


def format_time(stamp):
    """RFC 3339 in UTC, second precision, as kubeadm writes it."""
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _decode(data, key, name):
    raw = data.get(key)
    if raw is None:
        return None
    try:
        return base64.b64decode(raw, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ParseError("secret %s: field %s is not base64 text" % (name, key))


def parse_token_secret(secret):
    """Turn one bootstrap-token secret (a dict from the API) into a BootstrapToken.

    Returns None for a secret that is not a bootstrap token.
    """
    if not isinstance(secret, dict):
        raise ParseError("a secret must be a mapping, got %s" % type(secret).__name__)
    if secret.get("type") != TOKEN_SECRET_TYPE:
        return None
    name = (secret.get("metadata") or {}).get("name", "?")
    data = secret.get("data") or {}
    token_id = _decode(data, "token-id", name)
    token_secret = _decode(data, "token-secret", name)
    if not token_id or not token_secret:
        raise ParseError("secret %s has no token-id or token-secret" % name)
    if not _TOKEN_RE.match("%s.%s" % (token_id, token_secret)):
        raise ParseError("secret %s does not hold a valid token" % name)
    expiration = _decode(data, "expiration", name)
    usages = sorted(
        key[len("usage-bootstrap-"):]
        for key in data
        if key.startswith("usage-bootstrap-") and _decode(data, key, name) == "true"
    )
    groups_raw = _decode(data, "auth-extra-groups", name) or ""
    groups = [g.strip() for g in groups_raw.split(",") if g.strip()]
    return BootstrapToken(
        token_id=token_id,
        token_secret=token_secret,
        expiration=parse_time(expiration) if expiration else None,
        usages=usages,
        groups=groups,
        description=_decode(data, "description", name) or "",
    )


def parse_token_list(secret_list):
    """Parse the output of ``kubectl get secrets -o json`` (a List) into tokens."""
    if not isinstance(secret_list, dict) or not isinstance(secret_list.get("items"), list):
        raise ParseError("expected a Kubernetes List with items")
    tokens = []
    for item in secret_list["items"]:
        token = parse_token_secret(item)
        if token is not None:
            tokens.append(token)
    return tokens


def choose_reusable(tokens, now, min_remaining_seconds):
    """The join token with the most time left, if it has at least ``min_remaining_seconds``.

    A token that never expires counts as having infinite time left.
    """
    best = None
    best_left = None
    for token in tokens:
        if not token.is_join_token():
            continue
        left = token.remaining(now)
        if left is not None and left < min_remaining_seconds:
            continue
        score = float("inf") if left is None else left
        if best is None or score > best_left or (score == best_left and token.token_id < best.token_id):
            best, best_left = token, score
    return best


def expired_tokens(tokens, now):
    """Tokens whose expiry has passed (the token cleaner may not have run yet)."""
    return sorted((t for t in tokens if t.expired(now)), key=lambda t: t.token_id)


def certs_secret_remaining(certs_secret, tokens, now):
    """Seconds left before the kubeadm-certs secret is garbage-collected.

    kubeadm ties the secret's life to a bootstrap token through an ownerReference;
    the secret disappears when that token expires.  Returns:
    - None when the secret has no owner token (it does not expire);
    - 0 when the secret is missing, or its owner token is missing or expired.
    """
    if not certs_secret:
        return 0
    owners = [
        ref for ref in (certs_secret.get("metadata") or {}).get("ownerReferences") or []
        if ref.get("kind") == "Secret" and str(ref.get("name", "")).startswith(TOKEN_SECRET_PREFIX)
    ]
    if not owners:
        return None
    by_name = dict((t.secret_name, t) for t in tokens)
    left_values = []
    for ref in owners:
        token = by_name.get(ref["name"])
        if token is None:
            return 0
        left = token.remaining(now)
        if left is not None:
            left_values.append(left)
    if not left_values:
        return None
    return max(0, min(left_values))


def generate_token():
    """A fresh bootstrap token ``[a-z0-9]{6}.[a-z0-9]{16}`` from the system CSPRNG."""
    pick = _secrets.choice
    return "%s.%s" % (
        "".join(pick(_TOKEN_ALPHABET) for dummy in range(6)),
        "".join(pick(_TOKEN_ALPHABET) for dummy in range(16)),
    )


def generate_certificate_key():
    """A fresh certificate key: 32 random bytes, hex (what ``kubeadm certs certificate-key`` prints)."""
    return _secrets.token_hex(32)


def valid_token(value):
    return isinstance(value, str) and bool(_TOKEN_RE.match(value))


def valid_certificate_key(value):
    return isinstance(value, str) and bool(re.match(r"^[0-9a-f]{64}$", value))


def token_id_of(value):
    match = _TOKEN_RE.match(value or "")
    return match.group(1) if match else None


def valid_token_id(value):
    return isinstance(value, str) and bool(_ID_RE.match(value))
