"""Prometheus in the loop: the shipped scrape job (kubernetes_sd, role endpoints, keep
kube-system;kube-state-metrics) discovers ksm-py through the real API server, and the seed's
queries, the shipped alert expressions and recording rules select exactly the broken objects of a
cluster state set up here (a failed Job, a NotReady node, Pending pods, a crash-looping container,
a Deployment short of replicas, a Pending PVC, ConfigMaps).

Endpoints cannot hold 127.0.0.1, so the Service's Endpoints point at 192.0.2.10 (a documentation
address) and a relabel rule rewrites ``__address__`` to the loopback, keeping the port.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
import time
import urllib.parse
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import build
from harness.controlplane import ControlPlane, wait_for
from harness.manifests import DEPLOY
from harness.rest import ApiError, Rest
from tests.conftest import Objects, Process, built, free_port, http_get, ksm_py_argv, wait_http_ok
from tests.expo import series

pytestmark = pytest.mark.e2e

PROM = DEPLOY / "prometheus"
JOB = "kube-state-metrics"
DOC_ADDRESS = "192.0.2.10"
NOWHERE = {"ksm-py.e2e/nowhere": "true"}
CONFIGMAPS = 5
IMAGE = "registry.example/app:1"
REQUESTS = {"requests": {"cpu": "100m", "memory": "16Mi"}}


def prometheus_binary() -> Path:
    """Prometheus with Kubernetes SD: Debian's 2.42 package is built without it (its promtool and
    prometheus reject `kubernetes_sd_configs`), so the harness builds one from the Go module proxy."""
    return built(build.PROMETHEUS)


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    def api(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        status, _, body = http_get(f"{self.url}/api/v1/{path}{query}", timeout=30)
        assert status == 200, body[:500]
        doc = json.loads(body)
        assert doc["status"] == "success", doc
        return doc["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.api("query", query=expr)
        assert data["resultType"] == "vector", data
        return data["result"]

    def targets(self) -> list[dict[str, Any]]:
        return [t for t in self.api("targets")["activeTargets"] if t["labels"].get("job") == JOB]


@dataclasses.dataclass
class Stack:
    prom: Prometheus
    ksm: Process
    port: int
    tport: int
    ns: str
    node: str
    objects: Objects
    rest: Rest


def kube_system_service(ports: dict[str, int]) -> list[dict[str, Any]]:
    """deploy/base's Service without its selector, and Endpoints at the documentation address."""
    service = yaml.safe_load((DEPLOY / "base" / "service.yaml").read_text())
    del service["spec"]["selector"]
    assert [p["name"] for p in service["spec"]["ports"]] == list(ports)
    endpoints = {"apiVersion": "v1", "kind": "Endpoints",
                 "metadata": {"name": service["metadata"]["name"], "namespace": service["metadata"]["namespace"],
                              "labels": service["metadata"]["labels"]},
                 "subsets": [{"addresses": [{"ip": DOC_ADDRESS}],
                              "ports": [{"name": n, "port": p, "protocol": "TCP"} for n, p in ports.items()]}]}
    return [service, endpoints]


