"""The StackState bridge against the local control plane: ksm-py (topology enabled) + ``ksm-py
stackstate-bridge`` + a receiver on 127.0.0.1 that validates every payload against the documented
intake shape (docs/stackstate.md sections 1-4) and records any violation; each test fails on one.
"""

from __future__ import annotations

import datetime
import gzip
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from harness.controlplane import wait_for
from tests.conftest import ROOT, WITH_EXTENSIONS, Objects, Process, free_port, http_get, ksm_py_argv, wait_http_ok

pytestmark = pytest.mark.e2e

CLUSTER = "e2e-cluster"
KEY = "e2e-sts-key-5f1c0d9a"
BRIDGE_ROLE = ROOT / "deploy" / "bridge" / "cluster-role.yaml"
COMPONENT_TYPES = {"cluster", "namespace", "node", "pod", "container", "service", "external-service", "ingress",
                   "endpoint", "deployment", "replicaset", "statefulset", "daemonset", "job", "cronjob", "configmap",
                   "secret", "persistent-volume", "persistent-volume-claim", "volume", "volume-source"}
RELATION_TYPES = {"belongs_to", "scheduled_on", "controls", "encloses", "creates", "runs_on", "uses", "uses_value",
                  "exposes", "routes", "claims", "mounts", "projects"}
CATEGORIES = {"Activities", "Alerts", "Changes", "Others"}


def _urn_patterns(c: str) -> dict[str, re.Pattern[str]]:
    c = re.escape(c)
    name, ns = r"[^/:]+", r"[^/:]+"
    external_volume = r"urn:kubernetes:external-volume:[a-z-]+/.+"
    patterns = {
        "cluster": rf"urn:cluster:/kubernetes:{c}",
        "namespace": rf"urn:kubernetes:/{c}:namespace/{name}",
        "node": rf"urn:kubernetes:/{c}:node/{name}",
        "persistent-volume": rf"urn:kubernetes:/{c}:persistent-volume/{name}",
        "container": rf"urn:kubernetes:/{c}:{ns}:pod/{name}:container/{name}",
        "endpoint": rf"urn:endpoint:/{c}:.+",
        "volume": rf"urn:kubernetes:/{c}:empty-dir:volume/{ns}/{name}/{name}|{external_volume}",
        "volume-source": external_volume,
    }
    for t in COMPONENT_TYPES - set(patterns):
        patterns[t] = rf"urn:kubernetes:/{c}:{ns}:{t}/{name}"
    return {t: re.compile(f"(?:{p})") for t, p in patterns.items()}


