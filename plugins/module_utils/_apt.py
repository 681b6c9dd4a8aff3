# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions behind the package_lists module: are a node's apt package lists good for what it must install?

Age is not the question (a node built from an image whose sources changed after its last
``apt-get update`` has young, useless lists). Two facts are: whether the sources changed since
the last update this collection ran (a digest of the source files, recorded on the node), and
whether apt knows a candidate for every wanted package.
"""

from __future__ import annotations

import glob
import hashlib
import os

SOURCES_LIST = "/etc/apt/sources.list"
SOURCES_DIR = "/etc/apt/sources.list.d"


def source_files(sources_list=SOURCES_LIST, sources_dir=SOURCES_DIR):
    """The files apt reads its sources from, in a stable order."""
    files = [sources_list] if os.path.isfile(sources_list) else []
    for pattern in ("*.list", "*.sources"):
        files.extend(glob.glob(os.path.join(sources_dir, pattern)))
    return sorted(files)


def sources_digest(files):
    """sha256 over the names and contents of ``files``: changes when any source changes."""
    digest = hashlib.sha256()
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        digest.update(path.encode() + b"\0" + data + b"\0")
    return digest.hexdigest()


def source_uris(texts):
    """The repository URIs in one-line (``deb URI suite ...``) and deb822 (``URIs:``) source texts."""
    uris = []
    for text in texts:
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if words[0] == "deb":
                # deb [options] URI suite components
                rest = words[1:]
                if rest and rest[0].startswith("["):
                    while rest and not rest[0].endswith("]"):
                        rest = rest[1:]
                    rest = rest[1:]
                if rest:
                    uris.append(rest[0])
            elif words[0] == "URIs:":
                uris.extend(words[1:])
    return list(dict.fromkeys(uris))


def query_name(spec):
    """The package name apt-cache is asked about: ``name=version`` and ``name>=version`` lose the version."""
    for sep in (">=", "<=", "="):
        if sep in spec:
            return spec.split(sep, 1)[0]
    return spec


def parse_policy(text):
    """``apt-cache policy`` output -> {package: candidate or None}; unknown packages are simply absent."""
    result = {}
    current = None
    for line in text.splitlines():
        if line and not line[0].isspace() and line.rstrip().endswith(":"):
            current = line.rstrip()[:-1]
            result[current] = None
        elif current is not None and line.strip().startswith("Candidate:"):
            value = line.split(":", 1)[1].strip()
            result[current] = None if value == "(none)" else value
    return result


def unknown_packages(names, policy):
    """Wanted packages without an installable candidate, in the order asked."""
    return [name for name in names if not policy.get(query_name(name))]


def update_reason(recorded_digest, current_digest, unknown):
    """Why the lists must be fetched again, or None when they will do."""
    if recorded_digest != current_digest:
        return "the apt sources changed since the last update" if recorded_digest else "no update recorded for these apt sources"
    if unknown:
        return "no candidate for " + ", ".join(unknown)
    return None
