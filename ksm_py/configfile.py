"""Configuration files followed while running (``--config``, ``--custom-resource-state-config-file``).

A file counts as changed when its bytes change: an in-place write, a rename over it and a
mounted ConfigMap's update (the kubelet swaps the ``..data`` symlink the file points through) all
show, and a touch, or a ConfigMap resync that rewrites the same content, does not.  Kubernetes
updates a mounted ConfigMap about a minute after the API object changes, so polling every few
seconds costs nothing that matters and needs no inotify (which misses a swap of a symlink it does
not watch the parent of).
"""

from __future__ import annotations

import hashlib
import os

# How often a followed file is read again.
POLL_SECONDS = 5.0


def poll_seconds() -> float:
    """``POLL_SECONDS``, or the hidden, test-only ``KSM_PY_CONFIG_POLL_SECONDS`` (tests/e2e/test_reload.py)."""
    knob = os.environ.get("KSM_PY_CONFIG_POLL_SECONDS")
    return max(0.1, float(knob)) if knob else POLL_SECONDS


def hash_metric_value(data: bytes) -> float:
    """kube-state-metrics' ``md5HashAsMetricValue``: the first 48 bits of the MD5, little-endian
    (what fits a float64's mantissa exactly)."""
    return float(int.from_bytes(hashlib.md5(data, usedforsecurity=False).digest()[:6], "little"))


def read(path: str) -> bytes | None:
    """The file's content, or None when it cannot be read (missing, mid-swap, no permission)."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


class WatchedFile:
    """A file and the content last seen of it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.data = read(path)

    def poll(self) -> bool:
        """Read the file again; True when its content (or its absence) differs from the last seen."""
        data = read(self.path)
        if data == self.data:
            return False
        self.data = data
        return True