class Receiver:
    """A StackState receiver stub: checks auth, gzip and the payload shape, tracks snapshot framing.

    Every problem is appended to ``violations``; the ``receiver`` fixture fails the test on any.
    """

    def __init__(self, cluster: str, key: str) -> None:
        self.cluster, self.key = cluster, key
        self.urns = _urn_patterns(cluster)
        self.lock = threading.Lock()
        self.violations: list[str] = []
        self.snapshots: list[dict[str, Any]] = []  # complete ones
        self.open: dict[str, Any] | None = None
        self.events: list[dict[str, Any]] = []
        self.topology_posts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver.handle(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def fail(self, problem: str) -> None:
        self.violations.append(problem)

    # -- the request -----------------------------------------------------------------------------
    def handle(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            url = urlsplit(path)
            if url.path != "/receiver/stsAgent/intake":
                self.fail(f"POST to {url.path}")
                return 404
            if parse_qs(url.query).get("api_key") != [self.key] or headers.get("sts-api-key") != self.key:
                self.fail("API key missing from the api_key query parameter or the sts-api-key header")
                return 403
            if headers.get("content-type") != "application/json" or headers.get("content-encoding") != "gzip":
                self.fail(f"headers: {headers}")
                return 400
            try:
                payload = json.loads(gzip.decompress(body))
            except (OSError, ValueError) as e:
                self.fail(f"body is not gzip JSON: {e!r}")
                return 400
            self.envelope(payload)
            return 200

    def envelope(self, p: Any) -> None:
        if not isinstance(p, dict):
            return self.fail("payload is not an object")
        for field, kind in (("collection_timestamp", int), ("internalHostname", str), ("events", dict),
                            ("metrics", list), ("service_checks", list), ("health", list), ("topologies", list)):
            if not isinstance(p.get(field), kind) or isinstance(p.get(field), bool):
                self.fail(f"envelope field {field!r} missing or not {kind.__name__}: {p.get(field)!r}")
        if isinstance(p.get("collection_timestamp"), int) and abs(p["collection_timestamp"] - time.time()) > 300:
            self.fail(f"collection_timestamp {p['collection_timestamp']} is not now (seconds)")
        if "apiKey" in p and p["apiKey"]:
            self.fail("the API key is in the payload")
        for t in p.get("topologies") or []:
            self.topology(t)
        for name, events in (p.get("events") or {}).items():
            if name != "kubernetes":
                self.fail(f"events under {name!r}")
            for e in events:
                self.event(e)

    # -- topology ----------------------------------------------------------------------------------
    def topology(self, t: dict[str, Any]) -> None:
        self.topology_posts += 1
        for field, kind in (("start_snapshot", bool), ("stop_snapshot", bool), ("instance", dict),
                            ("components", list), ("relations", list), ("delete_ids", list)):
            if not isinstance(t.get(field), kind):
                return self.fail(f"topology field {field!r} missing or not {kind.__name__}")
        if t["instance"] != {"type": "kubernetes", "url": self.cluster}:
            self.fail(f"instance {t['instance']}")
        if t["delete_ids"]:
            self.fail("delete_ids in a snapshot")
        if len(t["components"]) + len(t["relations"]) > 10_000:
            self.fail("chunk larger than 10,000 elements")
        if t["start_snapshot"]:
            if self.open is not None:
                self.fail("start_snapshot while the previous snapshot was not stopped")
            self.open = {"components": {}, "relations": [], "started": time.time()}
        elif self.open is None:
            return self.fail("chunk without start_snapshot outside a snapshot")
        snap = self.open
        for c in t["components"]:
            self.component(c)
            snap["components"][c.get("externalId")] = c
        for r in t["relations"]:
            self.relation(r)
            snap["relations"].append(r)
        if t["stop_snapshot"]:
            ids = snap["components"]
            if not ids:
                self.fail("an empty snapshot (it would delete every component)")
            for r in snap["relations"]:
                if r.get("sourceId") not in ids or r.get("targetId") not in ids:
                    self.fail(f"relation {r.get('externalId')} has an end that is not in the snapshot")
            snap["stopped"] = time.time()
            self.snapshots.append(snap)
            self.open = None

    def component(self, c: dict[str, Any]) -> None:
        ext, type_ = c.get("externalId"), (c.get("type") or {}).get("name")
        data = c.get("data")
        if type_ not in COMPONENT_TYPES:
            return self.fail(f"component type {type_!r}")
        if not isinstance(ext, str) or not self.urns[type_].fullmatch(ext):
            self.fail(f"{type_} externalId {ext!r} does not match the URN scheme")
        if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data["name"]:
            return self.fail(f"{ext}: data.name missing")
        tags = data.get("tags")
        if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
            return self.fail(f"{ext}: data.tags is not a string map")
        want = {"cluster-name": self.cluster, "cluster-type": "kubernetes",
                "component-type": f"kubernetes-{type_.replace('-', '')}"}
        if any(tags.get(k) != v for k, v in want.items()):
            self.fail(f"{ext}: tags {tags}")
        ids = data.get("identifiers")
        if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, str) and i.startswith("urn:")
                                                                      for i in ids)):
            self.fail(f"{ext}: identifiers {ids!r}")

    def relation(self, r: dict[str, Any]) -> None:
        type_ = (r.get("type") or {}).get("name")
        if type_ not in RELATION_TYPES:
            self.fail(f"relation type {type_!r}")
        s, t = r.get("sourceId"), r.get("targetId")
        if not isinstance(s, str) or not isinstance(t, str) or r.get("externalId") != f"{s}->{t}":
            self.fail(f"relation externalId {r.get('externalId')!r} is not <source>-><target>")
        if not isinstance(r.get("data"), dict):
            self.fail(f"relation {r.get('externalId')}: data is not an object")

    # -- events ------------------------------------------------------------------------------------
    def event(self, e: dict[str, Any]) -> None:
        for field, kind in (("msg_title", str), ("msg_text", str), ("timestamp", int), ("source_type_name", str),
                            ("event_type", str), ("tags", list), ("context", dict)):
            if not isinstance(e.get(field), kind):
                return self.fail(f"event field {field!r} missing or not {kind.__name__}: {e}")
        ctx = e["context"]
        if ctx.get("source") != "kubernetes" or ctx.get("category") not in CATEGORIES:
            self.fail(f"event context {ctx}")
        if not isinstance(ctx.get("source_identifier"), str) or not ctx["source_identifier"]:
            self.fail(f"event without source_identifier: {e}")
        ids = ctx.get("element_identifiers")
        if not isinstance(ids, list) or not all(isinstance(i, str) and i.startswith(f"urn:kubernetes:/{self.cluster}:")
                                                for i in ids):
            self.fail(f"event element_identifiers {ids!r}")
        if not all(isinstance(t, str) and ":" in t for t in e["tags"]):
            self.fail(f"event tags {e['tags']}")
        self.events.append(e)

    # -- what the tests read -------------------------------------------------------------------------
    def complete(self, after: float = 0) -> list[dict[str, Any]]:
        with self.lock:
            return [s for s in self.snapshots if s["started"] >= after]

    def latest(self, after: float = 0) -> dict[str, Any] | None:
        snaps = self.complete(after)
        return snaps[-1] if snaps else None

    def received_events(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.events)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(CLUSTER, KEY)
    yield r
    r.close()
    assert r.violations == [], "the receiver saw invalid payloads:\n" + "\n".join(r.violations[:20])


