import pytest

from mirror_builder import debian

PACKAGES = """\
Package: iptables
Version: 1.8.11-2
Architecture: amd64
Depends: libip4tc2 (= 1.8.11-2), libxtables12 (>= 1.8.9), netbase, libc6 (>= 2.38), debconf | debconf-2.0
Filename: pool/main/i/iptables/iptables_1.8.11-2_amd64.deb
Size: 100
SHA256: aa
Description: administration tools
 continued line

Package: libip4tc2
Version: 1.8.11-2
Architecture: amd64
Depends: libc6 (>= 2.14)
Filename: pool/main/i/iptables/libip4tc2_1.8.11-2_amd64.deb
Size: 10
SHA256: bb

Package: libxtables12
Version: 1.8.11-2
Architecture: amd64
Pre-Depends: libc6
Depends: awk-impl | mawk
Filename: pool/main/i/iptables/libxtables12.deb
Size: 10
SHA256: cc

Package: mawk
Version: 1.3.4
Architecture: amd64
Provides: awk
Filename: pool/main/m/mawk.deb
Size: 10
SHA256: dd

Package: netbase
Version: 6.5
Architecture: all
Filename: pool/main/n/netbase.deb
Size: 10
SHA256: ee

Package: libc6
Version: 2.41-12
Architecture: amd64
Depends: libgcc-s1
Filename: pool/main/g/glibc/libc6.deb
Size: 10
SHA256: ff

Package: libgcc-s1
Version: 14.2.0-19
Architecture: amd64
Depends: gcc-14-base (= 14.2.0-19), libc6 (>= 2.35)
Filename: pool/main/g/gcc/libgcc-s1.deb
Size: 10
SHA256: 11

Package: gcc-14-base
Version: 14.2.0-19
Architecture: amd64
Filename: pool/main/g/gcc/gcc-14-base.deb
Size: 10
SHA256: 22

Package: broken
Version: 1
Architecture: amd64
Depends: nowhere-to-be-found
Filename: pool/main/b/broken.deb
Size: 1
SHA256: 33
"""


def test_parse_packages():
    index = debian.parse_packages(PACKAGES)
    assert index["iptables"].version == "1.8.11-2"
    assert index["iptables"].filename.endswith("iptables_1.8.11-2_amd64.deb")
    assert index["iptables"].size == 100 and index["iptables"].sha256 == "aa"
    assert index["libxtables12"].pre_depends == "libc6"


def test_continuation_lines_are_joined():
    stanza = debian.parse_stanzas(PACKAGES)[0]
    assert stanza["Description"] == "administration tools\ncontinued line"


def test_resolve_closure_with_alternatives_provides_and_skips():
    index = debian.parse_packages(PACKAGES)
    names = [p.name for p in debian.resolve(["iptables"], index)]
    assert names == sorted(["iptables", "libip4tc2", "libxtables12", "mawk", "netbase", "libc6",
                            "libgcc-s1", "gcc-14-base"])
    assert "debconf" not in names


def test_resolve_missing_dependency_names_it():
    index = debian.parse_packages(PACKAGES)
    with pytest.raises(debian.DebianError, match="'broken' depends on 'nowhere-to-be-found'"):
        debian.resolve(["broken"], index)
    with pytest.raises(debian.DebianError, match="'absent' is not in the index"):
        debian.resolve(["absent"], index)


def test_release_checksums():
    text = """Origin: Debian
MD5Sum:
 00 1 main/binary-amd64/Packages.xz
SHA256:
 abc 9678380 main/binary-amd64/Packages.xz
 def 56620099 main/binary-amd64/Packages
Acquire-By-Hash: yes
"""
    sums = debian.release_checksums(text)
    assert sums == {"main/binary-amd64/Packages.xz": ("abc", 9678380),
                    "main/binary-amd64/Packages": ("def", 56620099)}


def test_configured_mirror(tmp_path):
    (tmp_path / "a.sources").write_text("Types: deb\nURIs: http://mirror.example/debian/\nSuites: trixie\n")
    assert debian.configured_mirror(str(tmp_path)) == "http://mirror.example/debian"
    other = tmp_path / "b"
    other.mkdir()
    (other / "x.list").write_text("deb [arch=amd64] http://m2.example/debian bookworm main\n")
    assert debian.configured_mirror(str(other)) == "http://m2.example/debian"
