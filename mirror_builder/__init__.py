"""The artifact mirror of quorum.k8s, for offline sites and for the lab.

``python3 -m mirror_builder build`` (from the collection root) compiles Kubernetes, etcd,
CoreDNS, crictl and a pause binary from the Go module proxy, wraps them in OCI image archives
and lays the result out like the upstream download sites under ``HOME/mirror``
(docs/offline.md). Standard library only. The lab uses the same tree (``make artifacts``) and
shares common.py with it.
"""
