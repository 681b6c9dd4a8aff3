# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Quorum arithmetic and membership matching: pure functions, no network.

``members`` are dicts as returned by EtcdClient.member_list(); ``health`` maps a
member id (hex) to True/False.
"""

from __future__ import annotations

from ansible_collections.quorum.k8s.plugins.module_utils._etcd.client import normalize_url, parse_member_id, member_id_hex
from ansible_collections.quorum.k8s.plugins.module_utils._etcd.errors import EtcdConflictError, EtcdQuorumError


def quorum(voters):
    """Votes needed for a majority of ``voters`` voting members."""
    return voters // 2 + 1


def voters(members):
    return [m for m in members if not m["is_learner"]]


def describe(member):
    label = member["name"] or "(unstarted)"
    return "%s %s [%s]%s" % (label, member["id"], ", ".join(member["peer_urls"]),
                             " learner" if member["is_learner"] else "")


def match_peer_urls(members, peer_urls):
    """The member that owns any of peer_urls, or None. Raises if two members do."""
    wanted = set(normalize_url(u) for u in peer_urls)
    found = [m for m in members if wanted & set(normalize_url(u) for u in m["peer_urls"])]
    if len(found) > 1:
        raise EtcdConflictError("peer URLs %s belong to several members: %s"
                                % (", ".join(peer_urls), "; ".join(describe(m) for m in found)))
    return found[0] if found else None


def select(members, selector):
    """Members matching a selector: a hex member ID, a peer URL or a member name."""
    selector = str(selector).strip()
    if "://" in selector:
        return [m for m in members if normalize_url(selector) in [normalize_url(u) for u in m["peer_urls"]]]
    by_name = [m for m in members if m["name"] and m["name"] == selector]
    if by_name:
        return by_name
    try:
        wanted = member_id_hex(parse_member_id(selector))
    except ValueError:
        return []
    return [m for m in members if m["id"] == wanted]


def same_urls(a, b):
    return set(normalize_url(u) for u in a) == set(normalize_url(u) for u in b)


def unhealthy_voters(members, health):
    return [m for m in voters(members) if not health.get(m["id"], False)]


def check_remove(members, health, target, force=False):
    """Refuse a removal that leaves the healthy voting members without a majority."""
    if target["is_learner"]:
        return
    remaining = [m for m in voters(members) if m["id"] != target["id"]]
    if not remaining:
        raise EtcdQuorumError("refusing to remove %s: it is the last voting member of the cluster" % describe(target))
    healthy = [m for m in remaining if health.get(m["id"], False)]
    need = quorum(len(remaining))
    if len(healthy) < need and not force:
        raise EtcdQuorumError(
            "refusing to remove %s: %d voting members would remain, of which %d healthy, but quorum needs %d "
            "(unhealthy: %s). Repair the unhealthy members first, or set force=true if you accept losing quorum"
            % (describe(target), len(remaining), len(healthy), need,
               ", ".join(describe(m) for m in remaining if not health.get(m["id"], False)) or "none"))


def check_add(members, health, force=False):
    """Refuse an addition while any voting member is unhealthy."""
    bad = unhealthy_voters(members, health)
    if bad and not force:
        raise EtcdQuorumError(
            "refusing to add a member while the cluster is unhealthy (unhealthy voting members: %s). "
            "Remove or repair them first (state=replace removes a dead member), or set force=true"
            % "; ".join(describe(m) for m in bad))
    pending = [m for m in members if m["is_learner"] and not health.get(m["id"], False)]
    if pending and not force:
        raise EtcdQuorumError(
            "refusing to add a member while learner %s has not joined; start it and promote it, or remove it"
            % "; ".join(describe(m) for m in pending))


def check_promote(members, health, learner, force=False):
    """Refuse a promotion that would leave the new voting set without a healthy majority."""
    current = voters(members)
    healthy = len([m for m in current if health.get(m["id"], False)])
    need = quorum(len(current) + 1)
    if healthy + 1 < need and not force:
        raise EtcdQuorumError(
            "refusing to promote %s: %d voting members would need %d healthy, only %d are (plus the learner)"
            % (describe(learner), len(current) + 1, need, healthy))


def check_conflicts(members, name, peer_urls, owner):
    """A name used by another member, or peer URLs only partly matching, are conflicts."""
    if owner is not None:
        if not same_urls(owner["peer_urls"], peer_urls):
            raise EtcdConflictError(
                "member %s owns some of the peer URLs %s but not exactly these; remove it or use state=replace"
                % (describe(owner), ", ".join(peer_urls)))
        if name and owner["name"] and owner["name"] != name:
            raise EtcdConflictError(
                "peer URLs %s belong to member %s, not %s; use state=replace to swap members"
                % (", ".join(peer_urls), describe(owner), name))
        return
    if name:
        clash = [m for m in members if m["name"] == name]
        if clash:
            raise EtcdConflictError(
                "member name %s is already used by %s with other peer URLs; use state=replace (replace=%s) "
                "to swap it for %s" % (name, describe(clash[0]), name, ", ".join(peer_urls)))


def initial_cluster(members, target=None, name=None):
    """The --initial-cluster value a joining member needs: every member's name=peerURL.

    A member that has not started has no name yet: the joining one gets ``name``,
    any other gets its ID (etcd matches joining members by peer URL, not by name).
    """
    entries = []
    for m in members:
        label = m["name"]
        if not label:
            label = name if (target is not None and m["id"] == target["id"] and name) else m["id"]
        for url in m["peer_urls"]:
            entries.append("%s=%s" % (label, url))
    return ",".join(sorted(entries))


def summary(members, health):
    v = voters(members)
    healthy = [m for m in v if health.get(m["id"], False)]
    return {
        "voters": len(v),
        "learners": len(members) - len(v),
        "healthy_voters": len(healthy),
        "quorum": quorum(len(v)) if v else 0,
        "has_quorum": bool(v) and len(healthy) >= quorum(len(v)),
        "all_healthy": bool(members) and all(health.get(m["id"], False) for m in members),
    }
