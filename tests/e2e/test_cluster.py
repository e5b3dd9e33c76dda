"""The local control plane behaves like a real cluster (issue: control plane without Docker)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config
from kubernetes.client.rest import ApiException

from harness import build
from harness.controlplane import ControlPlane, listening_sockets, process_tree, wait_for
from tests.conftest import Objects, built, free_port, http_get, wait_http_ok

pytestmark = pytest.mark.e2e

CONTAINER = {"name": "app", "image": "registry.example/app:1.0", "resources": {"requests": {"cpu": "100m"}}}


def deployment(name: str, replicas: int, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [CONTAINER]}}},
    }


def test_deployment_pods_run_on_kwok_nodes_and_service_gets_endpointslice(objects: Objects) -> None:
    objects.create(deployment("web", 3, {"app": "web"}))
    objects.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                    "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}})

    def running_pods() -> list[dict[str, Any]]:
        pods = objects.list("v1", "Pod", label_selector="app=web")
        ok = [p for p in pods if p["status"].get("phase") == "Running" and p["status"].get("containerStatuses")]
        return ok if len(ok) == 3 else []
    pods = objects.wait("3 running web pods", running_pods, 90)

    replicasets = objects.list("apps/v1", "ReplicaSet", label_selector="app=web")
    assert len(replicasets) == 1
    rs = replicasets[0]
    assert rs["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    for pod in pods:
        assert pod["spec"]["nodeName"].startswith("kwok-node-")
        assert pod["metadata"]["ownerReferences"][0]["name"] == rs["metadata"]["name"]
        status = pod["status"]["containerStatuses"][0]
        assert status["name"] == "app" and status["ready"] is True and "running" in status["state"]
        assert pod["status"]["podIP"]

    def slice_addresses() -> set[str]:
        slices = objects.list("discovery.k8s.io/v1", "EndpointSlice", label_selector="kubernetes.io/service-name=web")
        return {a for s in slices for e in (s.get("endpoints") or []) for a in e["addresses"]}
    want = {p["status"]["podIP"] for p in pods}
    assert objects.wait("EndpointSlice lists the pods", lambda: slice_addresses() == want, 60)


def test_job_completes_and_cronjob_creates_a_job(objects: Objects) -> None:
    objects.create({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "tick"},
                    "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
                        "restartPolicy": "Never", "containers": [CONTAINER]}}}}}})
    objects.create({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
                    "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [CONTAINER]}}}})

    def job_complete() -> bool:
        job = objects.get("batch/v1", "Job", "once")
        return any(c["type"] == "Complete" and c["status"] == "True" for c in job["status"].get("conditions") or [])
    objects.wait("Job complete", job_complete, 90)
    assert objects.get("batch/v1", "Job", "once")["status"]["succeeded"] == 1

    def cron_job_created() -> list[dict[str, Any]]:
        return [j for j in objects.list("batch/v1", "Job")
                if (j["metadata"].get("ownerReferences") or [{}])[0].get("kind") == "CronJob"]
    jobs = objects.wait("CronJob created a Job", cron_job_created, 130)
    assert jobs[0]["metadata"]["ownerReferences"][0]["name"] == "tick"


def test_deleting_a_namespace_removes_its_objects(objects: Objects, cluster: Any) -> None:
    objects.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}})
    objects.create(deployment("gone", 1, {"app": "gone"}))
    objects.wait("pod created", lambda: objects.list("v1", "Pod", label_selector="app=gone"), 60)
    cluster.rest.request("DELETE", f"/api/v1/namespaces/{objects.namespace}")

    def namespace_gone() -> bool:
        try:
            cluster.rest.get(f"/api/v1/namespaces/{objects.namespace}")
        except Exception as e:  # noqa: BLE001
            return getattr(e, "status", None) == 404
        return False
    objects.wait("namespace deleted", namespace_gone, 120)
    assert cluster.rest.get(f"/api/v1/namespaces/{objects.namespace}/pods")["items"] == []
    assert cluster.rest.get(f"/api/v1/namespaces/{objects.namespace}/configmaps")["items"] == []


def test_restricted_identity_can_list_and_watch_but_not_write(objects: Objects, restricted_kubeconfig_path: Path) -> None:
    objects.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "visible"}})
    api = k8s.CoreV1Api(config.new_client_from_config(config_file=str(restricted_kubeconfig_path)))
    names = [c.metadata.name for c in api.list_namespaced_config_map(objects.namespace).items]
    assert "visible" in names
    resp = api.list_namespaced_config_map(objects.namespace, watch=True, timeout_seconds=1, _preload_content=False)
    assert resp.status == 200
    resp.close()
    with pytest.raises(ApiException) as denied:
        api.create_namespaced_pod(objects.namespace, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},
                                                      "spec": {"containers": [CONTAINER]}})
    assert denied.value.status == 403
    with pytest.raises(ApiException) as not_granted:
        k8s.CoreV1Api(api.api_client).read_namespaced_config_map("visible", objects.namespace)
    assert not_granted.value.status == 403  # only list/watch, not get


def test_upstream_kube_state_metrics_serves_pod_info(objects: Objects, restricted_kubeconfig_path: Path,
                                                     spawn: Any) -> None:
    built(build.KSM)
    objects.create(deployment("ref", 2, {"app": "ref"}))
    objects.wait("2 pods", lambda: len(objects.list("v1", "Pod", label_selector="app=ref")) == 2, 60)
    port, tport = free_port(), free_port()
    proc = spawn([str(build.KSM.binary()), f"--kubeconfig={restricted_kubeconfig_path}", "--host=127.0.0.1",
                  f"--port={port}", "--telemetry-host=127.0.0.1", f"--telemetry-port={tport}", "--resources=pods"],
                 name="kube-state-metrics")
    wait_http_ok(f"http://127.0.0.1:{port}/healthz", proc=proc)

    def pod_info_lines() -> list[str]:
        body = http_get(f"http://127.0.0.1:{port}/metrics")[2].decode()
        return [line for line in body.splitlines()
                if line.startswith("kube_pod_info{") and f'namespace="{objects.namespace}"' in line]
    lines = wait_for("kube_pod_info for the pods", lambda: len(pod_info_lines()) == 2 and pod_info_lines(), 60)
    assert all('created_by_kind="ReplicaSet"' in line and 'node="kwok-node-' in line for line in lines)


def test_everything_listens_on_loopback_only(cluster: Any) -> None:
    if not isinstance(cluster, ControlPlane):
        pytest.skip("only meaningful for the local control plane")
    pids = list(process_tree(list(cluster.pids().values())))
    sockets = listening_sockets(pids)
    assert sockets, "expected the control plane to listen somewhere"
    assert {port for _, _, port in sockets} >= {cluster.ports["apiserver"], cluster.ports["etcd"]}
    assert [s for s in sockets if s[1] != "127.0.0.1"] == []


def test_up_and_down_leave_no_process_behind(tmp_path: Path) -> None:
    """The CLI path users run by hand: `up` detaches, `down` kills every process it started."""
    env = {**os.environ, "KSM_PY_CLUSTER_DIR": str(tmp_path / "c")}
    root = Path(__file__).resolve().parents[2]
    up = subprocess.run([sys.executable, "-m", "harness", "up", "--nodes", "1"], cwd=root, env=env,
                        capture_output=True, text=True, timeout=300)
    assert up.returncode == 0, up.stdout + up.stderr
    import json
    state = json.loads((tmp_path / "c" / "state.json").read_text())
    pids = list(state["pids"].values())
    try:
        assert all(Path(f"/proc/{p}").exists() for p in pids)
        env_out = subprocess.run([sys.executable, "-m", "harness", "env"], cwd=root, env=env,
                                 capture_output=True, text=True, check=True).stdout
        assert f"KUBECONFIG={tmp_path / 'c' / 'admin.kubeconfig'}" in env_out
    finally:
        down = subprocess.run([sys.executable, "-m", "harness", "down"], cwd=root, env=env,
                              capture_output=True, text=True, timeout=60)
    assert down.returncode == 0, down.stderr
    wait_for("cluster processes gone", lambda: not any(_alive(p) for p in pids), 20)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie awaiting its (detached) parent counts as gone.
    return "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


_ = signal  # imported for clarity of the kill semantics above
