"""deploy/ on the cluster: every kustomize rendering is accepted by the API server, its workloads get
their pods, and ksm-py run with each workload's own flags and the manifests' ServiceAccount token
syncs; the shipped RBAC grants what that needs and nothing else."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.controlplane import service_account_kubeconfig, wait_for
from harness.manifests import VARIANTS, KustomizeMissing, apply_all, container, delete_all, render, workloads
from harness.rest import Rest
from ksm_py.families import RESOURCES
from ksm_py.options import DEFAULT_RESOURCES
from tests.conftest import Objects, Process, free_port, http_get, ksm_py_argv, wait_http_ok
from tests.expo import series

pytestmark = pytest.mark.e2e

SA = "kube-state-metrics"
LISTENERS = ("--host=", "--port=", "--telemetry-host=", "--telemetry-port=")


class Ksm:
    """ksm-py on loopback ports."""

    def __init__(self, spawn: Callable[..., Process], kubeconfig: Path, args: list[str], name: str) -> None:
        self.port, self.tport = free_port(), free_port()
        self.proc = spawn([*ksm_py_argv(), f"--kubeconfig={kubeconfig}", "--host=127.0.0.1", f"--port={self.port}",
                           "--telemetry-host=127.0.0.1", f"--telemetry-port={self.tport}", *args], name=name)
        wait_http_ok(f"http://127.0.0.1:{self.port}/healthz", timeout=90, proc=self.proc)

    def wait_ready(self, timeout: float = 120) -> None:
        def ready() -> bool:
            if self.proc.proc.poll() is not None:
                raise RuntimeError(f"ksm-py exited {self.proc.proc.returncode}:\n{self.proc.tail()}")
            return http_get(f"http://127.0.0.1:{self.tport}/readyz", timeout=10)[0] == 200
        wait_for("ksm-py /readyz", ready, timeout, interval=0.5,
                 on_timeout=lambda: f"\n{self.telemetry()}\n{self.proc.tail()}")

    def metrics(self) -> str:
        return http_get(f"http://127.0.0.1:{self.port}/metrics", timeout=60)[2].decode()

    def wait_reports(self, needle: str, timeout: float = 30) -> None:
        wait_for(f"{needle} in ksm-py's /metrics", lambda: needle in self.metrics(), timeout, interval=0.5)

    def telemetry(self) -> str:
        return http_get(f"http://127.0.0.1:{self.tport}/metrics", timeout=30)[2].decode()


def rendered(variant: str) -> list[dict[str, Any]]:
    try:
        return render(variant)
    except KustomizeMissing as e:
        pytest.fail(str(e))


def test_shipped_cluster_role_syncs_every_default_resource(restricted_kubeconfig_path: Path, spawn: Any) -> None:
    """The identity bound to deploy/base/cluster-role.yaml only, with the base Deployment's --resources
    (the defaults plus events and topology): every resource lists, none is forbidden."""
    (deployment,) = [d for d in rendered("base") if d["kind"] == "Deployment"]
    args = [a for a in deployment["spec"]["template"]["spec"]["containers"][0]["args"] if a.startswith("--resources=")]
    assert {"events", "topology"} <= set(args[0].split("=", 1)[1].split(","))
    ksm = Ksm(spawn, restricted_kubeconfig_path, args, "ksm-py-defaults")
    ksm.wait_ready()
    telemetry = ksm.telemetry()
    synced = series(telemetry, prefix="ksm_py_resource_synced{")
    resources = {m.group(1) for m in (re.search(r'resource="([^"]*)"', k) for k in synced) if m}
    assert {r for r in DEFAULT_RESOURCES if r in RESOURCES} <= resources, telemetry
    assert set(synced.values()) == {"1"}, synced
    assert not [k for k in series(telemetry, prefix="ksm_py_api_errors_total{") if 'status="403"' in k]
    metrics = ksm.metrics()
    for family in ("kube_node_info{", "kube_configmap_info{", "kube_namespace_created{", "kube_lease_owner{",
                   "kube_topology_component{"):
        assert family in metrics, family


def sar(rest: Rest, user: str, groups: list[str], verb: str, resource: str, *, group: str = "",
        namespace: str = "", name: str = "") -> bool:
    attributes = {"verb": verb, "group": group, "resource": resource, "namespace": namespace, "name": name}
    review = rest.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": user, "groups": groups, "resourceAttributes": attributes}})
    return bool(review["status"].get("allowed"))


def check_rbac(rest: Rest, namespace: str, autosharding: bool) -> None:
    user = f"system:serviceaccount:{namespace}:{SA}"
    groups = ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"]

    def can(verb: str, resource: str, **kw: str) -> bool:
        return sar(rest, user, groups, verb, resource, **kw)
    allowed = [("list", "pods", {}), ("watch", "nodes", {}), ("list", "secrets", {}),
               ("watch", "deployments", {"group": "apps"}), ("list", "leases", {"group": "coordination.k8s.io"}),
               ("list", "jobs", {"group": "batch", "namespace": "default"})]
    denied = [("get", "secrets", {"namespace": "default", "name": "x"}), ("create", "pods", {"namespace": "default"}),
              ("delete", "deployments", {"group": "apps", "namespace": namespace}), ("update", "nodes", {}),
              ("list", "priorityclasses", {"group": "scheduling.k8s.io"}),
              ("watch", "csidrivers", {"group": "storage.k8s.io"}),
              ("get", "pods", {"namespace": "default", "name": "x"}), ("create", "pods/exec", {"namespace": namespace}),
              ("get", "statefulsets", {"group": "apps", "namespace": namespace, "name": "other"})]
    # Auto-sharding adds get on the pods of its namespace and on its own StatefulSet, nothing else.
    own = [("get", "pods", {"namespace": namespace, "name": f"{SA}-0"}),
           ("get", "statefulsets", {"group": "apps", "namespace": namespace, "name": SA})]
    if autosharding:
        allowed += own
    else:
        denied += own
    for verb, resource, kw in allowed:
        assert can(verb, resource, **kw), f"{user} should be allowed to {verb} {resource} {kw}"
    for verb, resource, kw in denied:
        assert not can(verb, resource, **kw), f"{user} must not be allowed to {verb} {resource} {kw}"


def pods_of(rest: Rest, workload: dict[str, Any]) -> list[dict[str, Any]]:
    ns = workload["metadata"]["namespace"]
    selector = ",".join(f"{k}={v}" for k, v in workload["spec"]["selector"]["matchLabels"].items())
    return rest.get(f"/api/v1/namespaces/{ns}/pods?labelSelector={selector}")["items"]


def wait_running(rest: Rest, workload: dict[str, Any]) -> list[dict[str, Any]]:
    ns, name, kind = workload["metadata"]["namespace"], workload["metadata"]["name"], workload["kind"]
    path = f"/apis/apps/v1/namespaces/{ns}/{kind.lower()}s/{name}"

    def running() -> list[dict[str, Any]]:
        if kind == "DaemonSet":
            want = rest.get(path).get("status", {}).get("desiredNumberScheduled", 0)
        else:
            want = workload["spec"].get("replicas", 1)
        pods = [p for p in pods_of(rest, workload) if p["status"].get("phase") == "Running"
                and not p["metadata"].get("deletionTimestamp")]
        return pods if want and len(pods) == want else []
    return wait_for(f"{kind} {ns}/{name} pods Running", running, 120, interval=0.5)


def resolved_args(c: dict[str, Any], pod: dict[str, Any]) -> list[str]:
    """The container's args with $(VAR) from the downward API of ``pod``, listeners left out."""
    fields = {"metadata.name": pod["metadata"]["name"], "metadata.namespace": pod["metadata"]["namespace"],
              "spec.nodeName": pod["spec"].get("nodeName", "")}
    env = {e["name"]: e.get("value") or fields[e["valueFrom"]["fieldRef"]["fieldPath"]] for e in c.get("env", [])}
    args = [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a) for a in c["args"]]
    return [a for a in args if not a.startswith(LISTENERS)]


