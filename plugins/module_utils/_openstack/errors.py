# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed exceptions of the OpenStack reads and writes. Only modules turn them into fail_json."""

from __future__ import annotations


class OpenStackError(Exception):
    """Base class of every error raised by _openstack.cloud."""


class OpenStackAuthError(OpenStackError):
    """The cloud is not in clouds.yaml, its credentials are refused, or its identity endpoint does not answer."""

    def __init__(self, cloud, reason):
        super().__init__("cloud %s: %s" % (cloud_label(cloud), reason))
        self.cloud = cloud
        self.reason = reason


class OpenStackAPIError(OpenStackError):
    """A call to the cloud failed; the message names the resource and what was asked."""


class OpenStackTimeoutError(OpenStackError):
    """A bounded wait (servers becoming ACTIVE) ran out."""


def cloud_label(cloud):
    """How a message names the cloud: its clouds.yaml name, or where the SDK took it from."""
    if isinstance(cloud, str) and cloud:
        return "'%s'" % cloud
    if isinstance(cloud, dict):
        return "(given as a dict)"
    return "(OS_CLOUD or the OS_* environment variables)"