class Ksm:
    def __init__(self, spawn: Callable[..., Process], kubeconfig: Path, port: int, tport: int) -> None:
        self.port, self.tport = port, tport
        self.proc = spawn([*ksm_py_argv(), f"--kubeconfig={kubeconfig}", "--host=127.0.0.1", f"--port={port}",
                           "--telemetry-host=127.0.0.1", f"--telemetry-port={tport}",
                           WITH_EXTENSIONS, "--metric-labels-allowlist=pods=[app],deployments=[team]"],
                          name="ksm-py")
        wait_http_ok(f"http://127.0.0.1:{port}/healthz", proc=self.proc)

    def wait_ready(self, timeout: float = 90) -> None:
        wait_for("ksm-py /readyz", lambda: http_get(f"http://127.0.0.1:{self.tport}/readyz")[0] == 200, timeout,
                 on_timeout=lambda: "\n" + self.proc.tail())


def bridge(spawn: Callable[..., Process], ksm: Ksm, receiver: Receiver, *flags: str) -> tuple[Process, int]:
    tport = free_port()
    proc = spawn([*ksm_py_argv(), "stackstate-bridge", f"--cluster-name={CLUSTER}", f"--stackstate-url={receiver.url}",
                  f"--metrics-url=http://127.0.0.1:{ksm.port}/metrics",
                  f"--readyz-url=http://127.0.0.1:{ksm.tport}/readyz", "--interval=2", "--hostname=e2e-bridge",
                  "--telemetry-host=127.0.0.1", f"--telemetry-port={tport}", "--log-level=debug", *flags],
                 name="bridge", env={"STS_API_KEY": KEY})
    wait_http_ok(f"http://127.0.0.1:{tport}/healthz", proc=proc)
    return proc, tport


