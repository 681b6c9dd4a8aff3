"""Snapshot, integrity check and restore with the real etcd tools, as playbooks/etcd_backup.yml and
etcd_restore.yml do on the nodes: etcdctl snapshot save, etcdutl (or etcdctl on 3.4) snapshot status,
snapshot restore into a new single-member cluster, keys read back."""

from __future__ import annotations

import json
import os
import subprocess


def etcdctl(kit, pki, endpoint, *args):
    env = dict(os.environ, ETCDCTL_API="3", ETCDCTL_ENDPOINTS=endpoint, ETCDCTL_CACERT=pki.ca,
               ETCDCTL_CERT=pki.cert, ETCDCTL_KEY=pki.key)
    return subprocess.run([kit.etcdctl] + list(args), env=env, capture_output=True, text=True, timeout=60, check=False)


def offline_tool(kit, *args):
    """etcdutl on etcd >= 3.5, etcdctl on 3.4 (the same subcommands)."""
    tool = [kit.etcdutl] if kit.etcdutl else [kit.etcdctl]
    return subprocess.run(tool + list(args), env=dict(os.environ, ETCDCTL_API="3"),
                          capture_output=True, text=True, timeout=60, check=False)


def test_snapshot_status_restore(cluster, pki, tmp_path, etcd_kit):
    kit = etcd_kit
    client = cluster.client()
    for i in range(50):
        client.put("/quorum/backup/key%02d" % i, "value-%d" % i)
    snap = str(tmp_path / "snap.db")

    saved = etcdctl(kit, pki, cluster.endpoints("m2")[0], "snapshot", "save", snap)
    assert saved.returncode == 0, saved.stderr
    status = offline_tool(kit, "snapshot", "status", snap, "-w", "json")
    assert status.returncode == 0, status.stderr
    st = json.loads(status.stdout)
    assert st["totalKey"] >= 50 and st["revision"] >= 50 and st["hash"]

    # a damaged copy fails the integrity check
    bad = str(tmp_path / "bad.db")
    with open(snap, "rb") as src, open(bad, "wb") as dst:
        data = bytearray(src.read())
        data[len(data) // 2: len(data) // 2 + 4096] = b"\0" * 4096
        dst.write(bytes(data))
    restored_bad = offline_tool(kit, "snapshot", "restore", bad, "--data-dir", str(tmp_path / "bad-data"))
    assert restored_bad.returncode != 0

    # restore into a brand-new single-member cluster and read the keys back
    r1 = kit.Member(str(tmp_path), pki, "r1")
    restored = offline_tool(kit, "snapshot", "restore", snap, "--name", "r1", "--data-dir", r1.data_dir,
                            "--initial-cluster", "r1=%s" % r1.peer_url,
                            "--initial-cluster-token", "quorum-restore",
                            "--initial-advertise-peer-urls", r1.peer_url)
    assert restored.returncode == 0, restored.stderr
    try:
        r1.start("r1=%s" % r1.peer_url, token="quorum-restore")
        rc = cluster.client([r1.client_url])
        info = kit.wait_healthy(rc, 60, 2)
        assert info["voters"] == 1 and info["members"][0]["name"] == "r1"
        assert info["cluster_id"] != cluster.client().member_list()[0]
        assert rc.get("/quorum/backup/key07") == "value-7"
        assert rc.count("/quorum/backup/") == 50
    finally:
        r1.stop()
