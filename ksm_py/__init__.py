"""ksm-py: a byte-compatible kube-state-metrics in Python, with topology and events."""

__version__ = "0.1.0"
