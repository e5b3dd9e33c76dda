"""ksm-py against the real control plane, with the least-privilege identity from deploy/."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.controlplane import ControlPlane, restricted_kubeconfig, wait_for
from harness.proxy import FaultProxy
from tests.conftest import CLUSTER_ROLE, Objects, http_get
from tests.e2e._exporter import (  # noqa: F401 - Exporter and upstream are imported from here by other tests
    CORE,
    Exporter,
    deployment,
    ksm_py,
    limited_role,
    ns_series,
    pods_running,
    proxied_kubeconfig,
    upstream,
)
from tests.expo import diff, series

pytestmark = pytest.mark.e2e


def test_metrics_follow_create_update_delete(objects: Objects, restricted_kubeconfig_path: Path, spawn: Any) -> None:
    exp = ksm_py(spawn, restricted_kubeconfig_path, f"--resources={CORE}")
    exp.wait_ready()
    ns = objects.namespace
    objects.create(deployment("web", 2))

    def spec_replicas() -> str | None:
        return series(exp.metrics()).get(f'kube_deployment_spec_replicas{{deployment="web",namespace="{ns}"}}')

    def pod_infos() -> int:
        return sum(1 for k in series(exp.metrics(), prefix="kube_pod_info{", where=[("namespace", ns)]))

    wait_for("deployment created", lambda: spec_replicas() == "2" and pod_infos() == 2, 60)
    objects.api("apps/v1", "Deployment").patch(name="web", namespace=ns, body={"spec": {"replicas": 4}},
                                               content_type="application/merge-patch+json")
    wait_for("deployment scaled", lambda: spec_replicas() == "4" and pod_infos() == 4, 60)
    objects.delete("apps/v1", "Deployment", "web")
    wait_for("deployment and its pods gone", lambda: not [
        k for k in ns_series(exp.metrics(), ns) if k.startswith(("kube_deployment", "kube_pod_", "kube_replicaset"))
    ], 90)


def test_readyz_waits_for_every_resource_and_rbac_changes_recover(cluster: Any, spawn: Any, tmp_path: Path) -> None:
    """A resource the identity cannot list is reported (403, ksm_py_resource_forbidden, the /readyz body
    names it) but, like upstream, does not hold readiness back; granting it recovers."""
    limited = limited_role(tmp_path, "ksm-py-e2e-limited", drop="nodes")
    kubeconfig = restricted_kubeconfig(cluster.rest, cluster.admin_kubeconfig, limited, name="ksm-py-limited",
                                       namespace="kube-system", path=tmp_path / "limited.kubeconfig")
    exp = ksm_py(spawn, kubeconfig, f"--resources={CORE}")

    def forbidden_reported() -> bool:
        return 'ksm_py_api_errors_total{resource="nodes",status="403"}' in exp.telemetry()
    wait_for("403 on nodes reported", forbidden_reported, 30)

    # The 403 can come before the other resources' initial lists end: ready once they have, with nodes
    # still forbidden (it does not hold readiness back) and named in the body.
    def ready_body() -> str | None:
        status, _, body = http_get(f"http://127.0.0.1:{exp.tport}/readyz")
        return body.decode() if status == 200 else None
    body = wait_for("ready with nodes forbidden", ready_body, 30)
    assert any(line.startswith("forbidden: nodes") for line in body.splitlines()), body
    text = exp.telemetry()
    assert 'ksm_py_resource_forbidden{namespace="",resource="nodes"} 1\n' in text
    assert 'ksm_py_resource_synced{namespace="",resource="pods"} 1\n' in text
    assert 'ksm_py_resource_synced{namespace="",resource="nodes"} 0\n' in text
    assert "kube_namespace_created{" in exp.metrics()  # the other resources keep working
    # Grant nodes again: the reflector recovers within its backoff bound (30 s cap).
    role = yaml.safe_load(CLUSTER_ROLE.read_text())
    role["metadata"]["name"] = "ksm-py-e2e-limited"
    cluster.rest.apply(role)
    wait_for("nodes served after the grant", lambda: "kube_node_info{" in exp.metrics(), 45)
    assert 'ksm_py_resource_forbidden{namespace="",resource="nodes"} 0\n' in exp.telemetry()


def test_410_and_apiserver_restart_leave_nothing_stale(local_plane: ControlPlane, objects: Objects,
                                                      restricted_kubeconfig_path: Path, spawn: Any,
                                                      tmp_path: Path) -> None:
    ns = objects.namespace
    proxy = FaultProxy(local_plane.ports["apiserver"])
    try:
        exp = ksm_py(spawn, proxied_kubeconfig(restricted_kubeconfig_path, proxy, tmp_path / "p.kubeconfig"),
                     f"--resources={CORE}")
        exp.wait_ready()
        objects.create(deployment("keep", 2))
        objects.create(deployment("drop", 1))
        objects.wait("pods running", lambda: pods_running(objects, "keep", 2)() and pods_running(objects, "drop", 1)())
        wait_for("ksm-py saw both", lambda: len(series(exp.metrics(), prefix="kube_pod_info{",
                                                       where=[("namespace", ns)])) == 3, 60)

        # ksm-py loses the API server; meanwhile the cluster changes and etcd is compacted.
        proxy.refuse()
        objects.delete("apps/v1", "Deployment", "drop")
        objects.api("apps/v1", "Deployment").patch(name="keep", namespace=ns, body={"spec": {"replicas": 3}},
                                                   content_type="application/merge-patch+json")
        objects.create(deployment("new", 1))
        objects.wait("cluster settled", lambda: pods_running(objects, "keep", 3)() and pods_running(objects, "new", 1)()
                     and not objects.list("v1", "Pod", label_selector="app=drop"), 90)
        local_plane.compact_etcd()
        # A restarted apiserver's watch cache starts at the current revision: the old RV is gone (410).
        local_plane.restart_apiserver(hard=True)
        proxy.accept()

        fresh = ksm_py(spawn, restricted_kubeconfig_path, f"--resources={CORE}")
        fresh.wait_ready()

        def same() -> bool:
            return ns_series(exp.metrics(), ns) == ns_series(fresh.metrics(), ns)
        try:
            wait_for("recovered series equal a fresh ksm-py's", same, 90)
        except TimeoutError:
            pytest.fail(diff(ns_series(exp.metrics(), ns), ns_series(fresh.metrics(), ns)))
        text = exp.metrics()
        assert not series(text, where=[("namespace", ns), ("deployment", "drop")])
        assert series(text).get(f'kube_deployment_spec_replicas{{deployment="keep",namespace="{ns}"}}') == "3"
        telemetry = exp.telemetry()
        relists = series(telemetry, prefix="kube_state_metrics_list_total", where=[("resource", "pods"),
                                                                                   ("result", "success")])
        assert relists and float(next(iter(relists.values()))) >= 2, telemetry
    finally:
        proxy.close()


def test_same_series_as_upstream_for_the_core_resources(objects: Objects, restricted_kubeconfig_path: Path,
                                                       spawn: Any) -> None:
    flags = [f"--resources={CORE}", "--metric-labels-allowlist=pods=[app],deployments=[*],namespaces=[*]",
             "--metric-annotations-allowlist=pods=[*]"]
    objects.create(deployment("same", 2))
    objects.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "loner", "annotations": {"a/b": "c\"d"},
                                                                     "labels": {"app": "loner"}},
                    "spec": {"nodeName": "kwok-node-0", "initContainers": [{"name": "init", "image": "i:1"}],
                             "containers": [{"name": "c", "image": "c:1", "resources": {
                                 "requests": {"cpu": "1", "memory": "1e3", "ephemeral-storage": "2Gi"}}}],
                             "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]}})
    objects.wait("pods running", lambda: pods_running(objects, "same", 2)() and pods_running(objects, "loner", 1)(), 90)
    ours = ksm_py(spawn, restricted_kubeconfig_path, *flags)
    theirs = upstream(spawn, restricted_kubeconfig_path, *flags)
    ours.wait_ready()

    def compare() -> tuple[dict[str, str], dict[str, str]]:
        return series(theirs.metrics()), series(ours.metrics())
    try:
        wait_for("identical series", lambda: (lambda a, b: a == b)(*compare()), 60)
    except TimeoutError:
        pytest.fail("upstream (-) vs ksm-py (+): " + diff(*compare()))
    a, b = theirs.metrics(), ours.metrics()
    ns = objects.namespace
    assert len(series(b, prefix="kube_pod_info{", where=[("namespace", ns)])) == 3
    assert series(b, prefix="kube_pod_annotations{", where=[("namespace", ns), ("pod", "loner")])
    assert sorted(line for line in a.splitlines() if line.startswith("#")) == \
        sorted(line for line in b.splitlines() if line.startswith("#"))


def test_promtool_accepts_full_exposition(objects: Objects, restricted_kubeconfig_path: Path, spawn: Any,
                                          tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing (Debian package prometheus; .ci/run installs it)")
    objects.create(deployment("lint", 1))
    exp = ksm_py(spawn, restricted_kubeconfig_path)
    exp.wait_ready()
    body = exp.metrics()
    assert "kube_pod_info{" in body and "kube_node_info{" in body
    result = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, text=True)
    # rc 1 = parse error; rc 3 = lint findings only. Neither is acceptable.
    assert result.returncode == 0, result.stdout + result.stderr