def prometheus_config(kubeconfig: Path) -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml, with the SD pointed at the local API server, short intervals,
    and the rewrite of the documentation address to the loopback."""
    cfg = yaml.safe_load((PROM / "prometheus.yml").read_text())
    cfg["global"] = {"scrape_interval": "2s", "scrape_timeout": "2s", "evaluation_interval": "2s"}
    cfg["rule_files"] = [str(PROM / f) for f in cfg["rule_files"]]
    (job,) = cfg["scrape_configs"]
    for sd in job["kubernetes_sd_configs"]:
        sd["kubeconfig_file"] = str(kubeconfig)
    job["relabel_configs"].append({"source_labels": ["__address__"], "regex": r"[^:]+:(\d+)",
                                   "replacement": "127.0.0.1:${1}", "target_label": "__address__"})
    return cfg


def pod(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": [{"name": "c", "image": IMAGE, "resources": REQUESTS}], **spec}}


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def patch_status(rest: Rest, path: str, status: dict[str, Any]) -> None:
    rest.request("PATCH", f"{path}/status", {"status": status}, content_type="application/merge-patch+json")


def unmanaged_node(rest: Rest, cluster: Any, name: str) -> None:
    """A Node kwok does not play (no kwok annotation) reporting Ready=False, as a dead kubelet's would."""
    if isinstance(cluster, ControlPlane) and cluster.manage_all_nodes:
        pytest.fail("the session ControlPlane must run with manage_all_nodes=False (tests/conftest.py)")
    rest.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {
        "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "ksm-py.e2e/unmanaged": "true"}}})
    patch_status(rest, f"/api/v1/nodes/{name}", {"conditions": [{
        "type": "Ready", "status": "False", "reason": "KubeletNotReady", "message": "container runtime is down",
        "lastHeartbeatTime": now(), "lastTransitionTime": now()}]})


def set_up_cluster_state(s: Stack) -> None:
    o, ns = s.objects, s.ns
    for i in range(CONFIGMAPS):
        o.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}"}, "data": {"k": "v"}})
    # Pending: no node matches the selector.
    o.create(pod("pending", nodeSelector=NOWHERE))
    # A Deployment whose 2 replicas never become available.
    o.create({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "stuck"},
              "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "stuck"}},
                       "template": {"metadata": {"labels": {"app": "stuck"}}, "spec": {
                           "nodeSelector": NOWHERE,
                           "containers": [{"name": "c", "image": IMAGE, "resources": REQUESTS}]}}}})
    # A claim no provisioner serves.
    o.create({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "claim"},
              "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "ksm-py-e2e-none",
                       "resources": {"requests": {"storage": "1Gi"}}}})
    # A Job whose only pod fails: it runs on the node kwok ignores (kwok would make it succeed), and
    # its status is written here as a kubelet would; the real Job controller then fails the Job.
    o.create({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "fails"},
              "spec": {"backoffLimit": 0, "template": {"metadata": {"labels": {"app": "fails"}}, "spec": {
                  "restartPolicy": "Never", "nodeName": s.node,
                  # Stay on the NotReady node (no eviction after the default 300 s).
                  "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
                                  {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                                   "effect": "NoExecute"}],
                  "containers": [{"name": "c", "image": IMAGE, "resources": REQUESTS}]}}}})
    job_pod = o.wait("the Job's pod", lambda: o.list("v1", "Pod", label_selector="app=fails"), 60)[0]
    t = now()
    patch_status(s.rest, f"/api/v1/namespaces/{ns}/pods/{job_pod['metadata']['name']}", {
        "phase": "Failed", "startTime": t,
        "containerStatuses": [{"name": "c", "image": IMAGE, "imageID": "", "ready": False, "restartCount": 0,
                               "state": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": t,
                                                        "finishedAt": t}}}]})

    def job_failed() -> bool:
        conditions = o.get("batch/v1", "Job", "fails")["status"].get("conditions") or []
        return any(c["type"] == "Failed" and c["status"] == "True" for c in conditions)
    o.wait("Job fails Failed", job_failed, 90)
    # A pod that will crash-loop; kwok runs it first.
    o.create(pod("crashy", nodeSelector={"type": "kwok"}))
    o.wait("crashy Running", lambda: o.get("v1", "Pod", "crashy")["status"].get("phase") == "Running", 60)


