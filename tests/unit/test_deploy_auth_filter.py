"""deploy/components/auth-filter: --auth-filter and the RBAC it needs, only where it is enabled.

Rendered with kustomize (built into the cache by ``python -m harness build``);
tests/e2e/test_auth_filter.py runs ksm-py with the component's ClusterRole on the control plane.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from harness.manifests import DEPLOY, KustomizeMissing, container, kustomize_build, render, workloads
from ksm_py.options import build_parser, options_from_args


def build(path: str) -> list[dict[str, Any]]:
    try:
        return kustomize_build(DEPLOY / path) if "/" in path else render(path)
    except KustomizeMissing as e:
        if os.environ.get("KSM_PY_REQUIRE_E2E"):
            pytest.fail(str(e))
        pytest.skip(str(e))


def rbac(docs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"]): d for d in docs if d["kind"].startswith("ClusterRole")}


def test_overlay_adds_the_flag_and_only_the_review_rights() -> None:
    base, filtered = build("base"), build("overlays/auth-filter")
    (workload,) = workloads(filtered)
    args = container(workload)["args"]
    assert args.count("--auth-filter") == 1
    assert options_from_args(build_parser().parse_args(args)).auth_filter is True
    added = {k: v for k, v in rbac(filtered).items() if k not in rbac(base)}
    assert set(added) == {("ClusterRole", "kube-state-metrics-auth-filter"),
                          ("ClusterRoleBinding", "kube-state-metrics-auth-filter"),
                          ("ClusterRole", "kube-state-metrics-metrics-reader")}
    assert added[("ClusterRole", "kube-state-metrics-auth-filter")]["rules"] == [
        {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]},
        {"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"], "verbs": ["create"]}]
    binding = added[("ClusterRoleBinding", "kube-state-metrics-auth-filter")]
    pod = workload["spec"]["template"]["spec"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": pod["serviceAccountName"],
                                    "namespace": workload["metadata"]["namespace"]}]
    assert added[("ClusterRole", "kube-state-metrics-metrics-reader")]["rules"] == [
        {"nonResourceURLs": ["/metrics", "/topology", "/topology/*"], "verbs": ["get"]}]
    # Everything else is the base, unchanged but for the flag.
    container(workload)["args"].remove("--auth-filter")
    rest = [d for d in filtered if (d["kind"], d["metadata"]["name"]) not in added]
    assert rest == base


def test_base_has_no_review_rights() -> None:
    for d in build("base"):
        for rule in d.get("rules", []):
            assert "create" not in rule["verbs"], d["metadata"]["name"]
        if d["kind"] in ("Deployment", "StatefulSet", "DaemonSet"):
            assert "--auth-filter" not in container(d)["args"]
