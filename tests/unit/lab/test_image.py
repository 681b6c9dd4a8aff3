"""The image carries no apt state of its build that could pass for fresh in a guest."""
from __future__ import annotations

import os

from lab import image


def test_build_apt_state_is_forgotten(tmp_path):
    lists = tmp_path / "var/lib/apt/lists"
    (lists / "partial").mkdir(parents=True)
    (lists / "deb.debian.org_debian_dists_trixie_main_binary-amd64_Packages").write_text("Package: jq\n")
    (lists / "lock").write_text("")
    cache = tmp_path / "var/cache/apt/archives"
    cache.mkdir(parents=True)
    (tmp_path / "var/cache/apt/pkgcache.bin").write_text("x")
    (cache / "jq.deb").write_text("x")
    periodic = tmp_path / "var/lib/apt/periodic"
    periodic.mkdir(parents=True)
    (periodic / "update-success-stamp").write_text("")

    image._forget_package_lists(tmp_path)

    assert sorted(p.name for p in lists.rglob("*") if p.is_file()) == ["lock"]
    assert not [p for p in (tmp_path / "var/cache/apt").rglob("*") if p.is_file()]
    assert not (periodic / "update-success-stamp").exists()
    assert os.stat(lists).st_mtime == 0
