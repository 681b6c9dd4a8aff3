# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions behind the host_state module: does a node's state match what a role would write?

A role reads its files, packages, units and kernel settings in one call and runs its steps only
when something differs. The comparison is strict: any doubt (a file that cannot be read, a
unit systemd does not know) is a difference, so the role's own tasks then decide, as before.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import re
import stat

FILE_STATES = ("file", "directory", "absent")


DIGESTS = ("sha1", "sha256")


def file_facts(path, digests=("sha1",)):
    """What the node has at ``path`` (not following a link): its type, mode, owner, group and,
    for a regular file, the ``digests`` of its bytes (hashlib names, hexadecimal)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return {"state": "absent"}
    if stat.S_ISREG(st.st_mode):
        kind = "file"
    elif stat.S_ISDIR(st.st_mode):
        kind = "directory"
    else:
        kind = "other"
    facts = {"state": kind, "mode": "%04o" % stat.S_IMODE(st.st_mode),
             "owner": _name(pwd.getpwuid, st.st_uid), "group": _name(grp.getgrgid, st.st_gid)}
    if kind == "file" and digests:
        hashes = dict((name, hashlib.new(name)) for name in digests)
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                for h in hashes.values():
                    h.update(block)
        facts.update((name, h.hexdigest()) for name, h in hashes.items())
    return facts


def _name(lookup, ident):
    try:
        return lookup(ident)[0]
    except KeyError:
        return str(ident)


def file_differences(wanted, facts):
    """What differs between one wanted file (``path``, ``state``, and optionally ``sha1`` or
    ``sha256``, ``mode``, ``owner``, ``group``) and ``facts`` of file_facts."""
    path = wanted["path"]
    state = wanted.get("state") or "file"
    if state not in FILE_STATES:
        raise ValueError("%s: state must be one of %s, not %r" % (path, ", ".join(FILE_STATES), state))
    if facts["state"] != state:
        return ["%s: is %s, wanted %s" % (path, facts["state"], state)]
    if state == "absent":
        return []
    out = []
    if any(wanted.get(name) and facts.get(name) != wanted[name].lower() for name in DIGESTS):
        out.append("%s: content differs" % path)
    if wanted.get("mode") and int(str(wanted["mode"]), 8) != int(facts["mode"], 8):
        out.append("%s: mode %s, wanted %s" % (path, facts["mode"], wanted["mode"]))
    for key in ("owner", "group"):
        if wanted.get(key) and facts[key] != wanted[key]:
            out.append("%s: %s %s, wanted %s" % (path, key, facts[key], wanted[key]))
    return out


def installed_packages(dpkg_query_out):
    """The installed packages in ``dpkg-query -W -f '${Package}\\t${db:Status-Abbrev}\\n'`` output
    (C(ii) is installed; a package that is removed but keeps its configuration is C(rc))."""
    names = set()
    for line in dpkg_query_out.splitlines():
        name, _sep, status = line.partition("\t")
        if status.strip() == "ii":
            names.add(name.split(":")[0])
    return names


def package_differences(names, installed):
    """The packages of ``names`` (a version after ``=`` is ignored) that are not installed."""
    return ["package %s: not installed" % n for n in (n.split("=")[0] for n in names) if n not in installed]


def parse_systemctl_show(out, names):
    """``systemctl show -p Id,UnitFileState,ActiveState NAME...`` output: one block per unit, in
    the order asked. A unit systemd does not know has an empty UnitFileState."""
    blocks, current = [], {}
    for line in out.splitlines() + [""]:
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            continue
        key, _sep, value = line.partition("=")
        current[key] = value
    facts = {}
    for name, block in zip(names, blocks):
        facts[name] = {"enabled": block.get("UnitFileState", ""), "active": block.get("ActiveState", "")}
    for name in names[len(blocks):]:
        facts[name] = {"enabled": "", "active": ""}
    return facts


def unit_differences(wanted, facts):
    """What differs between wanted units (``name``, optional ``enabled`` and ``active`` booleans)
    and ``facts`` of parse_systemctl_show."""
    out = []
    for unit in wanted:
        have = facts.get(unit["name"], {"enabled": "", "active": ""})
        if unit.get("enabled") is not None and (have["enabled"] == "enabled") != unit["enabled"]:
            out.append("unit %s: %s, wanted %s" % (unit["name"], have["enabled"] or "unknown",
                                                   "enabled" if unit["enabled"] else "not enabled"))
        if unit.get("active") is not None and (have["active"] == "active") != unit["active"]:
            out.append("unit %s: %s, wanted %s" % (unit["name"], have["active"] or "unknown",
                                                   "active" if unit["active"] else "not active"))
    return out


def user_differences(wanted, read):
    """Users (``name``, optional ``shell`` and ``home``) that are missing or differ; ``read(name)``
    returns the pwd entry, or None when there is no such user."""
    out = []
    for user in wanted:
        have = read(user["name"])
        if have is None:
            out.append("user %s: missing" % user["name"])
            continue
        for key, value in (("shell", have.pw_shell), ("home", have.pw_dir)):
            if user.get(key) and value != user[key]:
                out.append("user %s: %s %s, wanted %s" % (user["name"], key, value, user[key]))
    return out


def sysctl_differences(wanted, read):
    """Kernel settings (``{name: value}``) whose current value differs; ``read(name)`` returns the
    value of /proc/sys, or None when the setting does not exist. Whitespace is normalised, as the
    kernel separates the fields of some values with tabs."""
    out = []
    for name, value in sorted(wanted.items()):
        have = read(name)
        want = " ".join(str(value).split())
        if have is None or " ".join(have.split()) != want:
            out.append("sysctl %s: %s, wanted %s" % (name, "missing" if have is None else " ".join(have.split()), want))
    return out


# An active swap line of /etc/fstab: the container_runtime role comments out what this matches.
FSTAB_SWAP = re.compile(r"^[^#\s]+\s+\S+\s+swap\s+", re.MULTILINE)


def swap_differences(proc_swaps, fstab):
    """Why swap is not off: areas in use (``/proc/swaps`` has lines after its header) or an active
    swap line in ``fstab`` (the file's text; None when there is none)."""
    out = []
    areas = [line for line in proc_swaps.splitlines()[1:] if line.strip()]
    if areas:
        out.append("swap: %d area(s) in use" % len(areas))
    if fstab and FSTAB_SWAP.search(fstab):
        out.append("/etc/fstab: a swap line is active")
    return out
