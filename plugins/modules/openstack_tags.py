#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: openstack_tags
short_description: Add tags to Neutron resources (networks, subnets, routers, security groups, ports, floating IPs)
version_added: 0.1.0
description:
  - Adds the given tags to each resource that lacks one of them, through Neutron's tag API; tags it already
    has, of any origin, stay.
  - "Why a module of our own: openstack.cloud's C(network), C(subnet), C(router), C(security_group), C(port)
    and C(floating_ip) modules set no tags, and C(openstack.cloud.resource) cannot either (Neutron takes tags
    through C(PUT /v2.0/<resources>/<id>/tags), not in the resource's body). C(roles/openstack) tags every
    Neutron resource it makes with C(quorum-cluster=<cluster>), which is how C(destroy) finds them."
author:
  - quorum.k8s developers (@quorum-k8s)
extends_documentation_fragment:
  - quorum.k8s.openstack
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    description: Reads each resource's tags and reports what would be added.
  diff_mode:
    support: full
    description: Each resource's tags before and after.
  platform:
    platforms: posix
options:
  resources:
    description: The resources to tag.
    type: list
    elements: dict
    required: true
    suboptions:
      type:
        description: The kind of resource.
        type: str
        required: true
        choices: [network, subnet, router, security_group, port, floating_ip]
      id:
        description: Its ID.
        type: str
        required: true
      name:
        description: A label for messages and the result (its name, or a floating IP's address).
        type: str
  tags:
    description: Tags every resource must carry (Neutron tags are strings without C(,) or C(/)).
    type: list
    elements: str
    required: true
seealso:
  - module: quorum.k8s.openstack_info
"""

EXAMPLES = r"""
- name: Tag the cluster's network and its VIP port
  quorum.k8s.openstack_tags:
    cloud: mycloud
    resources:
      - {type: network, id: 2c1a6f5e-0e5b-4d6f-9d1c-3b8a7f0c1e21, name: prod-net}
      - {type: port, id: 7f9d1e2a-5c3b-4a8e-b6d2-1e0f9a8c7b65, name: prod-vip}
    tags: [quorum-cluster=prod]
"""

RETURN = r"""
tagged:
  description: The resources that lacked a tag, with their tags before and after.
  returned: always
  type: list
  elements: dict
  contains:
    type:
      description: The kind of resource.
      type: str
    id:
      description: Its ID.
      type: str
    name:
      description: Its label.
      type: str
    before:
      description: Its tags before.
      type: list
      elements: str
    after:
      description: Its tags after.
      type: list
      elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quorum.k8s.plugins.module_utils._openstack.argspec import (
    connect, connection_argument_spec, require_sdk)
from ansible_collections.quorum.k8s.plugins.module_utils._openstack.cloud import TAG_GETTERS, Cloud
from ansible_collections.quorum.k8s.plugins.module_utils._openstack.errors import OpenStackAPIError, OpenStackAuthError


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        resources=dict(type="list", elements="dict", required=True, options=dict(
            type=dict(type="str", required=True, choices=sorted(TAG_GETTERS)),
            id=dict(type="str", required=True),
            name=dict(type="str"),
        )),
        tags=dict(type="list", elements="str", required=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    require_sdk(module)
    p = module.params
    bad = sorted(t for t in p["tags"] if not t or "," in t or "/" in t or len(t) > 255)
    if bad:
        module.fail_json(msg="tags %s: a Neutron tag is 1 to 255 characters without ',' or '/'" % ", ".join(map(repr, bad)))
    tagged = []
    try:
        cloud = Cloud(connect(p), p["cloud"])
        cloud.authenticate()
        for item in p["resources"]:
            changed, before, after = cloud.tag(item["type"], item["id"], p["tags"], check_mode=module.check_mode)
            if changed:
                tagged.append({"type": item["type"], "id": item["id"], "name": item["name"] or item["id"],
                               "before": before, "after": after})
    except (OpenStackAuthError, OpenStackAPIError) as exc:
        module.fail_json(msg=str(exc), tagged=tagged)
    result = {"changed": bool(tagged), "tagged": tagged}
    if module._diff:
        result["diff"] = {
            "before": "".join("%s %s: %s\n" % (t["type"], t["name"], ", ".join(t["before"])) for t in tagged),
            "after": "".join("%s %s: %s\n" % (t["type"], t["name"], ", ".join(t["after"])) for t in tagged),
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
