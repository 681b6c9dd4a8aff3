"""MemberManager against an in-memory cluster: plans, check mode, bounded promotion wait."""

from __future__ import annotations

import pytest

from ansible_collections.quorum.k8s.plugins.module_utils._etcd.errors import (
    EtcdAPIError,
    EtcdConflictError,
    EtcdLearnerNotReadyError,
    EtcdQuorumError,
    EtcdTimeoutError,
)
from ansible_collections.quorum.k8s.plugins.module_utils._etcd.member import MemberManager, cluster_info


class FakeCluster:
    """Behaves like EtcdClient for the calls MemberManager makes."""

    def __init__(self, size=3):
        self.members = []
        self.dead = set()
        self.writes = []
        self.catch_up_after = 0  # promote attempts refused before success
        self.start_after_polls = None  # learner publishes client URLs after N member_list calls
        self.unhealthy_adds = 0
        self.lists = 0
        for i in range(1, size + 1):
            self.members.append(self._member(i, "e%d" % i, started=True))

    @staticmethod
    def _member(i, name, started, learner=False):
        return {"id": "%x" % (0xa0 + i), "id_int": 0xa0 + i, "name": name if started else "",
                "peer_urls": ["https://10.0.0.%d:2380" % i],
                "client_urls": ["https://10.0.0.%d:2379" % i] if started else [], "is_learner": learner}

    def member_list(self):
        self.lists += 1
        if self.start_after_polls is not None and self.lists >= self.start_after_polls:
            for m in self.members:
                if m["is_learner"] and not m["client_urls"]:
                    m["client_urls"] = [m["peer_urls"][0].replace("2380", "2379")]
                    m["name"] = "e%d" % (m["id_int"] - 0xa0)
        return "c1", [dict(m) for m in self.members]

    def member_health(self, member, timeout=None):
        up = bool(member["client_urls"]) and member["id"] not in self.dead
        return {"healthy": up, "reason": "" if up else "down", "status": None}

    def member_add(self, peer_urls, is_learner=True):
        if self.unhealthy_adds:
            self.unhealthy_adds -= 1
            raise EtcdAPIError("etcdserver: unhealthy cluster", etcd_message="etcdserver: unhealthy cluster")
        i = int(peer_urls[0].split(".")[3].split(":")[0])
        m = self._member(i, "", started=False, learner=is_learner)
        self.members.append(m)
        self.writes.append(("add", peer_urls[0], is_learner))
        return dict(m)

    def member_remove(self, member_id):
        self.members = [m for m in self.members if m["id_int"] != member_id]
        self.writes.append(("remove", member_id))

    def member_promote(self, member_id):
        if self.catch_up_after:
            self.catch_up_after -= 1
            raise EtcdLearnerNotReadyError("x", etcd_message="can only promote a learner member which is in sync")
        for m in self.members:
            if m["id_int"] == member_id:
                m["is_learner"] = False
        self.writes.append(("promote", member_id))


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def manager(cluster, **kw):
    clock = Clock()
    return MemberManager(cluster, sleep=clock.sleep, clock=clock, **kw)


PEER4 = ["https://10.0.0.4:2380"]


def test_check_mode_plans_without_writing():
    c = FakeCluster()
    res = manager(c, check_mode=True).present("e4", PEER4)
    assert res["changed"] and [a.split()[0] for a in res["actions"]] == ["add", "promote"]
    assert c.writes == []
    assert res["member"]["is_learner"] is False
    assert "e4=https://10.0.0.4:2380" in res["initial_cluster"]


def test_add_learner_only_then_idempotent():
    c = FakeCluster()
    res = manager(c).present("e4", PEER4, promote=False)
    assert res["changed"] and c.writes == [("add", PEER4[0], True)]
    assert res["initial_cluster"].rsplit(",", maxsplit=1)[-1] == "e4=https://10.0.0.4:2380"
    res = manager(c).present("e4", PEER4, promote=False)
    assert not res["changed"] and len(c.writes) == 1


