#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: etcd_alarm
short_description: Disarm etcd alarms (NOSPACE, CORRUPT)
version_added: 0.2.0
description:
  - Reads etcd's alarm list and disarms every active alarm of the kinds in O(alarms) on the members in
    O(members) (by default on every member that carries one), then reads the list again (the runbook's
    C(etcdctl alarm disarm)).
  - Does nothing and reports C(changed=false) when no such alarm is active.
  - Unknown alarm kinds and unknown member names are refused before anything is read or changed.
author:
  - Kubemaint contributors (@kubemaint)
extends_documentation_fragment:
  - kubemaint.control_plane.etcd
  - kubemaint.control_plane.etcd.action_group
  - kubemaint.control_plane.node
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports which alarms would be disarmed and the list as it would be, without disarming.
  diff_mode:
    support: full
    details: The active alarms before and after, one C(member member_id alarm) line each.
  idempotent:
    description: Whether a second run with the same arguments reports no change and changes nothing.
    support: full
  platform:
    platforms: posix
options:
  alarms:
    description:
      - Kinds of alarm to disarm, C(NOSPACE) and/or C(CORRUPT).
      - C(CORRUPT) is disarmed only when named here. etcd raises it when the members' data disagree;
        disarming it lets the cluster take writes again on data that may be inconsistent. Find and
        replace the corrupt member first (restore it from a snapshot), then disarm.
    type: list
    elements: str
    choices: [NOSPACE, CORRUPT]
    default: [NOSPACE]
  members:
    description:
      - Names of the members whose alarms are disarmed. Every name must be a member.
      - By default, every member that carries an alarm of the kinds in O(alarms), including alarms of
        member ids no longer in the member list.
    type: list
    elements: str
notes:
  - Disarm NOSPACE only once there is room again (compact with M(kubemaint.control_plane.etcd_compact),
    then defragment every member with M(kubemaint.control_plane.etcd_defrag), or raise
    C(--quota-backend-bytes)); etcd raises the alarm again at the next write that does not fit.
  - The alarm calls go through raft (they need quorum); they are sent to the leader, or a healthy voting member.
  - C(/v3/maintenance/alarm) with actions GET and DEACTIVATE behaves alike in etcd 3.4, 3.5 and 3.6.
seealso:
  - module: kubemaint.control_plane.etcd_compact
  - module: kubemaint.control_plane.etcd_defrag
  - module: kubemaint.control_plane.etcd_member_info
'''

EXAMPLES = r'''
- name: Disarm NOSPACE on every member, once compacted and defragmented
  kubemaint.control_plane.etcd_alarm:

- name: Disarm CORRUPT on one member (only after its data were restored)
  kubemaint.control_plane.etcd_alarm:
    alarms: [CORRUPT]
    members: [k-kube-lab-03]
'''

RETURN = r'''
changed:
  description: Whether alarms were (or, in check mode, would be) disarmed.
  returned: success
  type: bool
  sample: true
alarms_before:
  description: Active alarms before the task; C(member) is empty for an id that is not in the member list.
  returned: success
  type: list
  elements: dict
  contains:
    member_id:
      description: Member id in hex, 16 digits.
      type: str
      sample: 5d7db493b5095e61
    member:
      description: Member name.
      type: str
      sample: lab-cp-01
    alarm:
      description: C(NOSPACE) or C(CORRUPT).
      type: str
      sample: NOSPACE
  sample: [{member_id: 5d7db493b5095e61, member: lab-cp-01, alarm: NOSPACE}]
alarms_after:
  description: Active alarms after the task (in check mode, as they would be), as RV(alarms_before).
  returned: success
  type: list
  elements: dict
  sample: []
disarmed:
  description: The alarms disarmed (in check mode, those that would be), as RV(alarms_before).
  returned: success
  type: list
  elements: dict
  sample: [{member_id: 5d7db493b5095e61, member: lab-cp-01, alarm: NOSPACE}]
endpoint:
  description: The member's client URL the alarm calls went to.
  returned: success
  type: str
  sample: https://127.0.1.2:2379
endpoints:
  description: The endpoints asked first (resolved from the options or the etcd manifest).
  returned: always
  type: list
  elements: str
  sample: [https://127.0.1.1:2379]
endpoints_source:
  description: Where the endpoints came from.
  returned: always
  type: str
  sample: --advertise-client-urls in /etc/kubernetes/manifests/etcd.yaml
ca_cert:
  description: CA certificate used.
  returned: always
  type: str
  sample: /etc/kubernetes/pki/etcd/ca.crt
client_cert:
  description: Client certificate used.
  returned: always
  type: str
  sample: /etc/kubernetes/pki/etcd/server.crt
client_key:
  description: Path of the client key used (never its content).
  returned: always
  type: str
  sample: /etc/kubernetes/pki/etcd/server.key
timeout:
  description: Per-request timeout in seconds.
  returned: always
  type: float
  sample: 5.0
'''

from ansible_collections.kubemaint.control_plane.plugins.module_utils._etcd.module import (
    run_alarm,
    run_etcd_module,
)


def main():
    run_etcd_module(
        run_alarm,
        alarms=dict(type='list', elements='str', choices=['NOSPACE', 'CORRUPT'], default=['NOSPACE']),
        members=dict(type='list', elements='str'),
    )


if __name__ == '__main__':
    main()
