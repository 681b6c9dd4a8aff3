"""The live part of remove_node.yml's decision: Nodes and etcd members with their health."""

from ansible_collections.quorum.k8s.plugins.module_utils._removal import removal_plan

GROUPS = {"control_plane": ["cp1", "cp2", "cp3"], "worker": ["w1", "w2"], "meta_worker": [], "frontend": ["fe1"]}


def node(name, ready=True):
    return {"metadata": {"name": name},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "Unknown"}]}}


def member(name, healthy=True, learner=False):
    return {"name": name, "healthy": healthy, "is_learner": learner}


NODES = [node("cp1"), node("cp2"), node("cp3"), node("w1"), node("w2", ready=False)]
MEMBERS = [member("cp1"), member("cp2"), member("cp3")]


def plan(names, nodes=None, members=None):
    return removal_plan(names, GROUPS, NODES if nodes is None else nodes, MEMBERS if members is None else members,
                        "control_plane")


def test_control_plane_is_drained_and_its_member_removed():
    assert plan(["cp1"]) == {"nodes": ["cp1"], "not_ready": [], "etcd_members": ["cp1"], "errors": []}


def test_dead_worker_is_not_waited_for():
    result = plan(["w2"])
    assert result["nodes"] == ["w2"] and result["not_ready"] == ["w2"] and result["errors"] == []


def test_frontend_needs_no_node():
    assert plan(["fe1"])["errors"] == []


def test_host_not_in_the_cluster_is_refused():
    result = plan(["w1"], nodes=[n for n in NODES if n["metadata"]["name"] != "w1"])
    assert any("host w1 is not in the cluster" in e for e in result["errors"])


def test_control_plane_whose_node_is_gone_still_loses_its_member():
    result = plan(["cp3"], nodes=NODES[:2])
    assert result["etcd_members"] == ["cp3"] and result["nodes"] == [] and result["errors"] == []


def test_quorum_given_health():
    # cp3 is down: removing cp1 leaves cp2 healthy, cp3 not: 1 of 2, no majority
    sick = [member("cp1"), member("cp2"), member("cp3", healthy=False)]
    result = plan(["cp1"], members=sick)
    assert any("1 healthy of 2" in e and "unhealthy: cp3" in e for e in result["errors"])
    # removing the sick one itself is fine
    assert plan(["cp3"], members=sick)["errors"] == []


def test_learners_do_not_count_as_voters():
    members = MEMBERS + [member("cp4", healthy=False, learner=True)]
    assert plan(["cp1"], members=members)["errors"] == []