def crash_loop(s: Stack) -> None:
    """crashy's container restarts and backs off, as its kubelet would report it."""
    t = now()
    patch_status(s.rest, f"/api/v1/namespaces/{s.ns}/pods/crashy", {"containerStatuses": [{
        "name": "c", "image": IMAGE, "imageID": "", "ready": False, "started": False, "restartCount": 3,
        "state": {"waiting": {"reason": "CrashLoopBackOff",
                              "message": "back-off 40s restarting failed container=c pod=crashy"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": t, "finishedAt": t}}}]})


@pytest.fixture(scope="module")
def stack(cluster: Any, dyn: Any, restricted_kubeconfig_path: Path, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Stack]:
    prom_bin = prometheus_binary()
    work = tmp_path_factory.mktemp("prometheus")
    rest: Rest = cluster.rest
    suffix = uuid.uuid4().hex[:6]
    ns, node = f"t-prom-{suffix}", f"ksm-py-e2e-notready-{suffix}"
    started: list[Process] = []
    kube_system: list[dict[str, Any]] = []
    rest.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    try:
        wait_for(f"default ServiceAccount in {ns}", lambda: rest.get(f"/api/v1/namespaces/{ns}/serviceaccounts/default"),
                 60)
        port, tport = free_port(), free_port()
        ksm = Process([*ksm_py_argv(), f"--kubeconfig={restricted_kubeconfig_path}", "--host=127.0.0.1",
                       f"--port={port}", "--telemetry-host=127.0.0.1", f"--telemetry-port={tport}",
                       # Prometheus asks for gzip: it then reads a body of many gzip members.
                       "--enable-gzip-encoding"],
                      work / "ksm-py.log")
        started.append(ksm)
        wait_http_ok(f"http://127.0.0.1:{tport}/readyz", timeout=120, proc=ksm)

        # Whatever else named the Service (a deploy/ test) goes first: this one has no selector.
        kube_system = kube_system_service({"http-metrics": port, "telemetry": tport})
        for obj in reversed(kube_system):
            rest.delete(obj)
        wait_for("old kube-state-metrics Endpoints gone", lambda: _absent(rest, kube_system[1]), 60)
        for obj in kube_system:
            rest.apply(obj)

        config = work / "prometheus.yml"
        config.write_text(yaml.safe_dump(prometheus_config(cluster.admin_kubeconfig)))
        prom_port = free_port()
        prom = Process([str(prom_bin), f"--config.file={config}", f"--storage.tsdb.path={work / 'tsdb'}",
                        f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"], work / "prometheus.log")
        started.append(prom)
        wait_http_ok(f"http://127.0.0.1:{prom_port}/-/ready", timeout=90, proc=prom)

        unmanaged_node(rest, cluster, node)
        s = Stack(Prometheus(f"http://127.0.0.1:{prom_port}"), ksm, port, tport, ns, node, Objects(dyn, ns), rest)
        set_up_cluster_state(s)
        # Prometheus must see crashy's counter at 0 before it restarts, or there is no increase.
        wait_for("crashy's restart counter scraped at 0", lambda: [
            r for r in s.prom.query(f'kube_pod_container_status_restarts_total{{namespace="{ns}",pod="crashy"}}')
            if r["value"][1] == "0"], 60, interval=1, on_timeout=lambda: "\n" + prom.tail())
        time.sleep(2.5)  # one more scrape at 0
        crash_loop(s)
        yield s
    finally:
        for p in reversed(started):
            p.stop()
        for obj in reversed(kube_system):
            _quiet(lambda o=obj: rest.delete(o))
        _quiet(lambda: rest.request("DELETE", f"/api/v1/namespaces/{ns}"))
        _quiet(lambda: rest.request("DELETE", f"/api/v1/nodes/{node}"))


def _absent(rest: Rest, obj: dict[str, Any]) -> bool:
    try:
        rest.get(f"/api/v1/namespaces/{obj['metadata']['namespace']}/endpoints/{obj['metadata']['name']}")
    except ApiError as e:
        return e.status == 404
    return False


def _quiet(action: Any) -> None:
    try:
        action()
    except Exception:  # noqa: BLE001 - best-effort cleanup
        pass


def eventually(what: str, check: Any, timeout: float = 60) -> Any:
    return wait_for(what, check, timeout, interval=1)


def in_ns(results: list[dict[str, Any]], ns: str) -> list[dict[str, str]]:
    return [r["metric"] for r in results if r["metric"].get("namespace") == ns]


def alert_exprs(files: tuple[str, ...] = ("rules.yml",)) -> dict[str, str]:
    docs = [yaml.safe_load((PROM / f).read_text()) for f in files]
    return {r["alert"]: r["expr"] for doc in docs for g in doc["groups"] for r in g["rules"] if "alert" in r}


def rule_files() -> tuple[str, ...]:
    """What deploy/prometheus/prometheus.yml loads."""
    return tuple(yaml.safe_load((PROM / "prometheus.yml").read_text())["rule_files"])


def stuck_pods(s: Stack) -> set[str]:
    return {p["metadata"]["name"] for p in s.objects.list("v1", "Pod", label_selector="app=stuck")}


# -- discovery and scraping ----------------------------------------------------------------------
def test_prometheus_discovers_and_scrapes_ksm_py_through_the_api_server(stack: Stack) -> None:
    def both_up() -> list[dict[str, Any]]:
        targets = stack.prom.targets()
        return targets if len(targets) == 2 and all(t["health"] == "up" for t in targets) else []
    try:
        targets = eventually("both ksm-py ports scraped", both_up)
    except TimeoutError:
        pytest.fail(f"targets: {stack.prom.targets()}")
    assert sorted(t["scrapeUrl"] for t in targets) == sorted(
        f"http://127.0.0.1:{p}/metrics" for p in (stack.port, stack.tport))
    for t in targets:
        assert t["lastError"] == ""
        found = t["discoveredLabels"]
        assert found["__meta_kubernetes_namespace"] == "kube-system"
        assert found["__meta_kubernetes_endpoints_name"] == "kube-state-metrics"
        assert found["__address__"].startswith(f"{DOC_ADDRESS}:")
    up = stack.prom.query(f'up{{job="{JOB}"}}')
    assert sorted((r["metric"]["instance"], r["value"][1]) for r in up) == sorted(
        (f"127.0.0.1:{p}", "1") for p in (stack.port, stack.tport))
    samples = stack.prom.query(f'scrape_samples_scraped{{job="{JOB}",instance="127.0.0.1:{stack.port}"}}')
    assert samples and float(samples[0]["value"][1]) > 100
    # Prometheus' own counters (it does not scrape itself here): nothing ksm-py sent was rejected.
    own = series(http_get(f"{stack.prom.url}/metrics")[2].decode())
    for counter in ("prometheus_target_scrapes_sample_duplicate_timestamp_total",
                    "prometheus_target_scrapes_sample_out_of_order_total",
                    "prometheus_target_scrapes_sample_out_of_bounds_total"):
        assert own[counter + "{}"] == "0", counter


def gzip_members(body: bytes) -> int:
    """How many gzip members follow one another in ``body`` (each decoded on its own)."""
    count = 0
    while body:
        member = zlib.decompressobj(31)
        member.decompress(body)
        assert member.eof, "a truncated gzip member"
        body = member.unused_data
        count += 1
    return count


def test_prometheus_reads_a_gzip_body_of_many_members(stack: Stack) -> None:
    url = f"http://127.0.0.1:{stack.port}/metrics"
    status, headers, body = http_get(url, headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip_members(body) > 100  # a member per family column at least, and one per header
    text = gzip.decompress(body).decode()
    assert text.count("\n# HELP ") > 100 and text.endswith("\n")

    def gzip_served() -> float:
        families = series(http_get(f"http://127.0.0.1:{stack.tport}/metrics")[2].decode())
        return float(families.get('ksm_py_scrape_duration_seconds_count{encoding="gzip"}', "0"))
    before = gzip_served()

    def scraped_again() -> list[dict[str, Any]]:
        target = [t for t in stack.prom.targets() if t["scrapeUrl"] == url]
        return target if target and gzip_served() >= before + 2 else []
    (target,) = eventually("Prometheus scrapes the main port again (gzip)", scraped_again)
    assert target["health"] == "up" and target["lastError"] == ""
    # Everything ksm-py sent was read: Prometheus has as many samples as the decoded body has lines
    # (events come and go between the two scrapes, hence the margin).
    lines = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    scraped = stack.prom.query(f'scrape_samples_scraped{{job="{JOB}",instance="127.0.0.1:{stack.port}"}}')
    assert abs(float(scraped[0]["value"][1]) - lines) <= lines * 0.02
    pods = stack.prom.query(f'count(kube_pod_info{{namespace="{stack.ns}"}})')
    assert int(pods[0]["value"][1]) == text.count(f'kube_pod_info{{namespace="{stack.ns}"')


# -- the seed's queries ------------------------------------------------------------------------------
def test_the_seed_queries(stack: Stack) -> None:
    s, ns = stack, stack.ns

    # How many ConfigMaps the cluster has: count(kube_configmap_created).
    def configmaps_counted() -> bool:
        total = len(s.rest.get("/api/v1/configmaps")["items"])
        result = s.prom.query("count(kube_configmap_created)")
        return bool(result) and result[0]["value"][1] == str(total)
    eventually("count(kube_configmap_created) == ConfigMaps in the cluster", configmaps_counted)
    mine = s.prom.query(f'count(kube_configmap_created{{namespace="{ns}"}})')
    assert mine[0]["value"][1] == str(CONFIGMAPS + 1)  # and kube-root-ca.crt

    # Failed Jobs. The article's selectors job="kubernetes-service-endpoints",k8s_app="kube-state-metrics"
    # belong to a generic service-endpoints job; with its own kube-state-metrics job it reads:
    assert s.prom.query('kube_job_status_failed{job="kubernetes-service-endpoints",k8s_app="kube-state-metrics"}==1') == []
    failed = eventually("the failed Job", lambda: in_ns(s.prom.query(f'kube_job_status_failed{{job="{JOB}"}}==1'), ns))
    assert [(m["job_name"], m["reason"]) for m in failed] == [("fails", "BackoffLimitExceeded")]

    # Nodes in error.
    def not_ready() -> list[str]:
        return [r["metric"]["node"] for r in s.prom.query('kube_node_status_condition{condition="Ready",status!="true"}==1')]
    assert eventually("the NotReady node", not_ready) == [s.node]

    # Pods that failed to start.
    def broken() -> dict[str, str] | None:
        found = {m["pod"]: m["phase"] for m in in_ns(
            s.prom.query('kube_pod_status_phase{phase=~"Failed|Unknown|Pending"}==1'), ns)}
        return found if len(found) == 4 else None
    found = eventually("Pending and Failed pods", broken)
    job_pod = {p["metadata"]["name"] for p in s.objects.list("v1", "Pod", label_selector="app=fails")}
    assert found == {"pending": "Pending", **{p: "Pending" for p in stuck_pods(s)}, **{p: "Failed" for p in job_pod}}

    # Containers restarted in the last 30 minutes: the article's metric is the v1 name; v2 (and
    # ksm-py) call it kube_pod_container_status_restarts_total.
    assert s.prom.query("changes(kube_pod_container_status_restarts[30m])>0") == []
    restarted = eventually("crashy's restarts", lambda: in_ns(
        s.prom.query("changes(kube_pod_container_status_restarts_total[30m])>0"), ns))
    assert [(m["pod"], m["container"]) for m in restarted] == [("crashy", "c")]

    # Running containers: count(kube_pod_container_state_started), i.e. every container status with a
    # start time (running, or terminated after running).
    def started_counted() -> bool:
        pods = s.rest.get("/api/v1/pods")["items"]
        expected = sum(1 for p in pods for c in p["status"].get("containerStatuses") or []
                       if (c["state"].get("running") or c["state"].get("terminated") or {}).get("startedAt"))
        result = s.prom.query("count(kube_pod_container_state_started)")
        return bool(result) and result[0]["value"][1] == str(expected)
    eventually("count(kube_pod_container_state_started) == started containers", started_counted)


# -- the shipped alert expressions and recording rules --------------------------------------------
def test_alert_expressions_select_exactly_the_broken_objects(stack: Stack) -> None:
    s, ns = stack, stack.ns
    exprs = alert_exprs()
    expected_in_ns: dict[str, set[tuple[str, ...]]] = {
        "KubePodCrashLooping": {("crashy", "c")},
        "KubePodNotReady": {("pending",), *((p,) for p in stuck_pods(s))},
        "KubeContainerWaiting": {("crashy", "c", "CrashLoopBackOff")},
        "KubeDeploymentReplicasMismatch": {("stuck",)},
        "KubeJobFailed": {("fails",)},
        "KubePersistentVolumeClaimPending": {("claim",)},
    }
    keys = {"KubePodCrashLooping": ("pod", "container"), "KubePodNotReady": ("pod",),
            "KubeContainerWaiting": ("pod", "container", "reason"), "KubeDeploymentReplicasMismatch": ("deployment",),
            "KubeJobFailed": ("job_name",), "KubePersistentVolumeClaimPending": ("persistentvolumeclaim",)}
    for alert, want in expected_in_ns.items():
        def found(a: str = alert) -> set[tuple[str, ...]]:
            return {tuple(m[k] for k in keys[a]) for m in in_ns(s.prom.query(exprs[a]), ns)}
        try:
            eventually(f"{alert} selects {want}", lambda f=found, w=want: f() == w)
        except TimeoutError:
            pytest.fail(f"{alert}: {found()} != {want}")
    mismatch = in_ns(s.prom.query(exprs["KubeDeploymentReplicasMismatch"]), ns)
    assert s.prom.query(f'({exprs["KubeDeploymentReplicasMismatch"]}) == 2') and len(mismatch) == 1
    nodes = [r["metric"]["node"] for r in s.prom.query(exprs["KubeNodeNotReady"])]
    assert nodes == [s.node]
    # ksm-py is up, has synced everything, and lists without errors.
    for alert in ("KsmPyDown", "KsmPyAbsent", "KsmPyResourceNotSynced", "KubeStateMetricsListErrors"):
        assert s.prom.query(exprs[alert]) == [], alert
    assert s.prom.query(f'ksm_py_resource_synced{{job="{JOB}"}} == 1')


def test_alerts_are_pending_in_prometheus(stack: Stack) -> None:
    """Prometheus loaded rules.yml and its alerts are pending (their `for:` has not elapsed yet)."""
    want = {("KubePodCrashLooping", stack.ns), ("KubePodNotReady", stack.ns), ("KubeContainerWaiting", stack.ns),
            ("KubeDeploymentReplicasMismatch", stack.ns), ("KubeJobFailed", stack.ns),
            ("KubePersistentVolumeClaimPending", stack.ns), ("KubeNodeNotReady", stack.node)}

    def pending() -> set[tuple[str, str]]:
        return {(m["alertname"], m.get("namespace") or m.get("node", ""))
                for m in (r["metric"] for r in stack.prom.query('ALERTS{alertstate="pending"}'))}
    try:
        eventually("the alerts pending", lambda: want <= pending())
    except TimeoutError:
        pytest.fail(f"missing: {want - pending()}")
    groups = stack.prom.api("rules")["groups"]
    assert all(r["health"] == "ok" for g in groups for r in g["rules"]), groups
    # prometheus.yml loads both rule files: the topology group is there and evaluated too.
    assert rule_files() == ("rules.yml", "topology-rules.yml")
    assert {r["name"] for g in groups for r in g["rules"] if r["type"] == "alerting"} == set(alert_exprs(rule_files()))
    topology = [g for g in groups if g["name"] == "ksm-py.topology"]
    assert topology and topology[0]["file"].endswith("topology-rules.yml"), [g["name"] for g in groups]
    assert {r["name"] for r in topology[0]["rules"]} >= {"kube_topology_relation:dangling",
                                                         "KubeTopologyDanglingReference"}
    eventually("the topology group evaluated", lambda: [
        g for g in stack.prom.api("rules")["groups"]
        if g["name"] == "ksm-py.topology" and not g["lastEvaluation"].startswith("0001-")])


def test_recording_rules(stack: Stack) -> None:
    s, ns = stack, stack.ns

    def value(expr: str) -> str | None:
        result = s.prom.query(expr)
        return result[0]["value"][1] if len(result) == 1 else None

    checks = {
        f'namespace_phase:kube_pod_status_phase:sum{{namespace="{ns}",phase="Pending"}}': "3",
        f'namespace_phase:kube_pod_status_phase:sum{{namespace="{ns}",phase="Failed"}}': "1",
        f'namespace_phase:kube_pod_status_phase:sum{{namespace="{ns}",phase="Running"}}': "1",
        f'namespace:kube_configmap:count{{namespace="{ns}"}}': str(CONFIGMAPS + 1),
        f'namespace:kube_deployment_status_replicas_unavailable:sum{{namespace="{ns}"}}': "2",
        'status:kube_node_status_condition_ready:count{status="true"}':
            str(len(s.rest.get("/api/v1/nodes?labelSelector=type%3Dkwok")["items"])),
        # pending, 2 x stuck and crashy hold 100m each; the failed Job pod no longer does.
        f'namespace_resource:kube_pod_container_resource_requests:sum{{namespace="{ns}",resource="cpu"}}': "0.4",
    }
    for expr, want in checks.items():
        try:
            eventually(expr, lambda e=expr, w=want: value(e) == w)
        except TimeoutError:
            pytest.fail(f"{expr} = {value(expr)}, want {want}")
    restarts = value(f'namespace:kube_pod_container_status_restarts:increase15m{{namespace="{ns}"}}')
    assert restarts is not None and float(restarts) > 0
    not_ready = s.prom.query('status:kube_node_status_condition_ready:count{status!="true"}')
    assert sum(float(r["value"][1]) for r in not_ready) == 1


def test_ksm_py_down_is_seen(stack: Stack) -> None:
    """Last: stop ksm-py; both targets go down and KsmPyDown's expression selects them."""
    stack.ksm.stop()
    expr = alert_exprs()["KsmPyDown"]

    def down() -> set[str]:
        return {r["metric"]["instance"] for r in stack.prom.query(expr)}
    want = {f"127.0.0.1:{stack.port}", f"127.0.0.1:{stack.tport}"}
    eventually("KsmPyDown selects both ports", lambda: down() == want, 30)
    eventually("KsmPyDown pending", lambda: re.search(
        '"alertname":"KsmPyDown"', json.dumps(stack.prom.query('ALERTS{alertstate="pending"}'),
                                              separators=(",", ":"))), 30)
