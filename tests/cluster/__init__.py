"""Local Kubernetes control plane (no Docker) for e2e tests, the demo and the benchmarks."""
