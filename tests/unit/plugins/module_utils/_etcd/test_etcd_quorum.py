"""Quorum arithmetic and member matching (pure functions)."""

from __future__ import annotations

import pytest

from ansible_collections.quorum.k8s.plugins.module_utils._etcd import quorum as q
from ansible_collections.quorum.k8s.plugins.module_utils._etcd.errors import EtcdConflictError, EtcdQuorumError


def mk(mid, name, peer, learner=False, client=True):
    return {"id": mid, "id_int": int(mid, 16), "name": name, "peer_urls": [peer],
            "client_urls": ["https://%s:2379" % name] if client else [], "is_learner": learner}


M1 = mk("a1", "e1", "https://10.0.0.1:2380")
M2 = mk("a2", "e2", "https://10.0.0.2:2380")
M3 = mk("a3", "e3", "https://10.0.0.3:2380")
M4 = mk("a4", "", "https://10.0.0.4:2380", learner=True, client=False)
ALL_UP = {"a1": True, "a2": True, "a3": True, "a4": True}


@pytest.mark.parametrize("voters,need", [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (6, 4), (7, 4)])
def test_quorum(voters, need):
    assert q.quorum(voters) == need


def test_remove_healthy_member_of_three_is_allowed():
    q.check_remove([M1, M2, M3], ALL_UP, M3)


def test_remove_refused_when_remaining_healthy_lack_majority():
    health = dict(ALL_UP, a3=False)
    with pytest.raises(EtcdQuorumError, match=r"refusing to remove e2.*quorum needs 2.*e3"):
        q.check_remove([M1, M2, M3], health, M2)
    q.check_remove([M1, M2, M3], health, M2, force=True)


def test_remove_dead_member_is_allowed():
    q.check_remove([M1, M2, M3], dict(ALL_UP, a3=False), M3)


def test_remove_last_voter_refused_even_forced():
    with pytest.raises(EtcdQuorumError, match="last voting member"):
        q.check_remove([M1], {"a1": True}, M1, force=True)


def test_remove_learner_never_touches_quorum():
    q.check_remove([M1, M2, M3, M4], {"a1": True, "a2": False, "a3": False, "a4": False}, M4)


def test_add_refused_while_voter_unhealthy_unless_forced():
    with pytest.raises(EtcdQuorumError, match="unhealthy.*e2"):
        q.check_add([M1, M2, M3], dict(ALL_UP, a2=False))
    q.check_add([M1, M2, M3], dict(ALL_UP, a2=False), force=True)


def test_add_refused_while_another_learner_pending():
    with pytest.raises(EtcdQuorumError, match="learner"):
        q.check_add([M1, M2, M3, M4], dict(ALL_UP, a4=False))


def test_promote_guard():
    # 2 voters, one dead: promoting makes 3 voters needing 2 healthy: 1 + learner = 2, allowed
    q.check_promote([M1, M2, M4], {"a1": True, "a2": False}, M4)
    # 4 voters, two dead: 5 voters need 3: 2 + learner = 3, allowed; three dead is refused
    m5 = mk("a5", "e5", "https://10.0.0.5:2380")
    q.check_promote([M1, M2, M3, m5, M4], {"a1": True, "a2": True}, M4)
    with pytest.raises(EtcdQuorumError):
        q.check_promote([M1, M2, M3, m5, M4], {"a1": True}, M4)


def test_match_and_conflicts():
    members = [M1, M2, M3]
    assert q.match_peer_urls(members, ["https://10.0.0.2:2380/"]) is M2
    assert q.match_peer_urls(members, ["HTTPS://10.0.0.9:2380"]) is None
    with pytest.raises(EtcdConflictError, match="name e2 is already used"):
        q.check_conflicts(members, "e2", ["https://10.0.0.9:2380"], None)
    with pytest.raises(EtcdConflictError, match="belong to member e2"):
        q.check_conflicts(members, "other", ["https://10.0.0.2:2380"], M2)
    with pytest.raises(EtcdConflictError, match="not exactly"):
        q.check_conflicts(members, "e2", ["https://10.0.0.2:2380", "https://10.1.0.2:2380"], M2)
    q.check_conflicts(members, "e2", ["https://10.0.0.2:2380"], M2)


def test_select_by_name_id_and_url():
    members = [M1, M2, M3]
    assert q.select(members, "e3") == [M3]
    assert q.select(members, "a3") == [M3]
    assert q.select(members, "0xa3") == [M3]
    assert q.select(members, "https://10.0.0.3:2380") == [M3]
    assert q.select(members, "nope") == []


def test_initial_cluster_names_the_joining_member():
    ic = q.initial_cluster([M1, M2, M4], M4, "e4")
    assert ic == "e1=https://10.0.0.1:2380,e2=https://10.0.0.2:2380,e4=https://10.0.0.4:2380"


def test_summary():
    s = q.summary([M1, M2, M3, M4], dict(ALL_UP, a3=False, a4=False))
    assert s == {"voters": 3, "learners": 1, "healthy_voters": 2, "quorum": 2, "has_quorum": True,
                 "all_healthy": False}
