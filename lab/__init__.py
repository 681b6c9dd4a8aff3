"""The quorum.k8s offline VM lab (not shipped in the collection tarball)."""
