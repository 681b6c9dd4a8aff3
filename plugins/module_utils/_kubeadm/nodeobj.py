# -*- coding: utf-8 -*-
# Copyright (c) quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Labels and taints of a Node object: what to change, decided from the object read (no I/O here)."""

from __future__ import annotations

import time

from .errors import CommandError, KubeadmError

EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def _labels(node):
    return dict(((node or {}).get("metadata") or {}).get("labels") or {})


def _taints(node):
    return [dict(t) for t in ((node or {}).get("spec") or {}).get("taints") or []]


def _same(taint, key, effect, value=None, check_value=False):
    if taint.get("key") != key or (effect and taint.get("effect") != effect):
        return False
    return not check_value or (taint.get("value") or "") == (value or "")


def plan(node, labels=None, taints=None):
    """The kubectl arguments that bring ``node`` to the wanted labels and taints, and before/after views.

    ``labels``: key -> value, None to remove the label. ``taints``: dicts with key, value, effect
    and state (present, absent); an absent taint without effect goes with every effect.
    """
    have_labels = _labels(node)
    have_taints = _taints(node)
    label_args = []
    after_labels = dict(have_labels)
    for key in sorted(labels or {}):
        value = (labels or {})[key]
        if value is None:
            if key in have_labels:
                label_args.append("%s-" % key)
                del after_labels[key]
        elif have_labels.get(key) != str(value):
            label_args.append("%s=%s" % (key, value))
            after_labels[key] = str(value)

    taint_args = []
    after_taints = list(have_taints)
    for taint in taints or []:
        key, value, effect = taint.get("key"), taint.get("value"), taint.get("effect")
        if not key:
            raise KubeadmError("a taint needs a key: %r" % (taint,))
        if effect is not None and effect not in EFFECTS:
            raise KubeadmError("taint %s: effect must be one of %s" % (key, ", ".join(EFFECTS)))
        if taint.get("state", "present") == "absent":
            if any(_same(t, key, effect) for t in after_taints):
                taint_args.append("%s%s-" % (key, ":" + effect if effect else ""))
                after_taints = [t for t in after_taints if not _same(t, key, effect)]
            continue
        effect = effect or "NoSchedule"
        if not any(_same(t, key, effect, value, check_value=True) for t in after_taints):
            taint_args.append("%s%s:%s" % (key, "=" + value if value else "", effect))
            after_taints = [t for t in after_taints if not _same(t, key, effect)]
            after_taints.append(dict({"key": key, "effect": effect}, **({"value": value} if value else {})))
    return {
        "label_args": label_args,
        "taint_args": taint_args,
        "before": {"labels": have_labels, "taints": have_taints},
        "after": {"labels": after_labels, "taints": after_taints},
    }


def wait_for_node(client, name, timeout, interval=10, sleep=time.sleep, clock=time.monotonic):
    """The Node ``name`` once it is registered; None when ``timeout`` seconds pass first.

    A failed read (the API server briefly unreachable through the VIP) is retried too; the last
    failure is raised when time is up.
    """
    deadline = clock() + timeout
    while True:
        try:
            node = client.get_node(name)
        except CommandError:
            if clock() >= deadline:
                raise
            node = None
        if node is not None or clock() >= deadline:
            return node
        sleep(interval)


def ensure(client, name, labels=None, taints=None, wait_timeout=300, check_mode=False, sleep=time.sleep,
           clock=time.monotonic):
    """Bring the Node's labels and taints to what is asked; return the module result."""
    node = client.get_node(name) if check_mode else wait_for_node(client, name, wait_timeout, sleep=sleep, clock=clock)
    if node is None and not check_mode:
        raise KubeadmError("node %s did not register within %d s: is its kubelet running and joined?"
                           % (name, wait_timeout))
    change = plan(node, labels, taints)
    changed = bool(change["label_args"] or change["taint_args"])
    if changed and not check_mode:
        if change["label_args"]:
            client.label_node(name, change["label_args"])
        if change["taint_args"]:
            client.taint_node(name, change["taint_args"])
    return {
        "changed": changed,
        "registered": node is not None,
        "labels": change["after"]["labels"],
        "taints": change["after"]["taints"],
        "diff": {"before": change["before"], "after": change["after"]},
    }
