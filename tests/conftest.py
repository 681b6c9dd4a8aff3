"""Put the checkout on sys.path as ansible_collections.quorum.k8s (through .collections)."""
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, ".collections"))
