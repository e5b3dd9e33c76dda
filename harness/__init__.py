"""Local Kubernetes control plane (no Docker) for e2e tests, the demo and the benchmarks.

A package of its own, not part of ``tests``: ``tests/`` and ``bench/`` import it, and
``python -m harness build|up|env|down|demo`` runs it (``make build-cluster``, ``make demo``).
"""
