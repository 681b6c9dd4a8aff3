# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A cluster's machines on OpenStack: the plan and checks (plan.py, pure), the openstacksdk reads
and tag writes (cloud.py), the connection options (argspec.py)."""
