#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: openstack_info
short_description: Read what a quorum.k8s cluster needs from an OpenStack project, and what it owns there
version_added: 0.1.0
description:
  - One read, through one openstacksdk connection, of everything C(roles/openstack) decides on before it changes
    anything, and of every resource a cluster owns, so that a bad inventory is refused with one message listing
    each fault and C(destroy) removes exactly the cluster's resources.
  - "Why a module of our own: openstack.cloud has no module that reads a project's compute limits, its
    network quota usage or the service catalog as a member (C(openstack.cloud.catalog_service_info) needs
    the admin API), none that reports a failed authentication as data instead of failing, and none that finds
    a cluster's resources of every kind by tag or name in one call."
  - Authentication comes first. When it fails (cloud not in C(clouds.yaml), credentials refused, identity
    endpoint unreachable), the module does not fail; RV(auth.ok) is false and RV(auth.error) names the cloud
    and the reason, so that the caller lists it with the other faults. Nothing else is read then.
  - With O(cluster), every resource of the project that is the cluster's (its Neutron tag C(quorum-cluster=NAME),
    its server metadata C(quorum_cluster), or the exact name provision gives it, for example C(NAME-cp-1),
    C(NAME-vip); floating IPs by their description) is listed in RV(cluster). Nothing else is ever taken for
    the cluster's.
  - With O(wait_servers), waits until those servers are ACTIVE, and fails at once, with Nova's fault, when one
    is in ERROR.
author:
  - quorum.k8s developers (@quorum-k8s)
extends_documentation_fragment:
  - quorum.k8s.openstack
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    description: Reads only; in check mode it does not wait for servers.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  project:
    description: Read the project's compute limits, network quota usage and service catalog.
    type: bool
    default: true
  flavors:
    description: Flavors (names or IDs) to look up; RV(flavors) holds those that exist.
    type: list
    elements: str
    default: []
  images:
    description: Images (names or IDs) to look up; RV(images) holds those that exist.
    type: list
    elements: str
    default: []
  networks:
    description: Networks (names or IDs) to look up with their subnets; RV(networks) holds those that exist.
    type: list
    elements: str
    default: []
  keypair:
    description: A key pair to look up; RV(keypair) holds it when it exists.
    type: str
  vip_address:
    description: An address whose holders on O(vip_network) are listed in RV(vip_holders).
    type: str
  vip_network:
    description: The network (name or ID) of O(vip_address).
    type: str
  cluster:
    description: Name of a quorum.k8s cluster whose resources are listed in RV(cluster).
    type: str
  wait_servers:
    description: Names of servers to wait for until they are ACTIVE (not in check mode).
    type: list
    elements: str
    default: []
  wait_timeout:
    description: Seconds O(wait_servers) may take.
    type: int
    default: 900
seealso:
  - module: quorum.k8s.openstack_tags
  - module: openstack.cloud.server
"""

EXAMPLES = r"""
- name: Check a cloud before provisioning
  quorum.k8s.openstack_info:
    cloud: mycloud
    flavors: [m1.small, m1.large]
    images: [debian-12]
    networks: [public]
    keypair: prod-key
    vip_address: 10.20.0.10
    vip_network: prod-net
    cluster: prod
  register: cloud

- name: Refuse a cloud that did not let us in
  ansible.builtin.assert:
    that: cloud.auth.ok
    fail_msg: "{{ cloud.auth.error }}"

- name: Wait for the cluster's servers
  quorum.k8s.openstack_info:
    cloud: mycloud
    project: false
    cluster: prod
    wait_servers: [prod-fe-1, prod-cp-1]
"""

RETURN = r"""
auth:
  description: Whether the project let us in, and as whom.
  returned: always
  type: dict
  contains:
    ok:
      description: Authentication succeeded.
      type: bool
    error:
      description: Why it failed, naming the cloud.
      type: str
      returned: when ok is false
    cloud_label:
      description: How messages name the cloud.
      type: str
    project_id:
      description: The project of the token.
      type: str
    project_name:
      description: Its name.
      type: str
