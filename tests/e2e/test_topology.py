"""Topology and events on the local control plane, with deploy/base's resources (kube-state-metrics'
defaults plus events and topology) and the least-privilege ClusterRole from deploy/."""

from __future__ import annotations

import datetime
import json
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.controlplane import wait_for
from tests.conftest import WITH_EXTENSIONS, Objects, http_get
from tests.e2e._exporter import Exporter, ksm_py
from tests.expo import series
from tests.topology._promtool import relation, run_dangling_test
from tests.topology._util import graph

pytestmark = pytest.mark.e2e

LB_IP, LB_HOST = "203.0.113.10", "lb.example.com"


# -- reading the exporter ---------------------------------------------------------------------
def metrics_graph(exp: Exporter, ns: str) -> tuple[set[str], set[str]]:
    """Components in ``ns`` and relations touching ``ns``, from /metrics (series must be unique)."""
    components, relations = graph(exp.metrics())
    return ({c for c in components if c.split("/")[1] == ns},
            {r for r in relations if any(side.split("/")[1] == ns for side in r.split(" ", 1)[1].split(" -> "))})


def _ref(d: dict[str, str]) -> str:
    return f"{d['type']}/{d['namespace']}/{d['name']}"


def topology(exp: Exporter, **query: Any) -> dict[str, Any]:
    status, _, body = http_get(f"http://127.0.0.1:{exp.port}/topology?{urllib.parse.urlencode(query)}")
    assert status == 200, body
    return json.loads(body)


def topology_graph(doc: dict[str, Any]) -> tuple[set[str], set[str]]:
    return ({_ref(c) for c in doc["components"]},
            {f"{r['type']} {_ref(r['source'])} -> {_ref(r['target'])}" + (" (optional)" if r.get("optional") else "")
             for r in doc["relations"]})


def settle(what: str, got: Callable[[], tuple[set[str], set[str]]], want: Callable[[], tuple[set[str], set[str]]],
           timeout: float = 90) -> None:
    """Wait until ``got() == want()`` (both re-read each time); show the difference on timeout."""
    def same() -> bool:
        return got() == want()

    def difference() -> str:
        (gc, gr), (wc, wr) = got(), want()
        return (f"\ncomponents missing {sorted(wc - gc)}\ncomponents extra {sorted(gc - wc)}"
                f"\nrelations missing {sorted(wr - gr)}\nrelations extra {sorted(gr - wr)}")
    wait_for(what, same, timeout, interval=0.5, on_timeout=difference)


# -- the cluster side -------------------------------------------------------------------------
class Api:
    """Plain REST calls as admin, in one namespace."""

    def __init__(self, cluster: Any, ns: str) -> None:
        self.rest = cluster.rest
        self.ns = ns

    def path(self, api: str, plural: str, name: str = "", *, namespaced: bool = True, sub: str = "") -> str:
        base = f"/apis/{api}" if "/" in api else f"/api/{api}"
        path = f"{base}/namespaces/{self.ns}/{plural}" if namespaced else f"{base}/{plural}"
        return path + (f"/{name}" if name else "") + (f"/{sub}" if sub else "")

    def create(self, api: str, plural: str, body: dict[str, Any], *, namespaced: bool = True) -> Any:
        return self.rest.request("POST", self.path(api, plural, namespaced=namespaced), body)

    def list(self, api: str, plural: str, selector: str = "") -> list[dict[str, Any]]:
        query = f"?labelSelector={urllib.parse.quote(selector)}" if selector else ""
        return self.rest.get(self.path(api, plural) + query)["items"]

    def get(self, api: str, plural: str, name: str, *, namespaced: bool = True) -> Any:
        return self.rest.get(self.path(api, plural, name, namespaced=namespaced))

    def patch(self, api: str, plural: str, name: str, body: dict[str, Any], *, sub: str = "") -> Any:
        return self.rest.request("PATCH", self.path(api, plural, name, sub=sub), body,
                                 content_type="application/merge-patch+json")

    def delete(self, api: str, plural: str, name: str, *, namespaced: bool = True) -> Any:
        return self.rest.request("DELETE", self.path(api, plural, name, namespaced=namespaced))


