"""Offline Kubernetes artifacts for the quorum.k8s lab and for air-gapped sites.

``python -m lab.artifacts build`` compiles Kubernetes, etcd, CoreDNS and a pause
binary from the Go module proxy, wraps them in OCI image archives and lays the
result out like the upstream download sites under ``$QUORUM_LAB_HOME/mirror``.
"""