def workload(objects: Objects) -> None:
    objects.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "b"}})
    objects.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                    "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    objects.create({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"team": "shop"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "nginx", "image": "registry.example/nginx:1",
                                     "envFrom": [{"configMapRef": {"name": "cfg"}}]}]}}}})


def urn(ns: str, type_: str, name: str) -> str:
    return f"urn:kubernetes:/{CLUSTER}:{ns}:{type_}/{name}"


def relations_of(snap: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(r["type"]["name"], r["sourceId"], r["targetId"]) for r in snap["relations"]}


def has_workload(ns: str, every_pod_exposed: bool = False) -> Callable[[dict[str, Any]], bool]:
    """A snapshot holds the deployment, its two pods and the service exposing one of them (or, with
    ``every_pod_exposed``, both: the EndpointSlice controller may add the second pod a sync later)."""
    def check(snap: dict[str, Any]) -> bool:
        ids = snap["components"]
        pods = {i for i in ids if i.startswith(urn(ns, "pod", "web-")) and ":container/" not in i}
        exposed = {r[2] for r in relations_of(snap) if r[0] == "exposes" and r[1] == urn(ns, "service", "web")}
        return urn(ns, "deployment", "web") in ids and len(pods) == 2 and \
            (pods <= exposed if every_pod_exposed else bool(exposed & pods))
    return check


