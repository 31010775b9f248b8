"""The local lab: a kubeadm-shaped control plane with real etcd on one machine (see README.md here)."""
from tests.lab.core import Lab, LabError, LabNode, find_etcd_binaries, free_base_address  # noqa: F401