def test_promote_waits_for_start_and_catch_up():
    c = FakeCluster()
    manager(c).present("e4", PEER4, promote=False)
    c.start_after_polls = c.lists + 3
    c.catch_up_after = 2
    res = manager(c, wait_timeout=60).present("e4", PEER4)
    assert res["changed"] and res["member"]["is_learner"] is False
    assert c.writes[-1][0] == "promote"
    assert not manager(c).present("e4", PEER4)["changed"]


def test_promote_wait_is_bounded_and_explains():
    c = FakeCluster()
    manager(c).present("e4", PEER4, promote=False)
    with pytest.raises(EtcdTimeoutError, match="not promoted within 10s: it has not started"):
        manager(c, wait_timeout=10).present("e4", PEER4)


def test_unhealthy_cluster_answer_is_retried_bounded():
    c = FakeCluster()
    c.unhealthy_adds = 2
    assert manager(c).present("e4", PEER4, promote=False)["changed"]
    c2 = FakeCluster()
    c2.unhealthy_adds = 1000
    with pytest.raises(EtcdAPIError, match="unhealthy"):
        manager(c2, wait_timeout=1).present("e4", PEER4, promote=False)
    # the retry has its own bound: a short learner wait does not cut it short
    c3 = FakeCluster()
    c3.unhealthy_adds = 10
    assert manager(c3, wait_timeout=1).present("e4", PEER4, promote=False)["changed"]


def test_add_refused_when_a_voter_is_dead():
    c = FakeCluster()
    c.dead.add("a3")
    with pytest.raises(EtcdQuorumError):
        manager(c).present("e4", PEER4)
    assert c.writes == []


def test_absent_by_name_id_and_url():
    c = FakeCluster()
    assert manager(c, check_mode=True).absent("e3")["changed"] and c.writes == []
    res = manager(c).absent("e3")
    assert res["removed"]["name"] == "e3" and c.writes == [("remove", 0xa3)]
    assert not manager(c).absent("e3")["changed"]
    assert manager(c).absent(peer_urls=["https://10.0.0.2:2380"])["changed"]
    with pytest.raises(EtcdQuorumError, match="last voting member"):
        manager(c).absent("a1")


def test_replace_removes_dead_then_adds_and_is_idempotent():
    c = FakeCluster()
    c.dead.add("a3")
    with pytest.raises(EtcdQuorumError, match=r"refusing to replace e2 .*: it is healthy"):
        manager(c).replace("e2", "e4", PEER4)
    res = manager(c).replace("e3", "e4", PEER4, promote=False)
    assert [w[0] for w in c.writes] == ["remove", "add"]
    assert res["removed"][0]["name"] == "e3"
    assert "e3=" not in res["initial_cluster"]
    res = manager(c).replace("e3", "e4", PEER4, promote=False)
    assert not res["changed"]


def test_replace_same_peer_urls_reinstalled_host():
    c = FakeCluster()
    c.dead.add("a3")
    same = ["https://10.0.0.3:2380"]
    res = manager(c).replace("e3", "e3", same, promote=False)
    assert [w[0] for w in c.writes] == ["remove", "add"] and res["member"]["is_learner"]
    # the new learner carries the same peer URLs: it is the replacement, not a target
    assert not manager(c).replace("e3", "e3", same, promote=False)["changed"]


def test_name_clash_is_a_conflict():
    c = FakeCluster()
    with pytest.raises(EtcdConflictError, match="already used"):
        manager(c).present("e1", PEER4)


def test_cluster_info_names_the_leader_only_when_it_says_so_itself():
    cluster = FakeCluster()
    cluster.dead.add("a1")

    def health(member, timeout=None):
        up = member["id"] not in cluster.dead
        # followers report a2 as leader; the dead a1 answers nothing
        return {"healthy": up, "reason": "" if up else "down", "status": {"leader": "a2"} if up else None}

    cluster.member_health = health
    info = cluster_info(cluster)
    leaders = [m["name"] for m in info["members"] if m["is_leader"]]
    assert leaders == ["e2"]
    assert [m["reason"] for m in info["members"]] == ["down", "", ""]
