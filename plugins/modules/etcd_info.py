#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_info
short_description: Report etcd members, their health and the cluster's quorum; optionally wait for health
version_added: 0.1.0
description:
  - Lists the members of an etcd cluster through the v3 HTTP/JSON gateway and probes each one's status
    through its client URLs (leader seen, no errors).
  - Reports the quorum arithmetic (voters, healthy voters, quorum, learners) and active alarms.
  - With O(wait_healthy) it waits until every member is healthy, which is how the role gates serial changes.
  - With O(fail_on_unreachable=false) an unanswered cluster is reported (RV(reachable=false)) instead of failing,
    which lets a playbook tell "no cluster yet" from "cluster down".
author:
  - quorum.k8s developers (@quorum-k8s)
extends_documentation_fragment:
  - quorum.k8s.etcd
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  wait_healthy:
    description:
      - Seconds to wait for every member to be healthy; V(0) reports the current state without waiting.
      - Fails when the time runs out, naming each unhealthy member and why.
    type: int
    default: 0
  fail_on_unreachable:
    description:
      - Fail when no endpoint answers. With V(false), return RV(reachable=false) instead (TLS errors still fail).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Wait until every etcd member is healthy
  quorum.k8s.etcd_info:
    endpoints: https://10.0.0.11:2379
    ca_cert: /etc/etcd/pki/ca.crt
    client_cert: /etc/etcd/pki/client.crt
    client_key: /etc/etcd/pki/client.key
    wait_healthy: 120

- name: Is there a live cluster behind these endpoints?
  quorum.k8s.etcd_info:
    endpoints: [https://10.0.0.11:2379, https://10.0.0.12:2379, https://10.0.0.13:2379]
    ca_cert: /etc/etcd/pki/ca.crt
    client_cert: /etc/etcd/pki/client.crt
    client_key: /etc/etcd/pki/client.key
    fail_on_unreachable: false
  register: etcd_probe
"""

RETURN = r"""
reachable:
  description: Whether any endpoint answered.
  returned: always
  type: bool
failures:
  description: Endpoint to error, when no endpoint answered.
  returned: when reachable is false
  type: dict
cluster_id:
  description: Cluster ID in hexadecimal.
  returned: when reachable
  type: str
members:
  description: Members with their health.
  returned: when reachable
  type: list
  elements: dict
  contains:
    id:
      description: Member ID in hexadecimal.
      type: str
    name:
      description: Member name (empty until started).
      type: str
    peer_urls:
      description: Peer URLs.
      type: list
      elements: str
    client_urls:
      description: Client URLs.
      type: list
      elements: str
    is_learner:
      description: Non-voting learner.
      type: bool
    healthy:
      description: Its status answered, with a leader and no errors.
      type: bool
    is_leader:
      description: It is healthy and its status names itself as the leader.
      type: bool
    reason:
      description: Why it is unhealthy (empty when healthy).
      type: str
voters:
  description: Number of voting members.
  returned: when reachable
  type: int
learners:
  description: Number of learners.
  returned: when reachable
  type: int
healthy_voters:
  description: Number of healthy voting members.
  returned: when reachable
  type: int
quorum:
  description: Voting members needed for a majority.
  returned: when reachable
  type: int
has_quorum:
  description: Whether the healthy voters form a majority.
  returned: when reachable
  type: bool
all_healthy:
  description: Whether every member (learners included) is healthy.
  returned: when reachable
  type: bool
alarms:
  description: Active alarms (member_id, alarm), for example NOSPACE.
  returned: when reachable
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quorum.k8s.plugins.module_utils._etcd.argspec import client_from_params, connection_argument_spec
from ansible_collections.quorum.k8s.plugins.module_utils._etcd.errors import EtcdConnectionError, EtcdError, EtcdTLSError
from ansible_collections.quorum.k8s.plugins.module_utils._etcd.member import cluster_info, wait_healthy


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        wait_healthy=dict(type="int", default=0),
        fail_on_unreachable=dict(type="bool", default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    client = client_from_params(p)
    try:
        if p["wait_healthy"] > 0:
            info = wait_healthy(client, p["wait_healthy"], p["health_timeout"])
        else:
            info = cluster_info(client, p["health_timeout"])
        info["alarms"] = client.alarms()
    except EtcdTLSError as exc:
        module.fail_json(msg="%s. Check ca_cert, client_cert and client_key, and that the endpoint's certificate "
                             "names the address used" % exc, failures=exc.failures)
    except EtcdConnectionError as exc:
        if not p["fail_on_unreachable"]:
            module.exit_json(changed=False, reachable=False, failures=exc.failures)
        module.fail_json(msg=str(exc), failures=exc.failures)
    except EtcdError as exc:
        module.fail_json(msg=str(exc), error=type(exc).__name__)
    module.exit_json(changed=False, reachable=True, **info)


if __name__ == "__main__":
    main()
