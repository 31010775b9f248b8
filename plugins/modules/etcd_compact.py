#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: etcd_compact
short_description: Compact the etcd keyspace up to a revision
version_added: 0.2.0
description:
  - Compacts etcd's keyspace up to O(revision), by default the current revision (the runbook's
    C(etcdctl compact)). The history of every key before that revision is dropped, and the space it
    took in the backend becomes free inside the database file (M(kubemaint.control_plane.etcd_defrag)
    gives it back to the file system).
  - The current revision is read from the header of a linearizable read.
  - Reports C(changed=false) with a RV(reason) when the keyspace was compacted to that revision or
    beyond already; refuses a revision above the current one.
  - Compaction goes through raft and applies to every member.
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
    details: Reports the revision it would compact to, or that there is nothing to compact.
  diff_mode:
    support: none
  idempotent:
    description: Whether a second run with the same arguments reports no change and changes nothing.
    support: full
    details: With O(revision) given. Without it, writes between two runs move the current revision, and the second run compacts up to it.
  platform:
    platforms: posix
options:
  revision:
    description:
      - Revision to compact to; the revisions below it are dropped. A whole number of at least 1, at most the current revision.
      - Defaults to the current revision.
    type: int
  physical:
    description:
      - Wait until the compaction is applied to the backend database before returning (etcdctl's
        C(--physical)); the compaction request then takes up to O(timeout) seconds.
    type: bool
    default: true
notes:
  - No gateway call that etcd 3.4, 3.5 and 3.6 share reports the revision compacted to. The module finds
    out whether O(revision) was compacted already by reading at O(revision) minus one, which etcd refuses
    with C(mvcc required revision has been compacted) exactly then. C(/v3/kv/compaction) and
    C(/v3/kv/range) behave alike in the three versions.
  - Compaction is allowed while a NOSPACE alarm is raised; it frees no space in the database file by
    itself (defragment after it).
  - kube-apiserver compacts etcd every 5 minutes by default; this module is for the maintenance window
    (before a defragmentation, or to recover from NOSPACE).
seealso:
  - module: kubemaint.control_plane.etcd_defrag
  - module: kubemaint.control_plane.etcd_alarm
'''

EXAMPLES = r'''
- name: Compact to the current revision
  kubemaint.control_plane.etcd_compact:
  register: compaction

- name: Compact to a revision read before
  kubemaint.control_plane.etcd_compact:
    revision: "{{ compaction.current_revision }}"
'''

RETURN = r'''
changed:
  description: Whether the keyspace was (or, in check mode, would be) compacted.
  returned: success
  type: bool
  sample: true
revision:
  description: The revision compacted to (or asked for).
  returned: success
  type: int
  sample: 1042
current_revision:
  description: The current revision of the keyspace, read before compacting.
  returned: success
  type: int
  sample: 1042
reason:
  description: What was done, or why nothing was.
  returned: success
  type: str
  sample: revision 1042 is at or below the revision the keyspace was compacted to already, nothing to compact
physical:
  description: The value of O(physical).
  returned: success
  type: bool
  sample: true
endpoint:
  description: The client URL the requests went to.
  returned: success
  type: str
  sample: https://127.0.1.1:2379
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
    run_compact,
    run_etcd_module,
)


def main():
    run_etcd_module(
        run_compact,
        revision=dict(type='int'),
        physical=dict(type='bool', default=True),
    )


if __name__ == '__main__':
    main()
