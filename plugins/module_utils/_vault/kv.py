# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KV version 2: read, or generate-and-write with check-and-set so concurrent runs converge."""

from __future__ import annotations

from ansible_collections.quorum.k8s.plugins.module_utils._vault.catalogue import entry as catalogue_entry
from ansible_collections.quorum.k8s.plugins.module_utils._vault.errors import (
    VaultCasConflict,
    VaultConfigError,
    VaultNotFound,
    VaultPermissionDenied,
    VaultRequestError,
)
from ansible_collections.quorum.k8s.plugins.module_utils._vault.generate import generate as generate_data


class KV2(object):
    """KV v2 operations on one mount, over a VaultClient (the boundary unit tests fake)."""

    def __init__(self, client, mount):
        self.client = client
        self.mount = mount.strip("/")

    def where(self, path):
        return "%s/v1/%s/data/%s" % (self.client.url.rstrip("/"), self.mount, path.strip("/"))

    def read(self, path):
        """(data, version) of the current version, or None when missing or deleted."""
        answer = self.client.read("%s/data/%s" % (self.mount, path.strip("/")))
        if not answer or not answer.get("data") or answer["data"].get("data") is None:
            return None
        return answer["data"]["data"], int(answer["data"]["metadata"]["version"])

    def latest(self, path):
        """(latest version number, whether that version is live); (0, False) when the path never held a secret.

        A live latest version seen right after a read found nothing means another writer just won.
        """
        try:
            answer = self.client.read("%s/metadata/%s" % (self.mount, path.strip("/")))
        except VaultPermissionDenied:
            # a policy with data but no metadata access: assume never written (cas=0 still guards)
            return 0, False
        if not answer or not answer.get("data"):
            return 0, False
        current = int(answer["data"].get("current_version") or 0)
        info = (answer["data"].get("versions") or {}).get(str(current)) or {}
        live = current > 0 and not info.get("deletion_time") and not info.get("destroyed")
        return current, live

    def write(self, path, data, cas):
        """Write a new version if the current one is `cas`; returns the new version."""
        try:
            answer = self.client.write("%s/data/%s" % (self.mount, path.strip("/")),
                                       {"data": data, "options": {"cas": cas}})
        except VaultRequestError as exc:
            if "check-and-set" in str(exc):
                raise VaultCasConflict("%s changed while it was being written (check-and-set %d lost)"
                                       % (self.where(path), cas))
            raise
        return int(answer["data"]["version"])


def _keys(data):
    return sorted((data or {}).keys())


def ensure_secret(kv, path, generate=None, rotate=False, check_mode=False, retries=3):
    """Read the secret at path, or generate and store it.

    Returns a dict: secret (data), created, rotated, changed, version, diff (no values).
    A lost check-and-set (another writer came first) re-reads and returns the winner's value.
    """
    if rotate and not generate:
        raise VaultConfigError("rotate=true needs generate (what to rotate to) for %s" % kv.where(path))
    for attempt in range(retries):
        current = kv.read(path)
        if current is not None and not rotate:
            data, version = current
            return dict(secret=data, created=False, rotated=False, changed=False, version=version,
                        diff=dict(before=_state(path, version, data), after=_state(path, version, data)))
        if current is None and not generate:
            raise VaultNotFound("no secret at %s and no generate option: store it first or set generate"
                                % kv.where(path))
        if current is None:
            # missing, or its latest version deleted: check-and-set against the latest version number
            cas, live = kv.latest(path)
            if live:
                continue  # written by someone else since our read: read it
            before = _state(path, None, None)
        else:
            cas = current[1]
            before = _state(path, current[1], current[0])
        data = generate_data(generate)
        if check_mode:
            after = _state(path, cas + 1, data)
            return dict(secret=data, created=current is None, rotated=current is not None, changed=True,
                        version=cas + 1, diff=dict(before=before, after=after))
        try:
            version = kv.write(path, data, cas)
        except VaultCasConflict:
            # another writer came first (created or rotated it): its value wins, re-read it
            rotate = False
            continue
        return dict(secret=data, created=current is None, rotated=current is not None, changed=True,
                    version=version, diff=dict(before=before, after=_state(path, version, data)))
    raise VaultCasConflict("%s kept changing under %d check-and-set attempts: retry" % (kv.where(path), retries))


def ensure_named_secrets(kv, names, check_mode=False):
    """ensure_secret for each secret of the catalogue named in `names`; results keyed by name.

    Returns a dict: secret (name -> data), created (names generated), rotated (False), changed,
    version (name -> version), diff (name -> state, no values).
    """
    out = dict(secret={}, created=[], rotated=False, changed=False, version={}, diff=dict(before={}, after={}))
    for name in names:
        wanted = catalogue_entry(name)
        result = ensure_secret(kv, wanted["path"], generate=wanted["generate"], check_mode=check_mode)
        out["secret"][name] = result["secret"]
        out["version"][name] = result["version"]
        out["changed"] = out["changed"] or result["changed"]
        if result["created"]:
            out["created"].append(name)
        for side in ("before", "after"):
            out["diff"][side][name] = result["diff"][side]
    return out


def _state(path, version, data):
    """What diff shows: never a value, only the path, version and key names."""
    if version is None:
        return dict(path=path, exists=False)
    return dict(path=path, exists=True, version=version, keys=_keys(data))
