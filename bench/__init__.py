"""Benchmarks for ksm-py: offline rendering (``bench.render``) and a side-by-side run against
upstream kube-state-metrics on a synthetic kwok cluster (``bench.scale``)."""
