"""A resource removed from ksm-py's ClusterRole at runtime, then granted again.

RBAC is checked when a request starts: an open watch keeps streaming after the rule is gone (the
API server does not end it), so the 403 shows on the next list/watch. The fault proxy cuts the
connections to get there now rather than at the watch's timeout (5-10 min).
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.controlplane import ControlPlane, restricted_kubeconfig, wait_for
from harness.proxy import FaultProxy
from tests.chaos._harness import Recorder, Report, ground_truth, metric_sum, per_resource, wait_all
from tests.conftest import CLUSTER_ROLE, Objects, http_get
from tests.e2e._exporter import deployment, ksm_py, limited_role, proxied_kubeconfig
from tests.expo import series

pytestmark = pytest.mark.e2e

RESOURCES = "pods,deployments,replicasets,configmaps,namespaces"
ROLE = "ksm-py-chaos-rbac"
BACKOFF_CAP = 30.0


def configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


def test_resource_removed_from_cluster_role_at_runtime(local_plane: ControlPlane, objects: Objects, spawn: Any,
                                                       tmp_path: Path, chaos_report: Report) -> None:
    rest, ns = local_plane.rest, objects.namespace
    full = yaml.safe_load(CLUSTER_ROLE.read_text())
    full["metadata"]["name"] = ROLE
    role_file = tmp_path / "role.yaml"
    role_file.write_text(yaml.safe_dump(full))
    kubeconfig = restricted_kubeconfig(rest, local_plane.admin_kubeconfig, role_file, name=ROLE,
                                       namespace="kube-system", path=tmp_path / "rbac.kubeconfig")
    objects.create(configmap("before"))
    proxy = FaultProxy(local_plane.ports["apiserver"])
    flags = [f"--resources={RESOURCES}"]
    try:
        exp = ksm_py(spawn, proxied_kubeconfig(kubeconfig, proxy, tmp_path / "p.kubeconfig"), *flags)
        exp.wait_ready()

        # Take configmaps away, and make every reflector ask again.
        rest.apply(yaml.safe_load(limited_role(tmp_path, ROLE, drop="configmaps").read_text()))
        time.sleep(1)  # the RBAC authorizer's informer sees the new role
        proxy.cut()

        def forbidden_reported() -> bool:
            return metric_sum(exp.telemetry(), "ksm_py_api_errors_total", resource="configmaps", status="403") >= 1
        wait_for("403 on configmaps counted", forbidden_reported, 30, on_timeout=lambda: exp.proc.tail(20))
        log = exp.proc.tail(200)
        assert "configmaps: forbidden (HTTP 403" in log and "check the RBAC rules of this identity" in log, log

        def others_fine(values: dict[str, float]) -> bool:
            return values.get("configmaps") == 0 and all(v == 1 for r, v in values.items() if r != "configmaps")
        wait_all(exp, "configmaps down, the others watching", others_fine, "ksm_py_watch_connected", 30)
        # The others keep following the cluster; configmaps keep their last known state.
        objects.create(deployment("during", 1))
        objects.create(configmap("during"))
        objects.delete("v1", "ConfigMap", "before")
        wait_for("the new deployment seen while configmaps are forbidden", lambda: series(
            exp.metrics(), prefix="kube_deployment_created{", where=[("namespace", ns), ("deployment", "during")]), 60)
        text = exp.metrics()
        assert series(text, prefix="kube_configmap_info{", where=[("namespace", ns), ("configmap", "before")])
        assert not series(text, prefix="kube_configmap_info{", where=[("namespace", ns), ("configmap", "during")])
        assert exp.readyz() == 200
        # Named, with the API server's reason, in the /readyz body and in ksm_py_resource_forbidden.
        body = http_get(f"http://127.0.0.1:{exp.tport}/readyz")[2].decode()
        assert body.startswith("OK\nforbidden: configmaps: HTTP 403 configmaps is forbidden: User ") and \
            "cannot watch resource \"configmaps\"" in body, body
        assert per_resource(exp.telemetry(), "ksm_py_resource_forbidden") == {
            r: (1 if r == "configmaps" else 0) for r in RESOURCES.split(",")}
        assert per_resource(exp.telemetry(), "ksm_py_resource_synced") == {r: 1 for r in RESOURCES.split(",")}
        forbidden = metric_sum(exp.telemetry(), "ksm_py_api_errors_total", resource="configmaps", status="403")

        # Grant it again: the reflector comes back within its backoff bound.
        rest.apply(full)
        recorder = Recorder(exp)
        back = wait_all(exp, "configmaps watched again", lambda v: all(x == 1 for x in v.values()),
                        "ksm_py_watch_connected", BACKOFF_CAP + 15)
        assert http_get(f"http://127.0.0.1:{exp.tport}/readyz")[2] == b"OK"
        assert set(per_resource(exp.telemetry(), "ksm_py_resource_forbidden").values()) == {0}
        ground_truth(spawn, kubeconfig, flags, exp, scenario="RBAC: configmaps revoked at runtime",
                     faults=f"configmaps dropped from the ClusterRole + connections cut; {forbidden:.0f} 403s; "
                            f"granted again, watching after {back:.1f}s",
                     report=chaos_report, recorder=recorder)
        text = exp.metrics()
        assert series(text, prefix="kube_configmap_info{", where=[("namespace", ns), ("configmap", "during")])
        assert not series(text, prefix="kube_configmap_info{", where=[("namespace", ns), ("configmap", "before")])
    finally:
        proxy.close()
        for path in (f"clusterrolebindings/{ROLE}-e2e", f"clusterroles/{ROLE}"):
            with contextlib.suppress(Exception):
                rest.request("DELETE", f"/apis/rbac.authorization.k8s.io/v1/{path}")
