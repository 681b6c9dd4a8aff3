#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_member
short_description: Add, promote, remove and replace etcd cluster members, guarding quorum
version_added: 0.1.0
description:
  - Manages the membership of an etcd cluster (external, or kubeadm's stacked etcd) through the etcd v3
    HTTP/JSON gateway with client TLS.
  - O(state=present) adds the member as a learner, then (O(promote=true)) waits, bounded by O(wait_timeout),
    for it to start and catch up with the leader, and promotes it to a voting member.
  - O(state=absent) removes a member. O(state=replace) removes a dead member and adds the new peer URLs in its place.
  - Refuses a change that would break quorum (a removal leaving the healthy voting members without a majority),
    an addition while a voting member is unhealthy, and the replacement of a healthy member, unless O(force=true).
  - A member added with O(promote=false) must then be started with C(initial-cluster-state=existing) and the
    returned RV(initial_cluster); a second call with O(promote=true) promotes it.
  - etcd refuses a membership change for about 5 seconds after a member connects (C(unhealthy cluster));
    the module retries that answer for up to 30 seconds, independently of O(wait_timeout).
author:
  - quorum.k8s developers (@quorum-k8s)
extends_documentation_fragment:
  - quorum.k8s.etcd
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports the plan in RV(actions) and changes nothing; a promotion is assumed to succeed.
  diff_mode:
    support: full
    details: Before and after member lists (name, ID, peer URLs, learner flag).
  platform:
    platforms: posix
options:
  state:
    description:
      - V(present) ensures a member with O(peer_urls) exists (and is a voter when O(promote=true)).
      - V(absent) ensures the member selected by O(member_id), O(peer_urls) or O(name) is gone.
      - V(replace) removes the dead member selected by O(replace), then behaves like V(present) for O(peer_urls).
    type: str
    choices: [present, absent, replace]
    default: present
  name:
    description:
      - Member name (etcd's C(--name)). With V(present) and V(replace) it names the new member in RV(initial_cluster)
        and detects a name already used by another member; with V(absent) it selects the member.
    type: str
  peer_urls:
    description:
      - Peer URLs of the member, for example V(https://10.0.0.14:2380). The member's identity for V(present).
    type: list
    elements: str
  member_id:
    description:
      - Member ID in hexadecimal, as C(etcdctl member list) prints it. Selects the member for V(absent).
    type: str
  replace:
    description:
      - The member to replace with V(state=replace), selected by name, hexadecimal ID or peer URL.
      - A member that matches but already carries O(peer_urls) and is joining or healthy counts as the replacement.
    type: str
  learner:
    description:
      - Add the member as a learner (non-voting until promoted). Adding a voter directly raises the quorum before
        the new member runs; keep the default unless the cluster predates etcd 3.4.
    type: bool
    default: true
  promote:
    description:
      - Promote the learner once it runs and has caught up, waiting at most O(wait_timeout) seconds.
      - Set to V(false) to only add the learner (then start its etcd, then call again with V(true)).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for a learner to start and catch up before promoting it.
    type: int
    default: 120
  force:
    description:
      - Apply a change the quorum guard refuses. Can leave the cluster without quorum.
    type: bool
    default: false
seealso:
  - module: quorum.k8s.etcd_info
  - name: etcd runtime reconfiguration
    description: Upstream guide to adding, removing and replacing members.
    link: https://etcd.io/docs/v3.5/op-guide/runtime-configuration/
"""

EXAMPLES = r"""
- name: Add etcd4 as a learner (its etcd is not running yet)
  quorum.k8s.etcd_member:
    endpoints: https://10.0.0.11:2379
    ca_cert: /etc/etcd/pki/ca.crt
    client_cert: /etc/etcd/pki/client.crt
    client_key: /etc/etcd/pki/client.key
    name: etcd4
    peer_urls: https://10.0.0.14:2380
    promote: false
  register: etcd4_add

# ... write etcd4's config with initial-cluster-state=existing and
# initial-cluster="{{ etcd4_add.initial_cluster }}", start it, then:

- name: Promote etcd4 once it has caught up
  quorum.k8s.etcd_member:
    endpoints: https://10.0.0.11:2379
    ca_cert: /etc/etcd/pki/ca.crt
    client_cert: /etc/etcd/pki/client.crt
    client_key: /etc/etcd/pki/client.key
    name: etcd4
    peer_urls: https://10.0.0.14:2380
    wait_timeout: 300

- name: Replace the dead member etcd2 by etcd5
  quorum.k8s.etcd_member:
    endpoints: [https://10.0.0.11:2379, https://10.0.0.13:2379]
    ca_cert: /etc/etcd/pki/ca.crt
    client_cert: /etc/etcd/pki/client.crt
    client_key: /etc/etcd/pki/client.key
    state: replace
    replace: etcd2
    name: etcd5
    peer_urls: https://10.0.0.15:2380
    promote: false

- name: Remove the stacked member of a control plane being removed (kubeadm certificates)
  quorum.k8s.etcd_member:
    endpoints: https://10.0.0.21:2379
    ca_cert: /etc/kubernetes/pki/etcd/ca.crt
    client_cert: /etc/kubernetes/pki/etcd/healthcheck-client.crt
    client_key: /etc/kubernetes/pki/etcd/healthcheck-client.key
    state: absent
    name: cp3
"""

RETURN = r"""
actions:
  description: What was done (or, in check mode, would be done), in order.
  returned: always
  type: list
  elements: str
  sample: ["add learner etcd4 [https://10.0.0.14:2380]", "promote (unstarted) 5f3c... [https://10.0.0.14:2380] learner"]
cluster_id:
  description: The cluster ID in hexadecimal.
  returned: always
  type: str
member:
  description: The managed member after the change (V(present), V(replace)); null after a removal.
  returned: always
  type: dict
  contains:
    id:
      description: Member ID in hexadecimal (V(0) for a member only planned in check mode).
      type: str
    name:
      description: Member name; empty until the member has started.
      type: str
    peer_urls:
      description: Peer URLs.
      type: list
      elements: str
    client_urls:
      description: Client URLs; empty until the member has started.
      type: list
      elements: str
    is_learner:
      description: Whether the member is a non-voting learner.
      type: bool
removed:
  description: The member(s) removed (V(absent) returns one dict, V(replace) a list).
  returned: when state is absent or replace
  type: raw
members_before:
  description: Members before the change.
  returned: always
  type: list
  elements: dict
members_after:
  description: Members after the change (planned, in check mode).
  returned: always
  type: list
  elements: dict
initial_cluster:
  description: The C(--initial-cluster) value the managed member must start with (C(name=peerURL,...)).
  returned: always
  type: str
  sample: etcd1=https://10.0.0.11:2380,etcd2=https://10.0.0.12:2380,etcd4=https://10.0.0.14:2380
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quorum.k8s.plugins.module_utils._etcd.argspec import client_from_params, connection_argument_spec
from ansible_collections.quorum.k8s.plugins.module_utils._etcd.errors import EtcdConnectionError, EtcdError, EtcdTLSError
from ansible_collections.quorum.k8s.plugins.module_utils._etcd.member import MemberManager


def _diff_view(members):
    lines = []
    for m in members:
        lines.append("%s %s %s%s" % (m["id"], m["name"] or "(unstarted)", ",".join(m["peer_urls"]),
                                     " learner" if m["is_learner"] else ""))
    return "\n".join(lines) + "\n"


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        state=dict(type="str", default="present", choices=["present", "absent", "replace"]),
        name=dict(type="str"),
        peer_urls=dict(type="list", elements="str"),
        member_id=dict(type="str"),
        replace=dict(type="str"),
        learner=dict(type="bool", default=True),
        promote=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=120),
        force=dict(type="bool", default=False),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[
            ("state", "present", ["peer_urls"]),
            ("state", "replace", ["peer_urls", "replace"]),
            ("state", "absent", ["name", "peer_urls", "member_id"], True),
        ],
        mutually_exclusive=[("member_id", "peer_urls")],
    )
    p = module.params
    client = client_from_params(p)
    manager = MemberManager(client, check_mode=module.check_mode, force=p["force"],
                            wait_timeout=p["wait_timeout"], health_timeout=p["health_timeout"])
    try:
        if p["state"] == "present":
            result = manager.present(p["name"], p["peer_urls"], p["learner"], p["promote"])
        elif p["state"] == "replace":
            result = manager.replace(p["replace"], p["name"], p["peer_urls"], p["learner"], p["promote"])
        else:
            result = manager.absent(p["member_id"] or p["name"], p["peer_urls"])
    except EtcdTLSError as exc:
        module.fail_json(msg="%s. Check ca_cert, client_cert and client_key, and that the endpoint's certificate "
                             "names the address used" % exc, failures=exc.failures, actions=manager.actions)
    except EtcdConnectionError as exc:
        module.fail_json(msg=str(exc), failures=exc.failures, actions=manager.actions)
    except EtcdError as exc:
        module.fail_json(msg=str(exc), error=type(exc).__name__, actions=manager.actions)

    if module._diff:
        result["diff"] = {"before": _diff_view(result["members_before"]), "after": _diff_view(result["members_after"])}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