def pod_nodes(text: str) -> set[str]:
    return {m.group(1) for k in series(text, prefix="kube_pod_info{") for m in [re.search(r'\bnode="([^"]*)"', k)]
            if m}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_manifests_apply_and_their_workloads_run(cluster: Any, objects: Objects, spawn: Any, tmp_path: Path,
                                                 variant: str) -> None:
    docs = rendered(variant)
    rest: Rest = cluster.rest
    namespace = next(d["metadata"]["namespace"] for d in docs if d["kind"] == "ServiceAccount")
    if variant == "daemonset":
        # A pod no node takes: only the unscheduled-pods instance reports it.
        objects.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "homeless"},
                        "spec": {"nodeSelector": {"ksm-py.e2e/nowhere": "true"},
                                 "containers": [{"name": "c", "image": "registry.example/c:1"}]}})
    try:
        apply_all(rest, docs)  # server-side apply of every object: the API server accepts them all
        found = workloads(docs)
        pods = {w["metadata"]["name"]: wait_running(rest, w) for w in found}
        # The one headless Service fronts every workload's pods on both named ports.
        def sliced() -> bool:
            slices = rest.get(f"/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices"
                              "?labelSelector=kubernetes.io%2Fservice-name%3Dkube-state-metrics")["items"]
            ips = {a for s in slices for e in s.get("endpoints") or [] for a in e["addresses"]}
            ports = {p["name"] for s in slices for p in s.get("ports") or []}
            return ips == {p["status"]["podIP"] for ps in pods.values() for p in ps} and \
                ports == {"http-metrics", "telemetry"}
        wait_for("EndpointSlices of Service kube-state-metrics list every pod", sliced, 60)
        check_rbac(rest, namespace, autosharding=variant == "autosharding")

        kubeconfig = service_account_kubeconfig(rest, cluster.admin_kubeconfig, name=SA, namespace=namespace,
                                                path=tmp_path / f"{variant}.kubeconfig")
        for w in found:
            name = w["metadata"]["name"]
            pod = sorted(pods[name], key=lambda p: p["metadata"]["name"])[0]
            args = resolved_args(container(w), pod)
            ksm = Ksm(spawn, kubeconfig, args, name)
            ksm.wait_ready()
            if w["kind"] == "StatefulSet":
                check_autosharding(rest, w, ksm)
            elif w["kind"] == "DaemonSet":
                nodes = pod_nodes(ksm.metrics())
                assert nodes == {pod["spec"]["nodeName"]}, nodes
            elif "--track-unscheduled-pods" in args:
                ksm.wait_reports('pod="homeless"')
                assert pod_nodes(ksm.metrics()) == {""}
            else:
                text = ksm.metrics()
                assert "kube_node_info{" in text
                assert ("kube_pod_info{" in text) == (variant != "daemonset")
            ksm.proc.stop()
    finally:
        # The ClusterRole stays: the session's restricted identity (same content) is bound to it.
        delete_all(rest, docs, keep_kinds=("ClusterRole",))


def check_autosharding(rest: Rest, sts: dict[str, Any], ksm: Ksm) -> None:
    """Shard = the pod's ordinal, total = the StatefulSet's replicas, followed when it is scaled."""
    replicas = sts["spec"]["replicas"]

    def total_shards() -> str | None:
        return series(ksm.telemetry()).get("kube_state_metrics_total_shards{}")
    text = ksm.telemetry()
    assert total_shards() == str(replicas), text
    assert series(text).get('kube_state_metrics_shard_ordinal{shard_ordinal="0"}') == "0", text
    ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
    rest.request("PATCH", f"/apis/apps/v1/namespaces/{ns}/statefulsets/{name}", {"spec": {"replicas": replicas + 1}},
                 content_type="application/merge-patch+json")
    wait_for("ksm-py re-sharded after the StatefulSet was scaled up", lambda: total_shards() == str(replicas + 1), 60)