def micro_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_bridge_sends_topology_deletions_and_events_once(objects: Objects, cluster: Any, spawn: Any,
                                                        receiver: Receiver, restricted_kubeconfig_path: Path,
                                                        tmp_path: Path) -> None:
    ns = objects.namespace
    ksm = Ksm(spawn, restricted_kubeconfig_path, free_port(), free_port())
    workload(objects)
    objects.wait("pods running", lambda: len([p for p in objects.list("v1", "Pod", label_selector="app=web")
                                              if p["status"].get("phase") == "Running"]) == 2, 90)
    ksm.wait_ready()
    events_kubeconfig = cluster.restricted_kubeconfig(BRIDGE_ROLE, name="ksm-py-stackstate-bridge",
                                                      path=tmp_path / "bridge.kubeconfig")
    proc, tport = bridge(spawn, ksm, receiver, f"--kubeconfig={events_kubeconfig}", "--event-flush-interval=1")

    # -- the topology of a known workload -------------------------------------------------------
    snap = wait_for("a snapshot with the workload", lambda: next(
        (s for s in reversed(receiver.complete()) if has_workload(ns, every_pod_exposed=True)(s)), None), 60,
        on_timeout=lambda: "\n" + proc.tail())
    ids = snap["components"]
    pods = sorted(i for i in ids if i.startswith(urn(ns, "pod", "web-")) and ":container/" not in i)
    rs = [i for i in ids if i.startswith(urn(ns, "replicaset", "web-"))]
    assert len(rs) == 1, rs
    node_of = {r[1]: r[2] for r in relations_of(snap) if r[0] == "scheduled_on"}
    cluster_id = f"urn:cluster:/kubernetes:{CLUSTER}"
    expected = {
        ("encloses", f"urn:kubernetes:/{CLUSTER}:namespace/{ns}", urn(ns, "deployment", "web")),
        ("encloses", f"urn:kubernetes:/{CLUSTER}:namespace/{ns}", urn(ns, "service", "web")),
        ("controls", urn(ns, "deployment", "web"), rs[0]),
    }
    for pod in pods:
        container = f"{pod}:container/nginx"
        assert container in ids
        node = node_of[pod]
        assert node in ids and node.startswith(f"urn:kubernetes:/{CLUSTER}:node/")
        expected |= {("controls", rs[0], pod), ("exposes", urn(ns, "service", "web"), pod),
                     ("uses", pod, urn(ns, "configmap", "cfg")), ("encloses", pod, container),
                     ("runs_on", container, node), ("belongs_to", node, cluster_id)}
    assert expected <= relations_of(snap), expected - relations_of(snap)
    assert ids[cluster_id]["data"]["name"] == CLUSTER
    pod_data = ids[pods[0]]["data"]
    assert pod_data["tags"]["app"] == "web" and pod_data["tags"]["namespace"] == ns  # labels via kube_pod_labels
    assert pod_data["status"] == {"phase": "Running"} and pod_data["identifiers"] == []
    assert ids[urn(ns, "deployment", "web")]["data"]["tags"]["team"] == "shop"
    assert ids[urn(ns, "configmap", "cfg")]["data"]["identifiers"] == [urn(ns, "configmap", "cfg")]
    assert f"urn:service:/{CLUSTER}:{ns}:web" in ids[urn(ns, "service", "web")]["data"]["identifiers"]
    node_data = ids[node_of[pods[0]]]["data"]
    assert f"urn:host:/{node_data['name']}-{CLUSTER}" in node_data["identifiers"]

    # -- events: categories, identifiers, each occurrence once -----------------------------------
    pod_name = pods[0].rsplit("/", 1)[1]
    objects.create({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "web-warning"},
                    "eventTime": micro_now(), "reportingController": "e2e.test/bridge", "reportingInstance": "e2e",
                    "action": "Mounting", "reason": "FailedMount", "note": "volume is missing", "type": "Warning",
                    "regarding": {"apiVersion": "v1", "kind": "Pod", "name": pod_name, "namespace": ns,
                                  "fieldPath": "spec.containers{nginx}"}})
    objects.create({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "web-custom"},
                    "eventTime": micro_now(), "reportingController": "e2e.test/bridge", "reportingInstance": "e2e",
                    "action": "Noting", "reason": "SomethingCustom", "note": "hello", "type": "Normal",
                    "regarding": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": ns}})

    def ours() -> list[dict[str, Any]]:
        return [e for e in receiver.received_events() if f"kube_namespace:{ns}" in e["tags"]]

    def by_reason(reason: str) -> list[dict[str, Any]]:
        return [e for e in ours() if e["event_type"] == reason]

    wait_for("the test's events and the controller's", lambda: by_reason("FailedMount") and
             by_reason("SomethingCustom") and by_reason("ScalingReplicaSet"), 60, on_timeout=lambda: "\n" + proc.tail())
    (warning,) = by_reason("FailedMount")
    assert warning["context"]["category"] == "Alerts" and warning["alert_type"] == "warning"
    assert warning["context"]["element_identifiers"] == [f"{pods[0]}:container/nginx", pods[0]]
    assert warning["msg_title"] == f"FailedMount - {pod_name} Pod (1x)"
    assert "kube_container_name:nginx" in warning["tags"]
    (custom,) = by_reason("SomethingCustom")
    assert custom["context"]["category"] == "Others"
    assert custom["context"]["element_identifiers"] == [urn(ns, "deployment", "web")]
    scaling = by_reason("ScalingReplicaSet")
    assert scaling[0]["context"]["category"] == "Activities"
    assert scaling[0]["context"]["element_identifiers"] == [urn(ns, "deployment", "web")]

    # An update that is not a new occurrence is not sent again; a repetition (series) is, once.
    events_api = objects.api("events.k8s.io/v1", "Event")
    events_api.patch(name="web-warning", namespace=ns, body={"metadata": {"labels": {"seen": "yes"}}},
                     content_type="application/merge-patch+json")  # a MODIFIED watch event, same count
    events_api.patch(name="web-custom", namespace=ns, body={"series": {"count": 2, "lastObservedTime": micro_now()}},
                     content_type="application/merge-patch+json")
    wait_for("the repeated event", lambda: len(by_reason("SomethingCustom")) == 2, 30)
    assert by_reason("SomethingCustom")[1]["msg_title"] == "SomethingCustom - web Deployment (2x)"
    time.sleep(4)  # a few more flushes and snapshots: nothing is sent twice
    seen: dict[tuple[str, str], int] = {}
    for e in ours():
        key = (e["context"]["source_identifier"], e["msg_title"])
        seen[key] = seen.get(key, 0) + 1
    assert all(n == 1 for n in seen.values()), {k: n for k, n in seen.items() if n > 1}
    assert len(by_reason("FailedMount")) == 1

    # -- a deleted Deployment is absent from the next snapshot ----------------------------------
    objects.delete("apps/v1", "Deployment", "web")
    deleted_at = time.time()

    def without_deployment() -> dict[str, Any] | None:
        s = receiver.latest(after=deleted_at)
        return s if s is not None and urn(ns, "deployment", "web") not in s["components"] else None
    after = wait_for("a snapshot without the deleted Deployment", without_deployment, 60)
    assert urn(ns, "service", "web") in after["components"]  # the rest of the namespace is still there
    assert not [r for r in after["relations"] if urn(ns, "deployment", "web") in (r["sourceId"], r["targetId"])]
    wait_for("its ReplicaSet and pods gone too", lambda: not [
        i for i in (receiver.latest(after=time.time() - 1) or {"components": {"x": 1}})["components"]
        if i.startswith((urn(ns, "replicaset", "web-"), urn(ns, "pod", "web-")))], 90)

    # -- self-metrics, and the key never in the logs --------------------------------------------
    telemetry = http_get(f"http://127.0.0.1:{tport}/metrics")[2].decode()
    assert 'ksm_py_bridge_snapshots_total{reason="",result="sent"}' in telemetry
    assert 'ksm_py_bridge_events_sent_total{category="Alerts"}' in telemetry
    assert "ksm_py_bridge_last_success_timestamp_seconds" in telemetry
    assert KEY not in proc.log.read_text()


def test_bridge_skips_rather_than_sending_partial_snapshots(objects: Objects, spawn: Any, receiver: Receiver,
                                                            restricted_kubeconfig_path: Path) -> None:
    ns = objects.namespace
    port, tport = free_port(), free_port()
    ksm = Ksm(spawn, restricted_kubeconfig_path, port, tport)
    workload(objects)
    objects.wait("pods running", lambda: len([p for p in objects.list("v1", "Pod", label_selector="app=web")
                                              if p["status"].get("phase") == "Running"]) == 2, 90)
    proc, bridge_tport = bridge(spawn, ksm, receiver, "--no-events")
    wait_for("a snapshot with the workload", lambda: any(has_workload(ns)(s) for s in receiver.complete()), 90,
             on_timeout=lambda: "\n" + proc.tail())
    before = {i for i in receiver.complete()[-1]["components"] if f":{ns}:" in i}

    # ksm-py dies: nothing is sent (an empty or partial snapshot would delete the cluster's components).
    ksm.proc.proc.kill()
    ksm.proc.proc.wait(10)
    time.sleep(1)
    posts = receiver.topology_posts
    time.sleep(7)  # three intervals
    assert receiver.topology_posts == posts, "the bridge sent topology while ksm-py was down"

    def skipped() -> float:
        text = http_get(f"http://127.0.0.1:{bridge_tport}/metrics")[2].decode()
        m = re.search(r'ksm_py_bridge_snapshots_total\{reason="not_ready",result="skipped"\} (\S+)', text)
        return float(m.group(1)) if m else 0.0
    assert skipped() >= 2
    assert "snapshot skipped (not_ready)" in proc.log.read_text()
    assert KEY not in proc.log.read_text()

    # A new ksm-py on the same ports: /readyz is 503 until it has listed everything, then snapshots resume
    # with the whole namespace.
    restarted_at = time.time()
    ksm = Ksm(spawn, restricted_kubeconfig_path, port, tport)
    ksm.wait_ready()
    after = wait_for("a snapshot from the new ksm-py", lambda: receiver.latest(after=restarted_at), 60)
    assert {i for i in after["components"] if f":{ns}:" in i} == before
    # every snapshot the receiver ever got holds the workload: none was partial
    assert all(has_workload(ns)(s) for s in receiver.complete())