flavors:
  description: Name or ID asked -> id, name, vcpus, ram (MB), disk (GB).
  returned: when authenticated
  type: dict
images:
  description: Name or ID asked -> id, status, count (images of that name), min_disk (GB), min_ram (MB).
  returned: when authenticated
  type: dict
networks:
  description:
    - Name or ID asked -> id, name, count, external, shared, project_id and subnets (id, name, cidr, gateway_ip,
      routed_to - the external networks of the routers this project can read that connect the subnet).
  returned: when authenticated
  type: dict
keypair:
  description: The key pair O(keypair) (name, fingerprint), or null.
  returned: when authenticated
  type: dict
vip_holders:
  description: The ports (id, name) holding O(vip_address) on O(vip_network).
  returned: when authenticated
  type: list
  elements: dict
limits:
  description:
    - compute (instances, cores, ram, server_groups, each with limit and used; server_group_members with limit)
      and network (floating_ips, ports, security_groups, security_group_rules, networks, subnets, routers), -1
      meaning unlimited; unreadable lists what the user may not read.
  returned: when authenticated and O(project) is true
  type: dict
services:
  description: types (the service types of the token's catalog) and block_storage (a Cinder endpoint is listed).
  returned: when authenticated and O(project) is true
  type: dict
cluster:
  description:
    - The cluster's resources per kind (servers, ports, floating_ips, networks, subnets, routers, security_groups,
      server_groups, keypairs), each a list of dicts with at least id and name, sorted by name.
  returned: when authenticated and O(cluster) is set
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quorum.k8s.plugins.module_utils._openstack.argspec import (
    connect, connection_argument_spec, require_sdk)
from ansible_collections.quorum.k8s.plugins.module_utils._openstack.cloud import Cloud
from ansible_collections.quorum.k8s.plugins.module_utils._openstack.errors import (
    OpenStackAPIError, OpenStackAuthError, OpenStackTimeoutError)


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        project=dict(type="bool", default=True),
        flavors=dict(type="list", elements="str", default=[]),
        images=dict(type="list", elements="str", default=[]),
        networks=dict(type="list", elements="str", default=[]),
        keypair=dict(type="str", no_log=False),
        vip_address=dict(type="str"),
        vip_network=dict(type="str"),
        cluster=dict(type="str"),
        wait_servers=dict(type="list", elements="str", default=[]),
        wait_timeout=dict(type="int", default=900),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_together=[("vip_address", "vip_network")])
    require_sdk(module)
    p = module.params
    try:
        cloud = Cloud(connect(p), p["cloud"])
        auth = cloud.authenticate()
    except OpenStackAuthError as exc:
        if p["wait_servers"]:
            module.fail_json(msg=str(exc))
        module.exit_json(changed=False, auth={"ok": False, "error": str(exc), "cloud_label": "cloud"})
    result = {"changed": False, "auth": auth}
    try:
        result["flavors"] = cloud.flavors(p["flavors"])
        result["images"] = cloud.images(p["images"])
        result["networks"] = cloud.networks(p["networks"])
        result["keypair"] = cloud.keypair(p["keypair"])
        result["vip_holders"] = cloud.address_holders(p["vip_network"], p["vip_address"])
        if p["project"]:
            result["limits"] = cloud.limits()
            result["services"] = cloud.services()
        if p["wait_servers"] and not module.check_mode:
            cloud.wait_servers(p["cluster"], p["wait_servers"], p["wait_timeout"])
        if p["cluster"]:
            result["cluster"] = cloud.cluster(p["cluster"])
    except (OpenStackAPIError, OpenStackTimeoutError) as exc:
        module.fail_json(msg="%s %s: %s" % (auth["cloud_label"], auth.get("project_name") or "", exc), auth=auth)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