def container(name: str = "app", **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": f"registry.example/{name}:1", **extra}


def workload_spec(labels: dict[str, str], **pod_spec: Any) -> dict[str, Any]:
    return {"selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container()], **pod_spec}}}


def create_everything(api: Api, pv: str) -> None:
    ns = api.ns
    api.create("v1", "configmaps", {"metadata": {"name": "settings"}, "data": {"MODE": "prod"}})
    api.create("v1", "configmaps", {"metadata": {"name": "bundle-cm"}, "data": {"a": "1"}})
    api.create("v1", "secrets", {"metadata": {"name": "db"}, "stringData": {"pw": "s3cret-value"}})
    api.create("v1", "secrets", {"metadata": {"name": "bundle-secret"}, "stringData": {"b": "2"}})
    api.create("v1", "persistentvolumes", {
        "metadata": {"name": pv},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "manual",
                 "persistentVolumeReclaimPolicy": "Retain", "nfs": {"server": "nfs.example", "path": f"/exports/{ns}"},
                 "claimRef": {"namespace": ns, "name": "data"}}}, namespaced=False)
    api.create("v1", "persistentvolumeclaims", {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "manual", "volumeName": pv,
                 "resources": {"requests": {"storage": "1Gi"}}}})
    web = container(envFrom=[{"configMapRef": {"name": "settings"}}],
                    env=[{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}],
                    volumeMounts=[{"name": "bundle", "mountPath": "/bundle"}, {"name": "scratch", "mountPath": "/tmp"},
                                  {"name": "data", "mountPath": "/data"}])
    api.create("apps/v1", "deployments", {"metadata": {"name": "web"}, "spec": {
        "replicas": 2, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [web], "volumes": [
            {"name": "bundle", "projected": {"sources": [{"configMap": {"name": "bundle-cm"}},
                                                         {"secret": {"name": "bundle-secret"}}]}},
            {"name": "scratch", "emptyDir": {}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]}}}})
    api.create("apps/v1", "statefulsets", {"metadata": {"name": "db"},
                                           "spec": {"replicas": 1, "serviceName": "db", **workload_spec({"app": "db"})}})
    api.create("apps/v1", "daemonsets", {"metadata": {"name": "agent"}, "spec": workload_spec({"app": "agent"})})
    # The kube-controller-manager's replicationcontroller controller creates its pod.
    api.create("v1", "replicationcontrollers", {"metadata": {"name": "legacy"}, "spec": {
        "replicas": 1, "selector": {"app": "legacy"},
        "template": {"metadata": {"labels": {"app": "legacy"}}, "spec": {"containers": [container()]}}}})
    cronjob = api.create("batch/v1", "cronjobs", {"metadata": {"name": "nightly"}, "spec": {
        "schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "Never", "containers": [container("batch")]}}}}}})
    # What `kubectl create job --from=cronjob/nightly` does: a Job owned by the CronJob.
    api.create("batch/v1", "jobs", {
        "metadata": {"name": "nightly-manual", "ownerReferences": [{
            "apiVersion": "batch/v1", "kind": "CronJob", "name": "nightly", "uid": cronjob["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True}]},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [container("batch")]}}}})
    api.create("v1", "services", {"metadata": {"name": "web"},
                                  "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}})
    api.create("v1", "services", {"metadata": {"name": "ext"},
                                  "spec": {"type": "ExternalName", "externalName": "db.example.com"}})
    api.create("networking.k8s.io/v1", "ingresses", {"metadata": {"name": "web"}, "spec": {"rules": [{
        "host": "shop.example", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
            "service": {"name": "web", "port": {"number": 80}}}}]}}]}})
    # The load balancer address, as an ingress controller would publish it.
    api.patch("networking.k8s.io/v1", "ingresses", "web",
              {"status": {"loadBalancer": {"ingress": [{"ip": LB_IP}, {"hostname": LB_HOST}]}}}, sub="status")


def wait_settled(api: Api) -> None:
    def ready() -> bool:
        pods = api.list("v1", "pods")
        web = [p for p in pods if p["metadata"].get("labels", {}).get("app") == "web"]
        job = [p for p in pods if p["metadata"].get("labels", {}).get("job-name") == "nightly-manual"]
        legacy = [p for p in pods if p["metadata"].get("labels", {}).get("app") == "legacy"]
        ds = api.get("apps/v1", "daemonsets", "agent")["status"]
        pvc = api.get("v1", "persistentvolumeclaims", "data")["status"].get("phase")
        return (len(web) == 2 and all(p["status"].get("phase") == "Running" and p["status"].get("podIP") for p in web)
                and any(p["metadata"]["name"] == "db-0" and p["status"].get("phase") == "Running" for p in pods)
                and len(job) == 1 and job[0]["status"].get("phase") == "Succeeded"
                and len(legacy) == 1 and legacy[0]["status"].get("phase") == "Running"
                and ds.get("desiredNumberScheduled", 0) > 0 and ds.get("numberReady") == ds["desiredNumberScheduled"]
                and pvc == "Bound")
    wait_for("workloads running, job done, claim bound", ready, 120, interval=1)


# -- what the topology must be, spelled out -----------------------------------------------------
class Want:
    def __init__(self, ns: str) -> None:
        self.ns = ns
        self.components: set[str] = set()
        self.relations: set[str] = set()

    def c(self, type_: str, name: str, namespace: str | None = None) -> str:
        ref = f"{type_}/{self.ns if namespace is None else namespace}/{name}"
        self.components.add(ref)
        return ref

    def r(self, type_: str, source: str, target: str) -> None:
        self.relations.add(f"{type_} {source} -> {target}")

    def ref(self, type_: str, name: str) -> str:
        return f"{type_}/{self.ns}/{name}"

    def pod(self, p: dict[str, Any], controller: str | None) -> str:
        """A pod of this test: one container, maybe mounts, and the service account token volume."""
        name, node = p["metadata"]["name"], p["spec"]["nodeName"]
        pod = self.c("pod", name)
        self.r("scheduled_on", pod, f"node//{node}")
        if controller:
            self.r("controls", controller, pod)
        else:
            self.r("encloses", self.ref("namespace", self.ns), pod)
        (spec_container,) = p["spec"]["containers"]
        cont = self.c("container", f"{name}/{spec_container['name']}")
        self.r("encloses", pod, cont)
        self.r("runs_on", cont, f"node//{node}")
        for vol in p["spec"].get("volumes", []):
            vname = vol["name"]
            if "projected" in vol:
                target = self.c("volume", f"{name}/{vname}")
                for src in vol["projected"]["sources"]:
                    for kind, type_ in (("configMap", "configmap"), ("secret", "secret")):
                        if kind in src:
                            self.r("projects", target, self.ref(type_, src[kind]["name"]))
            elif "emptyDir" in vol:
                target = self.c("volume", f"{name}/{vname}")
            else:
                assert vol["persistentVolumeClaim"]["claimName"] == "data", vol
                target = self.ref("persistent-volume-claim", "data")
            self.r("claims", pod, target)
            self.r("mounts", cont, target)
        return pod


def expected(api: Api, pv: str, *, web_settings: bool = True, routes_to: str = "web") -> tuple[set[str], set[str]]:
    ns = api.ns
    w = Want(ns)
    nsref = w.c("namespace", ns)
    for name in ("bundle-cm", "kube-root-ca.crt") + (("settings",) if web_settings else ()):
        w.c("configmap", name)
    for name in ("db", "bundle-secret"):
        w.c("secret", name)
    for kind in ("deployment/web", "statefulset/db", "daemonset/agent", "cronjob/nightly", "service/web", "service/ext",
                 "replicationcontroller/legacy"):
        w.r("encloses", nsref, w.c(*kind.split("/")))
    (rs,) = api.list("apps/v1", "replicasets")
    rs_ref = w.c("replicaset", rs["metadata"]["name"])
    w.r("controls", w.ref("deployment", "web"), rs_ref)
    w.r("creates", w.ref("cronjob", "nightly"), w.c("job", "nightly-manual"))
    w.r("uses", w.ref("service", "ext"), w.c("external-service", "ext"))
    ingress = w.c("ingress", "web")
    w.r("routes", ingress, w.ref("service", routes_to))
    for address in (LB_IP, LB_HOST):
        w.r("routes", f"endpoint//{address}", ingress)
    w.r("exposes", w.c("persistent-volume-claim", "data"), f"persistent-volume//{pv}")
    for p in api.list("v1", "pods"):
        labels = p["metadata"].get("labels", {})
        app = labels.get("app")
        if app == "web":
            pod = w.pod(p, rs_ref)
            w.r("uses", pod, w.ref("configmap", "settings"))
            w.r("uses_value", pod, w.ref("secret", "db"))
            w.r("exposes", w.ref("service", "web"), pod)
        elif app == "db":
            w.pod(p, w.ref("statefulset", "db"))
        elif app == "agent":
            w.pod(p, w.ref("daemonset", "agent"))
        elif app == "legacy":
            w.pod(p, w.ref("replicationcontroller", "legacy"))
        elif labels.get("job-name") == "nightly-manual":
            # Succeeded, and still its Job's (the Job controller keeps the ownerReference):
            # cronjob -creates-> job -controls-> pod.
            assert p["status"]["phase"] == "Succeeded"
            assert [(o["kind"], o["name"]) for o in p["metadata"]["ownerReferences"]] == [("Job", "nightly-manual")]
            w.pod(p, w.ref("job", "nightly-manual"))
        else:
            raise AssertionError(f"unexpected pod {p['metadata']['name']}")
    return w.components, w.relations


# -- the tests --------------------------------------------------------------------------------
def test_topology_of_a_namespace_follows_creates_updates_and_deletes(
        objects: Objects, cluster: Any, restricted_kubeconfig_path: Path, spawn: Any, tmp_path: Path) -> None:
    ns = objects.namespace
    api = Api(cluster, ns)
    pv = f"{ns}-data"
    exp = ksm_py(spawn, restricted_kubeconfig_path, WITH_EXTENSIONS)
    exp.wait_ready()
    try:
        create_everything(api, pv)
        wait_settled(api)
        want = lambda: expected(api, pv)  # noqa: E731
        settle("topology in /metrics", lambda: metrics_graph(exp, ns), want)
        settle("topology in /topology?namespace=", lambda: topology_graph(topology(exp, namespace=ns)), want)

        # Cluster-scoped parts: the PV, its NFS source, the load balancer endpoints, the nodes.
        components, relations = graph(exp.metrics())
        nfs = f"volume-source//nfs/nfs.example/exports/{ns}"
        assert {f"persistent-volume//{pv}", nfs, f"endpoint//{LB_IP}", f"endpoint//{LB_HOST}",
                "cluster//kubernetes"} <= set(components)
        assert f"exposes persistent-volume//{pv} -> {nfs}" in relations
        nodes = {p["spec"]["nodeName"] for p in api.list("v1", "pods")}
        assert {f"belongs_to node//{n} -> cluster//kubernetes" for n in nodes} <= relations
        assert components[f"deployment/{ns}/web"] == api.get("apps/v1", "deployments", "web")["metadata"]["uid"]
        assert "s3cret-value" not in exp.metrics()

        # "Show dependencies (deep)" of the Deployment, and two levels of it.
        doc = topology(exp, root=f"deployment/{ns}/web")
        web_pods = {p["metadata"]["name"]: p for p in api.list("v1", "pods", "app=web")}
        (rs,) = api.list("apps/v1", "replicasets")
        token_volumes = {f"volume/{ns}/{name}/{v['name']}" for name, p in web_pods.items()
                         for v in p["spec"]["volumes"] if v["name"].startswith("kube-api-access-")}
        assert topology_graph(doc)[0] == {
            f"deployment/{ns}/web", f"replicaset/{ns}/{rs['metadata']['name']}",
            *{f"pod/{ns}/{n}" for n in web_pods}, *{f"container/{ns}/{n}/app" for n in web_pods},
            *{f"volume/{ns}/{n}/{v}" for n in web_pods for v in ("bundle", "scratch")}, *token_volumes,
            f"configmap/{ns}/settings", f"configmap/{ns}/bundle-cm", f"configmap/{ns}/kube-root-ca.crt",
            f"secret/{ns}/db", f"secret/{ns}/bundle-secret", f"persistent-volume-claim/{ns}/data",
            f"persistent-volume//{pv}", nfs, *{f"node//{p['spec']['nodeName']}" for p in web_pods.values()},
            "cluster//kubernetes"}
        doc = topology(exp, root=f"deployment/{ns}/web", depth=2)
        assert topology_graph(doc)[0] == {f"deployment/{ns}/web", f"replicaset/{ns}/{rs['metadata']['name']}",
                                          *{f"pod/{ns}/{n}" for n in web_pods}}

        # Updates: scale up, re-route the Ingress to a Service that does not exist.
        api.patch("apps/v1", "deployments", "web", {"spec": {"replicas": 3}})
        api.patch("networking.k8s.io/v1", "ingresses", "web", {"spec": {"rules": [{"host": "shop.example", "http": {
            "paths": [{"path": "/", "pathType": "Prefix", "backend": {
                "service": {"name": "web-v2", "port": {"number": 80}}}}]}}]}})
        wait_for("3 web pods", lambda: len([p for p in api.list("v1", "pods", "app=web")
                                            if p["status"].get("podIP")]) == 3, 90)
        settle("scaled and re-routed", lambda: metrics_graph(exp, ns), lambda: expected(api, pv, routes_to="web-v2"))

        # Delete the ConfigMap the web pods use: the relation stays, the component goes.
        api.delete("v1", "configmaps", "settings")
        settle("configmap deleted", lambda: metrics_graph(exp, ns),
               lambda: expected(api, pv, web_settings=False, routes_to="web-v2"))
        # The shipped dangling-reference rule reports exactly those references, on the live output.
        # (all components, and the relations of this namespace: other tests' leftovers are not ours to judge)
        live = "\n".join(line for line in exp.metrics().splitlines()
                         if line.startswith("kube_topology_component{")
                         or line.startswith("kube_topology_relation{") and f'"{ns}"' in line)
        dangling = [relation("uses", f"pod/{ns}/{p}", f"configmap/{ns}/settings")
                    for p in sorted(p["metadata"]["name"] for p in api.list("v1", "pods", "app=web"))]
        run_dangling_test(live, [*dangling, relation("routes", f"ingress/{ns}/web", f"service/{ns}/web-v2")], tmp_path)

        # Deletions: the Deployment (its ReplicaSet, pods, containers, volumes go) and the Ingress
        # (its load balancer endpoints go: nobody else has them).
        api.delete("apps/v1", "deployments", "web")
        api.delete("networking.k8s.io/v1", "ingresses", "web")

        def gone() -> bool:
            components, relations = metrics_graph(exp, ns)
            everything = graph(exp.metrics())[0]
            return (not any(c.startswith((f"deployment/{ns}/", f"replicaset/{ns}/", f"ingress/{ns}/"))
                            or c.startswith(f"pod/{ns}/web-") for c in components)
                    and not any(f"/{ns}/web-" in r for r in relations)
                    and f"endpoint//{LB_IP}" not in everything and f"endpoint//{LB_HOST}" not in everything)
        wait_for("deployment and ingress gone from the topology", gone, 90)
        assert {c for c in topology_graph(topology(exp, namespace=ns))[0] if c.startswith(f"pod/{ns}/web-")} == set()
    finally:
        try:
            api.delete("v1", "persistentvolumes", pv, namespaced=False)
        except Exception:  # noqa: BLE001 - best effort cleanup of the cluster-scoped PV
            pass


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_events_are_exposed_with_their_category(objects: Objects, cluster: Any, restricted_kubeconfig_path: Path,
                                                spawn: Any) -> None:
    ns = objects.namespace
    api = Api(cluster, ns)
    exp = ksm_py(spawn, restricted_kubeconfig_path, WITH_EXTENSIONS)
    exp.wait_ready()
    api.create("apps/v1", "deployments", {"metadata": {"name": "web"}, "spec": {
        "replicas": 1, **workload_spec({"app": "web"})}})
    (pod,) = wait_for("a web pod", lambda: api.list("v1", "pods", "app=web"), 60)
    name = pod["metadata"]["name"]

    # There is no kubelet (kwok): write the image pull failures as a kubelet would, through events.k8s.io/v1.
    regarding = {"apiVersion": "v1", "kind": "Pod", "name": name, "namespace": ns, "uid": pod["metadata"]["uid"],
                 "fieldPath": "spec.containers{app}"}
    common = {"reportingController": "kubelet", "reportingInstance": pod["spec"].get("nodeName") or "kwok",
              "regarding": regarding, "type": "Warning"}
    api.create("events.k8s.io/v1", "events", {**common, "metadata": {"name": f"{name}.failed"}, "eventTime": _now(),
                                              "action": "Pulling", "reason": "Failed",
                                              "note": "Failed to pull image \"registry.example/app:1\": not found",
                                              "series": {"count": 3, "lastObservedTime": _now()}})
    api.create("events.k8s.io/v1", "events", {**common, "metadata": {"name": f"{name}.backoff"}, "eventTime": _now(),
                                              "action": "Pulling", "reason": "BackOff",
                                              "note": "Back-off pulling image \"registry.example/app:1\""})
    # The controller-manager's own events when the Deployment scales.
    api.patch("apps/v1", "deployments", "web", {"spec": {"replicas": 3}})

    def events() -> dict[str, str]:
        return series(exp.metrics(), prefix="kube_event_occurrences_total{", where=[("namespace", ns)])

    def seen() -> bool:
        e = events()
        return (f'kube_event_occurrences_total{{category="Alerts",event="{name}.failed",involved_kind="Pod",involved_name="{name}",'
                f'namespace="{ns}",reason="Failed",type="Warning"}}' in e
                and any('reason="ScalingReplicaSet"' in k and 'involved_name="web"' in k and 'type="Normal"' in k
                        for k in e)
                and any('reason="SuccessfulCreate"' in k for k in e))
    wait_for("events in /metrics", seen, 60, on_timeout=lambda: f"\n{sorted(events())}")
    e = events()
    assert e[f'kube_event_occurrences_total{{category="Alerts",event="{name}.failed",involved_kind="Pod",involved_name="{name}",'
             f'namespace="{ns}",reason="Failed",type="Warning"}}'] == "3"
    assert e[f'kube_event_occurrences_total{{category="Alerts",event="{name}.backoff",involved_kind="Pod",involved_name="{name}",'
             f'namespace="{ns}",reason="BackOff",type="Warning"}}'] == "1"
    # Per the agent's table: ScalingReplicaSet and SuccessfulCreate are Activities.
    scaling = [k for k in e if 'reason="ScalingReplicaSet"' in k]
    assert scaling and all('category="Activities"' in k and 'involved_kind="Deployment"' in k for k in scaling)
    assert all('category="Activities"' in k for k in e if 'reason="SuccessfulCreate"' in k)
    text = exp.metrics()
    assert "not found" not in text and "Back-off" not in text  # no message text
    last = series(text, prefix="kube_event_last_seen_timestamp_seconds{", where=[("event", f"{name}.failed")])
    (value,) = last.values()
    assert abs(float(value) - datetime.datetime.now(datetime.UTC).timestamp()) < 600

    # Events go with their objects (here: deleted directly; the API server's --event-ttl does it otherwise).
    api.delete("events.k8s.io/v1", "events", f"{name}.failed")
    wait_for("deleted event gone", lambda: not any(f'event="{name}.failed"' in k for k in events()), 30)
