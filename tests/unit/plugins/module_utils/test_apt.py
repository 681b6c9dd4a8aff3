"""The package_lists decisions: when a node's apt lists must be fetched again."""
from __future__ import annotations

from ansible_collections.quorum.k8s.plugins.module_utils import _apt

POLICY = """keepalived:
  Installed: (none)
  Candidate: 1:2.3.3-1
  Version table:
     1:2.3.3-1 500
        500 http://10.231.0.1/debian trixie/main amd64 Packages
haproxy:
  Installed: 3.0.11-1
  Candidate: 3.0.11-1
  Version table:
 *** 3.0.11-1 100
        100 /var/lib/dpkg/status
mail-transport-agent:
  Installed: (none)
  Candidate: (none)
  Version table:
"""


def test_policy_candidates_and_virtual_packages():
    policy = _apt.parse_policy(POLICY)
    assert policy == {"keepalived": "1:2.3.3-1", "haproxy": "3.0.11-1", "mail-transport-agent": None}


def test_unknown_packages_keep_the_order_asked_and_ignore_versions():
    policy = _apt.parse_policy(POLICY)
    names = ["jq", "keepalived=1:2.3.3-1", "mail-transport-agent", "haproxy"]
    assert _apt.unknown_packages(names, policy) == ["jq", "mail-transport-agent"]


def test_empty_lists_know_nothing():
    assert _apt.unknown_packages(["keepalived"], _apt.parse_policy("")) == ["keepalived"]


def test_update_reasons():
    assert _apt.update_reason("", "abc", []) == "no update recorded for these apt sources"
    assert _apt.update_reason("old", "abc", []) == "the apt sources changed since the last update"
    assert _apt.update_reason("abc", "abc", ["jq"]) == "no candidate for jq"
    assert _apt.update_reason("abc", "abc", []) is None


def test_digest_follows_names_and_contents(tmp_path):
    d = tmp_path / "sources.list.d"
    d.mkdir()
    (d / "lab.sources").write_text("Types: deb\nURIs: http://10.231.0.1/debian\n")
    (d / "ignored.save").write_text("x")
    files = _apt.source_files(str(tmp_path / "sources.list"), str(d))
    assert files == [str(d / "lab.sources")]
    first = _apt.sources_digest(files)
    assert _apt.sources_digest(files) == first
    (d / "lab.sources").write_text("Types: deb\nURIs: http://10.231.0.2/debian\n")
    assert _apt.sources_digest(files) != first


def test_source_uris_one_line_and_deb822():
    texts = [
        "deb [arch=amd64 signed-by=/k.gpg] http://a/debian trixie main  # comment\n# deb http://off/x\n",
        "Types: deb\nURIs: http://b/debian http://a/debian\nSuites: trixie\n",
    ]
    assert _apt.source_uris(texts) == ["http://a/debian", "http://b/debian"]
