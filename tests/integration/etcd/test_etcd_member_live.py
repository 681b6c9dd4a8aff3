"""etcd_member and etcd_info against a real 3-member TLS etcd cluster on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import socket
import time


def ok(res):
    assert res.get("failed") is not True, res.get("msg")
    return res


def failed(res):
    assert res.get("failed") is True, res
    return res["msg"]


def names(client):
    return sorted((m["name"] or m["id"], m["is_learner"]) for m in client.member_list()[1])


def dead_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def member_args(cluster, member, **extra):
    args = cluster.pki.conn(cluster.endpoints())
    args.update(name=member.name, peer_urls=[member.peer_url])
    args.update(extra)
    return args


def test_info_reports_healthy_cluster(cluster, module):
    res = ok(module("etcd_info", cluster.pki.conn(cluster.endpoints())))
    assert res["reachable"] is True
    assert res["voters"] == 3 and res["healthy_voters"] == 3 and res["quorum"] == 2
    assert res["has_quorum"] and res["all_healthy"]
    assert sorted(m["name"] for m in res["members"]) == ["m1", "m2", "m3"]
    assert res["alarms"] == []


def test_add_learner_start_promote(cluster, module):
    client = cluster.client()
    m4 = cluster.spare("m4")
    before = names(client)

    # check mode: a plan, a diff, no change
    res = ok(module("etcd_member", member_args(cluster, m4, promote=False), check=True, diff=True))
    assert res["changed"] is True
    assert res["actions"] == ["add learner m4 [%s]" % m4.peer_url]
    assert m4.peer_url in res["diff"]["after"] and m4.peer_url not in res["diff"]["before"]
    assert names(client) == before

    # the real add: a learner, not started
    res = ok(module("etcd_member", member_args(cluster, m4, promote=False)))
    assert res["changed"] is True
    assert res["member"]["is_learner"] is True and res["member"]["name"] == ""
    expected = ",".join(sorted("%s=%s" % (m.name, m.peer_url) for m in cluster.members + [m4]))
    assert res["initial_cluster"] == expected
    assert len(client.member_list()[1]) == 4

    # idempotent while it is still a learner
    res = ok(module("etcd_member", member_args(cluster, m4, promote=False)))
    assert res["changed"] is False and res["actions"] == []

    # start the learner as a joining member, then promote (bounded wait)
    m4.start(res["initial_cluster"], state="existing")
    started = time.monotonic()
    res = ok(module("etcd_member", member_args(cluster, m4, wait_timeout=90)))
    assert res["changed"] is True
    assert res["member"]["is_learner"] is False and res["member"]["name"] == "m4"
    assert any(a.startswith("promote") for a in res["actions"])
    assert time.monotonic() - started < 90
    assert names(client) == [("m1", False), ("m2", False), ("m3", False), ("m4", False)]

    res = ok(module("etcd_member", member_args(cluster, m4)))
    assert res["changed"] is False
    info = ok(module("etcd_info", dict(cluster.pki.conn(cluster.endpoints()), wait_healthy=60)))
    assert info["voters"] == 4 and info["healthy_voters"] == 4 and info["quorum"] == 3


def test_promote_times_out_while_learner_not_started(cluster, module):
    m4 = cluster.spare("m4")
    msg = failed(module("etcd_member", member_args(cluster, m4, wait_timeout=3)))
    assert "was not promoted within 3s" in msg and "has not started" in msg
    learners = [m for m in cluster.client().member_list()[1] if m["is_learner"]]
    assert [m["peer_urls"] for m in learners] == [[m4.peer_url]]


def test_remove_check_then_real_then_idempotent(cluster, module):
    client = cluster.client()
    args = dict(cluster.pki.conn(cluster.endpoints("m1", "m2")), state="absent", name="m3")
    res = ok(module("etcd_member", args, check=True, diff=True))
    assert res["changed"] is True and res["actions"][0].startswith("remove m3")
    assert "m3" in res["diff"]["before"] and "m3" not in res["diff"]["after"]
    assert len(client.member_list()[1]) == 3

    res = ok(module("etcd_member", args))
    assert res["changed"] is True and res["removed"]["name"] == "m3"
    cluster.members[2].stop()
    client = cluster.client(cluster.endpoints("m1", "m2"))
    assert names(client) == [("m1", False), ("m2", False)]

    res = ok(module("etcd_member", args))
    assert res["changed"] is False


def test_quorum_guard_refuses_removal_and_addition(cluster, module):
    client = cluster.client()
    cluster.kill("m3")  # m3 dead: m1 and m2 still hold quorum (2 of 3)
    live = cluster.pki.conn(cluster.endpoints("m1", "m2"))

    # removing a healthy member would leave m1 + dead m3: 1 healthy of 2, quorum 2
    msg = failed(module("etcd_member", dict(live, state="absent", name="m2")))
    assert "refusing to remove m2" in msg and "quorum needs 2" in msg and "m3" in msg
    # the same in check mode: the guard runs before anything is planned
    failed(module("etcd_member", dict(live, state="absent", name="m2"), check=True))

    # adding while a voter is down
    m4 = cluster.spare("m4")
    msg = failed(module("etcd_member", dict(live, name="m4", peer_urls=[m4.peer_url], promote=False)))
    assert "refusing to add a member while the cluster is unhealthy" in msg and "m3" in msg
    assert len(client.member_list()[1]) == 3

    # removing the dead member itself is safe: m1 + m2 remain, both healthy
    res = ok(module("etcd_member", dict(live, state="absent", name="m3")))
    assert res["changed"] is True
    assert names(cluster.client(cluster.endpoints("m1", "m2"))) == [("m1", False), ("m2", False)]


def test_replace_dead_member(cluster, module):
    cluster.kill("m3")
    live = cluster.pki.conn(cluster.endpoints("m1", "m2"))
    m4 = cluster.spare("m4")

    # a healthy member is not replaced without force
    msg = failed(module("etcd_member", dict(live, state="replace", replace="m2", name="m4",
                                            peer_urls=[m4.peer_url], promote=False)))
    assert "refusing to replace m2" in msg and "healthy" in msg

    args = dict(live, state="replace", replace="m3", name="m4", peer_urls=[m4.peer_url], promote=False)
    res = ok(module("etcd_member", args, check=True))
    assert res["changed"] is True
    assert [a.split()[0] for a in res["actions"]] == ["remove", "add"]
    assert len(cluster.client(live["endpoints"]).member_list()[1]) == 3

    res = ok(module("etcd_member", args))
    assert res["changed"] is True and res["removed"][0]["name"] == "m3"
    assert "m3=" not in res["initial_cluster"] and "m4=%s" % m4.peer_url in res["initial_cluster"]
    m4.start(res["initial_cluster"], state="existing")

    res = ok(module("etcd_member", dict(args, promote=True, wait_timeout=90)))
    assert res["changed"] is True and res["actions"][0].startswith("promote")
    res = ok(module("etcd_member", dict(args, promote=True)))
    assert res["changed"] is False
    info = ok(module("etcd_info", dict(live, wait_healthy=60)))
    assert sorted(m["name"] for m in info["members"]) == ["m1", "m2", "m4"]
    assert info["voters"] == 3 and info["healthy_voters"] == 3


def test_endpoint_failover_and_unreachable(cluster, module):
    port = dead_port()
    dead = "https://127.0.0.1:%d" % port
    res = ok(module("etcd_info", cluster.pki.conn([dead] + cluster.endpoints("m1"))))
    assert res["voters"] == 3

    msg = failed(module("etcd_member", dict(cluster.pki.conn([dead]), state="absent", name="m3")))
    assert dead in msg and "no etcd endpoint answered" in msg
    res = ok(module("etcd_info", dict(cluster.pki.conn([dead]), fail_on_unreachable=False)))
    assert res["reachable"] is False and dead in res["failures"]


def test_tls_errors_name_the_endpoint(cluster, module, pki):
    endpoint = cluster.endpoints("m1")
    # the server's certificate is not signed by the CA we trust
    args = dict(pki.conn(endpoint), ca_cert=pki.other_ca)
    msg = failed(module("etcd_info", args))
    assert endpoint[0] in msg and "TLS" in msg and "ca_cert" in msg
    # our client certificate is not signed by the CA etcd trusts
    args = dict(pki.conn(endpoint), client_cert=pki.stranger_cert, client_key=pki.stranger_key)
    msg = failed(module("etcd_member", dict(args, state="absent", name="m3")))
    assert endpoint[0] in msg
    assert len(cluster.client().member_list()[1]) == 3
