"""Pinned versions of the real components the tests and benchmarks run against.

Changing a version here is the only thing that triggers a rebuild: binaries are cached under
``<cache>/<component>-<version>/``.
"""

KUBERNETES = "v1.37.2"
# Staging modules (k8s.io/api, client-go, ...) are released as v0.<minor>.<patch>.
KUBERNETES_STAGING = "v0." + KUBERNETES.removeprefix("v1.")
# Kubernetes 1.37 ships etcd 3.7; the newest 3.7 patch release.
ETCD = "v3.7.3"
KWOK = "v0.8.0"
KUBE_STATE_METRICS = "v2.20.0"
# Renders deploy/ like `kubectl apply -k`; the newest v5 release that builds with go 1.26 (v5.8.3 needs 1.27).
KUSTOMIZE = "v5.8.2"
# Prometheus with Kubernetes service discovery (Debian's 2.42 package is built without it), as the
# Go module github.com/prometheus/prometheus, which numbers release 3.16.0 as v0.316.0.
PROMETHEUS = "v0.316.0"
# Telegraf (deploy/telegraf: inputs.prometheus -> outputs.influxdb), built with only those two plugins;
# the proxy serves v1.37.2, whose go.mod asks for go 1.25.5.
TELEGRAF = "v1.37.2"
# ksm-py's scrape-body checker (harness/promcheck/main.go) is built against this same
# Prometheus module; its cache key adds a hash of main.go, so editing the source rebuilds it.
PROMCHECK = PROMETHEUS
# Helm (deploy/helm/ksm-py: lint, template, the render applied to the control plane), the current major.
HELM = "v4.3.2"
# The stand-in for python:3.11-slim that the image test builds the Dockerfile on (harness/image.py):
# debootstrap of this Debian suite (python3.11 + pip). The date is part of the cache key only: bump it
# to pick up the suite's newer packages (security updates).
IMAGE_BASE_SUITE = "bookworm"
IMAGE_BASE_DATE = "2026-12-04"
