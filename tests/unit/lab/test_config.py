"""Instance names, namespaces and paths."""

import pytest

from lab import config


def test_default_instance_and_namespace():
    assert config.instance_name({}) == "default"
    assert config.netns_name("default") == "quorum-lab"
    assert config.netns_name("cluster-stacked") == "quorum-lab-cluster-stacked"


@pytest.mark.parametrize("bad", ["", "Upper", "under_score", "-lead", "x" * 25, "a/b"])
def test_bad_instance_names(bad):
    with pytest.raises(config.LabError):
        config.check_instance(bad)


def test_paths_follow_home_and_instance(tmp_path):
    p = config.paths({"QUORUM_LAB_HOME": str(tmp_path), "QUORUM_LAB_INSTANCE": "smoke"})
    assert p.run == tmp_path / "run" / "smoke"
    assert p.inventory == tmp_path / "inventory" / "smoke.yml"
    assert p.vault_init == tmp_path / "run" / "smoke" / "vault" / "init.json"
    assert p.debian_repo == tmp_path / "mirror" / "debian"
    assert config.lab_home({}) == config.Path("/var/lib/quorum-lab")
