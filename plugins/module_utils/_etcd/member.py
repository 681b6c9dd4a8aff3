# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Membership changes (present, absent, replace) on top of EtcdClient and the quorum rules.

Each function returns a result dict (changed, actions, member, members_before,
members_after, initial_cluster, cluster_id) and raises the typed errors of
errors.py. In check mode nothing is written: the plan is returned as actions.
"""

from __future__ import annotations

import time

from ansible_collections.quorum.k8s.plugins.module_utils._etcd import quorum as q
from ansible_collections.quorum.k8s.plugins.module_utils._etcd.client import UNHEALTHY
from ansible_collections.quorum.k8s.plugins.module_utils._etcd.errors import (
    EtcdAPIError,
    EtcdConflictError,
    EtcdConnectionError,
    EtcdLearnerNotReadyError,
    EtcdQuorumError,
    EtcdTimeoutError,
    EtcdTLSError,
)

# Seconds to retry etcd's 'unhealthy cluster' answer (it clears 5 s after every voter is connected).
UNHEALTHY_RETRY = 30


def probe_all(client, members, timeout=None):
    """Probe every member; returns {id: client.member_health(...)}."""
    return dict((m["id"], client.member_health(m, timeout=timeout)) for m in members)


def health_map(client, members, timeout=None):
    """Probe every member; returns ({id: bool}, {id: reason})."""
    probes = probe_all(client, members, timeout)
    health = dict((i, p["healthy"]) for i, p in probes.items())
    reasons = dict((i, p["reason"]) for i, p in probes.items() if not p["healthy"])
    return health, reasons


def public(member):
    """The member fields shown to users (no integer ID)."""
    if member is None:
        return None
    return dict((k, v) for k, v in member.items() if k != "id_int")


def cluster_info(client, health_timeout=None):
    cluster_id, members = client.member_list()
    probes = probe_all(client, members, health_timeout)
    health = dict((i, p["healthy"]) for i, p in probes.items())
    out = []
    for m in members:
        entry = public(m)
        entry["healthy"] = health[m["id"]]
        entry["reason"] = probes[m["id"]]["reason"]
        # the member itself says it leads (its status names its own ID as the leader)
        status = probes[m["id"]]["status"] or {}
        entry["is_leader"] = entry["healthy"] and status.get("leader") == m["id"]
        out.append(entry)
    result = {"cluster_id": cluster_id, "members": out}
    result.update(q.summary(members, health))
    return result


def wait_healthy(client, timeout, health_timeout=None, sleep=time.sleep, clock=time.monotonic):
    """Wait until every member is healthy; returns cluster_info or raises EtcdTimeoutError."""
    deadline = clock() + timeout
    while True:
        try:
            info = cluster_info(client, health_timeout)
        except EtcdTLSError:
            raise
        except EtcdConnectionError as exc:
            if clock() >= deadline:
                raise EtcdTimeoutError("etcd cluster not reachable after %ss: %s" % (timeout, exc))
        else:
            if info["all_healthy"]:
                return info
            if clock() >= deadline:
                bad = ["%s (%s)" % (m["name"] or m["id"], m["reason"]) for m in info["members"] if not m["healthy"]]
                raise EtcdTimeoutError("etcd cluster not healthy after %ss: %s" % (timeout, "; ".join(bad)))
        sleep(2)


class MemberManager:
    def __init__(self, client, check_mode=False, force=False, wait_timeout=120, health_timeout=3,
                 poll_interval=2, sleep=time.sleep, clock=time.monotonic):
        self.client = client
        self.check_mode = check_mode
        self.force = force
        self.wait_timeout = wait_timeout
        self.health_timeout = health_timeout
        self.poll_interval = poll_interval
        self.sleep = sleep
        self.clock = clock
        self.actions = []
        self.changed = False

    def _list(self):
        return self.client.member_list()

    def _result(self, cluster_id, before, after, target, name=None):
        return {
            "changed": self.changed,
            "actions": self.actions,
            "cluster_id": cluster_id,
            "member": public(target),
            "members_before": [public(m) for m in before],
            "members_after": [public(m) for m in after],
            "initial_cluster": q.initial_cluster(after, target, name) if target else "",
        }

    # -- building blocks -------------------------------------------------------
    def _remove(self, members, health, target):
        q.check_remove(members, health, target, self.force)
        self.actions.append("remove %s" % q.describe(target))
        self.changed = True
        if not self.check_mode:
            self._retry_unhealthy(self.client.member_remove, target["id_int"])
        return [m for m in members if m["id"] != target["id"]]

    def _add(self, members, health, name, peer_urls, learner):
        q.check_add(members, health, self.force)
        kind = "learner" if learner else "voting member"
        self.actions.append("add %s %s [%s]" % (kind, name or "", ", ".join(peer_urls)))
        self.changed = True
        if self.check_mode:
            new = {"id": "0", "id_int": 0, "name": "", "peer_urls": list(peer_urls), "client_urls": [],
                   "is_learner": bool(learner)}
        else:
            new = self._retry_unhealthy(self.client.member_add, peer_urls, is_learner=learner)
        return members + [new], new

    def _retry_unhealthy(self, call, *args, **kwargs):
        """etcd answers 'unhealthy cluster' until every voter has been connected for 5 s: retry, bounded.

        The bound is its own (not wait_timeout, which is about the learner): a cluster that just started
        or just gained a member refuses for a few seconds, however short the learner wait is.
        """
        deadline = self.clock() + UNHEALTHY_RETRY
        while True:
            try:
                return call(*args, **kwargs)
            except EtcdAPIError as exc:
                if UNHEALTHY not in exc.etcd_message or self.clock() >= deadline:
                    raise
            self.sleep(self.poll_interval)

    def _promote(self, learner, name):
        """Wait (bounded) for the learner to start and catch up, then promote it."""
        self.actions.append("promote %s" % q.describe(learner))
        self.changed = True
        if self.check_mode or learner["id"] == "0":
            learner = dict(learner, is_learner=False)
            return learner
        deadline = self.clock() + self.wait_timeout
        last = "it has not started"
        while True:
            dummy, members = self._list()
            current = [m for m in members if m["id"] == learner["id"]]
            if not current:
                raise EtcdConflictError("learner %s disappeared from the member list while waiting to promote it"
                                        % q.describe(learner))
            learner = current[0]
            if not learner["is_learner"]:
                return learner
            health, dummy = health_map(self.client, [m for m in members if m["id"] != learner["id"]],
                                       self.health_timeout)
            q.check_promote(members, health, learner, self.force)
            if learner["client_urls"]:
                try:
                    self._retry_unhealthy(self.client.member_promote, learner["id_int"])
                    return dict(learner, is_learner=False)
                except EtcdLearnerNotReadyError as exc:
                    last = "it is still catching up with the leader (%s)" % exc.etcd_message
            else:
                last = ("it has not started: start etcd on %s with initial-cluster-state=existing"
                        % (name or ", ".join(learner["peer_urls"])))
            if self.clock() >= deadline:
                raise EtcdTimeoutError("learner %s was not promoted within %ss: %s"
                                       % (q.describe(learner), self.wait_timeout, last))
            self.sleep(self.poll_interval)

    # -- states ----------------------------------------------------------------
    def present(self, name, peer_urls, learner=True, promote=True, members=None, cluster_id=None, health=None):
        if members is None:
            cluster_id, members = self._list()
        before = list(members)
        owner = q.match_peer_urls(members, peer_urls)
        q.check_conflicts(members, name, peer_urls, owner)
        if owner is None:
            if health is None:
                health, dummy = health_map(self.client, members, self.health_timeout)
            members, owner = self._add(members, health, name, peer_urls, learner)
        if owner["is_learner"] and promote:
            promoted = self._promote(owner, name)
            members = [promoted if m["id"] == owner["id"] else m for m in members]
            owner = promoted
        if self.changed and not self.check_mode:
            cluster_id, members = self._list()
            owner = q.match_peer_urls(members, peer_urls) or owner
        return self._result(cluster_id, before, members, owner, name)

    def absent(self, selector=None, peer_urls=None):
        cluster_id, members = self._list()
        before = list(members)
        if peer_urls:
            target = q.match_peer_urls(members, peer_urls)
            targets = [target] if target else []
        else:
            targets = q.select(members, selector)
        if len(targets) > 1:
            raise EtcdConflictError("%s matches several members: %s; give the member ID instead"
                                    % (selector, "; ".join(q.describe(m) for m in targets)))
        if not targets:
            return self._result(cluster_id, before, members, None)
        health, dummy = health_map(self.client, members, self.health_timeout)
        members = self._remove(members, health, targets[0])
        if not self.check_mode:
            cluster_id, members = self._list()
        result = self._result(cluster_id, before, members, None)
        result["removed"] = public(targets[0])
        return result

    def replace(self, selector, name, peer_urls, learner=True, promote=True):
        """Remove the dead member(s) matching selector, then ensure the new peer URLs are a member."""
        cluster_id, members = self._list()
        before = list(members)
        health, reasons = health_map(self.client, members, self.health_timeout)
        old = []
        for m in q.select(members, selector):
            if q.same_urls(m["peer_urls"], peer_urls) and (m["is_learner"] or health[m["id"]]):
                continue  # already the replacement (joining or joined)
            if health[m["id"]] and not self.force:
                raise EtcdQuorumError(
                    "refusing to replace %s: it is healthy. replace is for dead members; remove it with "
                    "state=absent first, or set force=true" % q.describe(m))
            old.append(m)
        removed = []
        for m in old:
            members = self._remove(members, health, m)
            health.pop(m["id"], None)
            removed.append(public(m))
        if old and not self.check_mode:
            cluster_id, members = self._list()
        result = self.present(name, peer_urls, learner, promote, members=members, cluster_id=cluster_id,
                              health=health)
        result["members_before"] = [public(m) for m in before]
        result["removed"] = removed
        return result
