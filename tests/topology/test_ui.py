"""``/topology/ui``: views, actions, dangling references, collapsing, escaping, and Graphviz missing.

The drawing is real: Graphviz's ``dot`` (Debian package graphviz, installed by .ci/run).
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from ksm_py.server import LANDING, MainApp
from ksm_py.telemetry import Telemetry
from ksm_py.topology.ui import ExplorerApp

from ._util import obj, owner, pod
from .test_graph import Harness

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz dot (apt-get install graphviz)")

SVG = "{http://www.w3.org/2000/svg}"


def call(app: Any, path: str, query: str = "", method: str = "GET",
         headers: dict[str, str] | None = None) -> tuple[str, dict[str, str], bytes]:
    got: list[Any] = []
    environ = {"PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": method, **(headers or {})}
    body = b"".join(app(environ, lambda status, hdrs: got.extend([status, dict(hdrs)])))
    return got[0], got[1], body


class UI:
    def __init__(self, h: Harness) -> None:
        self.h = h
        self.app = ExplorerApp(h.ext.topology)

    def get(self, query: str = "") -> dict[str, Any]:
        status, _, body = call(self.app, "/topology/ui/graph", query)
        assert status == "200 OK", body
        doc: dict[str, Any] = json.loads(body)
        return doc

    def keys(self, query: str = "") -> set[str]:
        return {n["key"] for n in self.get(query)["nodes"].values() if not n["missing"]}


@pytest.fixture
def demo() -> UI:
    """Roughly the demo workloads: a Deployment behind a Service, a StatefulSet, a CronJob's finished
    Job, a ReplicationController."""
    h = Harness()
    s = h.sinks
    s["namespaces"].upsert(obj("v1", "Namespace", "shop", None, metadata={"labels": {"team": "platform"}}))
    s["namespaces"].upsert(obj("v1", "Namespace", "other", None))
    s["nodes"].upsert(obj("v1", "Node", "n1", None))
    s["deployments"].upsert(obj("apps/v1", "Deployment", "web", metadata={"labels": {"app.kubernetes.io/name": "web"}}))
    s["replicasets"].upsert(obj("apps/v1", "ReplicaSet", "web-1", metadata={"ownerReferences": owner("Deployment", "web")}))
    for p in ("web-1-a", "web-1-b"):
        s["pods"].upsert(pod(p, node="n1", owners=owner("ReplicaSet", "web-1"), containers=[
            {"name": "app", "envFrom": [{"configMapRef": {"name": "settings"}}],
             "volumeMounts": [{"name": "data", "mountPath": "/d"}]}],
            volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]))
    s["configmaps"].upsert(obj("v1", "ConfigMap", "settings"))
    s["persistentvolumeclaims"].upsert(obj("v1", "PersistentVolumeClaim", "data", spec={"volumeName": "pv1"}))
    s["persistentvolumes"].upsert(obj("v1", "PersistentVolume", "pv1", None,
                                      spec={"nfs": {"server": "nfs.example", "path": "/x"}}))
    s["services"].upsert(obj("v1", "Service", "web"))
    s["ingresses"].upsert(obj("networking.k8s.io/v1", "Ingress", "web", spec={
        "defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}))
    s["statefulsets"].upsert(obj("apps/v1", "StatefulSet", "db"))
    s["pods"].upsert(pod("db-0", node="n1", owners=owner("StatefulSet", "db"), containers=[
        {"name": "db", "env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db-pw", "key": "pw"}}}]}]))
    s["cronjobs"].upsert(obj("batch/v1", "CronJob", "report"))
    s["jobs"].upsert(obj("batch/v1", "Job", "report-1", metadata={"ownerReferences": owner("CronJob", "report")}))
    # The run is over: its pod Succeeded, and stays the Job's.
    s["pods"].upsert(pod("report-1-x", node="n1", phase="Succeeded", owners=owner("Job", "report-1")))
    s["replicationcontrollers"].upsert(obj("v1", "ReplicationController", "legacy"))
    s["pods"].upsert(pod("legacy-x", node="n1", owners=owner("ReplicationController", "legacy")))
    s["pods"].upsert(pod("lonely", namespace="other"))
    # web-1-a and web-1-b are behind the Service.
    s["endpointslices"].upsert(obj("discovery.k8s.io/v1", "EndpointSlice", "web-x", metadata={
        "labels": {"kubernetes.io/service-name": "web"}}, endpoints=[
        {"targetRef": {"kind": "Pod", "name": p}} for p in ("web-1-a", "web-1-b")]))
    return UI(h)


def test_views_select_their_component_types(demo: UI) -> None:
    apps = demo.keys("view=applications")
    assert {"ingress/shop/web", "service/shop/web", "pod/shop/web-1-a", "container/shop/web-1-a/app"} <= apps
    assert not {k for k in apps if k.split("/")[0] in ("deployment", "node", "configmap")}
    infra = demo.keys("view=infrastructure")
    assert {"cluster//kubernetes", "node//n1", "pod/shop/db-0", "persistent-volume-claim/shop/data",
            "persistent-volume//pv1", "volume-source//nfs/nfs.example/x"} <= infra
    assert not {k for k in infra if k.split("/")[0] in ("deployment", "service", "container")}
    namespaces = demo.keys("view=namespaces")
    # A namespace and what it encloses: controllers, services, pods without a controller.
    assert namespaces == {"namespace/shop/shop", "namespace/other/other", "deployment/shop/web",
                          "statefulset/shop/db", "cronjob/shop/report", "replicationcontroller/shop/legacy",
                          "service/shop/web", "pod/other/lonely"}
    workloads = demo.keys("view=workloads")
    assert {"deployment/shop/web", "replicaset/shop/web-1", "pod/shop/web-1-a", "statefulset/shop/db",
            "cronjob/shop/report", "job/shop/report-1", "pod/shop/report-1-x", "replicationcontroller/shop/legacy",
            "pod/shop/legacy-x"} <= workloads
    assert not {k for k in workloads if k.split("/")[0] in ("service", "node", "container")}
    doc = demo.get("view=workloads")
    assert {"type": "creates", "source": "cronjob/shop/report", "target": "job/shop/report-1"} in doc["relations"]
    assert {"type": "controls", "source": "job/shop/report-1", "target": "pod/shop/report-1-x"} in doc["relations"]
    assert {"type": "controls", "source": "replicationcontroller/shop/legacy",
            "target": "pod/shop/legacy-x"} in doc["relations"]


def test_namespace_filter_keeps_cluster_scoped_neighbours(demo: UI) -> None:
    assert demo.keys("view=infrastructure&namespace=other") == {"pod/other/lonely"}
    shop = demo.keys("view=infrastructure&namespace=shop")
    assert "node//n1" in shop and "persistent-volume//pv1" in shop and "pod/other/lonely" not in shop
    assert "cluster//kubernetes" not in shop  # two relations away


def test_actions(demo: UI) -> None:
    config = demo.keys("action=config&root=pod/shop/web-1-a")
    assert config == {"pod/shop/web-1-a", "container/shop/web-1-a/app", "configmap/shop/settings",
                      "persistent-volume-claim/shop/data", "persistent-volume//pv1", "volume-source//nfs/nfs.example/x"}
    assert demo.keys("action=config&root=container/shop/web-1-a/app") == config
    deep = demo.keys("action=deps&root=deployment/shop/web")
    assert {"replicaset/shop/web-1", "pod/shop/web-1-b", "node//n1", "cluster//kubernetes",
            "configmap/shop/settings", "volume-source//nfs/nfs.example/x"} <= deep
    assert demo.keys("action=deps&root=deployment/shop/web&depth=2") == {
        "deployment/shop/web", "replicaset/shop/web-1", "pod/shop/web-1-a", "pod/shop/web-1-b"}
    assert demo.keys("action=pods&root=deployment/shop/web") == {
        "deployment/shop/web", "replicaset/shop/web-1", "pod/shop/web-1-a", "pod/shop/web-1-b"}
    assert demo.keys("action=pods&root=cronjob/shop/report") == {
        "cronjob/shop/report", "job/shop/report-1", "pod/shop/report-1-x"}
    assert demo.keys("action=pods&root=replicationcontroller/shop/legacy") == {
        "replicationcontroller/shop/legacy", "pod/shop/legacy-x"}
    assert demo.keys("action=pods-services&root=namespace/shop/shop") == {
        "pod/shop/web-1-a", "pod/shop/web-1-b", "pod/shop/db-0", "pod/shop/report-1-x", "pod/shop/legacy-x",
        "service/shop/web"}
    assert demo.keys("action=services&root=namespace/shop/shop") == {"service/shop/web", "ingress/shop/web"}
    assert demo.keys("action=workloads&root=namespace/shop/shop") == {
        "deployment/shop/web", "replicaset/shop/web-1", "statefulset/shop/db", "cronjob/shop/report",
        "job/shop/report-1", "replicationcontroller/shop/legacy"}
    node = demo.get("view=workloads")["nodes"]
    actions = {n["key"]: n["actions"] for n in node.values()}
    assert actions["deployment/shop/web"] == actions["replicationcontroller/shop/legacy"] == ["deps", "pods"]
    assert actions["pod/shop/db-0"] == ["config", "deps"]
    namespaces = {n["key"]: n["actions"] for n in demo.get("view=namespaces")["nodes"].values()}
    assert namespaces["namespace/shop/shop"] == ["pods-services", "services", "workloads"]


def test_bad_queries() -> None:
    ui = UI(Harness())
    for query, status in (("view=nope", "400"), ("action=pods&root=deployment/shop/none", "404"),
                          ("action=pods&root=node//x", "404"), ("action=nope&root=a/b/c", "400"),
                          ("action=deps&root=x", "400"), ("depth=7&action=deps&root=a/b/c", "400")):
        got, headers, body = call(ui.app, "/topology/ui/graph", query)
        assert got.startswith(status), (query, got, body)
        assert headers["Content-Type"] == "application/json"
    assert call(ui.app, "/topology/ui/graph", method="POST")[0] == "405 Method Not Allowed"


def test_dangling_references_are_drawn_and_listed(demo: UI) -> None:
    doc = demo.get("view=applications")
    assert doc["dangling"] == [{"type": "uses_value", "source": "pod/shop/db-0", "target": "secret/shop/db-pw"}]
    missing = [n for n in doc["nodes"].values() if n["missing"]]
    assert [n["key"] for n in missing] == ["secret/shop/db-pw"]
    svg = ET.fromstring(doc["svg"])
    ids = {g.get("id"): g for g in svg.iter(f"{SVG}g")}
    (missing_id,) = [i for i, n in doc["nodes"].items() if n["missing"]]
    assert "missing" in (ids[missing_id].get("class") or "")
    assert "(missing)" in "".join(ids[missing_id].itertext())
    # Listed whatever the view; drawn only where its source is.
    assert demo.get("view=namespaces")["dangling"] == doc["dangling"]
    assert call(demo.app, "/topology/ui/graph", "action=pods&root=pod/shop/db-0")[0] == "400 Bad Request"
    assert not [n for n in demo.get("view=namespaces")["nodes"].values() if n["missing"]]
    assert demo.get("view=applications&namespace=other")["dangling"] == []


def test_tags_are_the_kubernetes_labels(demo: UI) -> None:
    nodes = {n["key"]: n for n in demo.get("view=namespaces")["nodes"].values()}
    assert nodes["namespace/shop/shop"]["labels"] == [["team", "platform"]]
    assert nodes["deployment/shop/web"]["labels"] == [["app.kubernetes.io/name", "web"]]
    assert nodes["deployment/shop/web"]["uid"] == "uid-web"


def test_drawing_has_one_shape_per_component_and_labelled_arrows(demo: UI) -> None:
    doc = demo.get("view=workloads")
    svg = ET.fromstring(doc["svg"])
    nodes = [g for g in svg.iter(f"{SVG}g") if g.get("class", "").startswith("node")]
    assert {g.get("id") for g in nodes} == set(doc["nodes"])
    edges = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "edge"]
    assert len(edges) == len(doc["relations"])
    # The pod's reference to the missing Secret is drawn too.
    assert {"".join(t.itertext()) for e in edges for t in e.iter(f"{SVG}text")} == {"controls", "creates",
                                                                                     "uses_value"}
    shapes = {n["type"]: next(iter(g for g in nodes if g.get("id") == i)) for i, n in doc["nodes"].items()}
    assert shapes["pod"].find(f"{SVG}ellipse") is not None
    assert shapes["deployment"].find(f"{SVG}ellipse") is None
    legend = ET.fromstring(doc["legend"])
    assert {"".join(t.itertext()) for t in legend.iter(f"{SVG}text")} == {
        "deployment", "replicaset", "replicationcontroller", "statefulset", "cronjob", "job", "pod", "missing target"}


def test_large_views_collapse_into_counts() -> None:
    h = Harness()
    h.sinks["namespaces"].upsert(obj("v1", "Namespace", "big", None))
    h.sinks["nodes"].upsert(obj("v1", "Node", "n1", None))
    for i in range(40):
        h.sinks["pods"].upsert(pod(f"p{i}", namespace="big", node="n1", owners=owner("ReplicaSet", "rs")))
    ui = UI(h)
    doc = ui.get("view=infrastructure&limit=30")
    assert doc["count"] == 42 and doc["nodes"] == {}
    assert doc["summary"]["by_type"] == {"cluster": 1, "node": 1, "pod": 40}
    assert doc["summary"]["by_namespace"][0] == {"namespace": "big", "counts": {"pod": 40}, "total": 40}
    texts = {"".join(t.itertext()) for t in ET.fromstring(doc["svg"]).iter(f"{SVG}text")}
    assert {"\u00d7 40", "scheduled_on \u00d7 40", "belongs_to \u00d7 1"} <= texts
    assert ui.get("view=infrastructure")["summary"] is None  # under the default limit


def test_answers_are_cached_until_the_graph_changes(demo: UI) -> None:
    status, headers, body = call(demo.app, "/topology/ui/graph", "view=workloads")
    etag = headers["ETag"]
    assert call(demo.app, "/topology/ui/graph", "view=workloads", headers={"HTTP_IF_NONE_MATCH": etag})[0] == \
        "304 Not Modified"
    demo.h.sinks["deployments"].delete(obj("apps/v1", "Deployment", "web"))
    status, headers, body = call(demo.app, "/topology/ui/graph", "view=workloads",
                                 headers={"HTTP_IF_NONE_MATCH": etag})
    assert status == "200 OK" and headers["ETag"] != etag
    assert "deployment/shop/web" not in {n["key"] for n in json.loads(body)["nodes"].values()}


HOSTILE = ['<img src=x onerror="alert(1)">', '"><script>alert(2)</script>', "\\N\\G\\l", "a\\\"b", "<b>x</b>",
           "&amp;&lt;", "'; alert(3); '", "x\ny"]


def test_hostile_names_and_labels_stay_text() -> None:
    """Names no API server would accept: every string reaches the page as the same text."""
    h = Harness()
    for i, bad in enumerate(HOSTILE):
        h.sinks["namespaces"].upsert(obj("v1", "Namespace", bad, None, uid=f"ns{i}", metadata={"labels": {bad: bad}}))
        h.sinks["deployments"].upsert(obj("apps/v1", "Deployment", bad, bad, uid=f"d{i}"))
    ui = UI(h)
    for query in ("view=namespaces", "view=all", "action=workloads&root=namespace/" + HOSTILE[0] + "/" + HOSTILE[0]):
        from urllib.parse import quote
        doc = ui.get(re.sub(r"root=(.*)", lambda mo: "root=" + quote(mo.group(1)), query))
        svg = ET.fromstring(doc["svg"])  # well-formed: nothing broke out of an attribute or a text
        assert not [e for e in svg.iter() if e.tag.rpartition("}")[2] not in
                    ("svg", "g", "title", "polygon", "polyline", "ellipse", "path", "text")]
        assert not [a for e in svg.iter() for a in e.attrib if a.lower().startswith("on") or "href" in a]
        texts = ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]
        for bad in HOSTILE:
            if f"namespace/{bad}/{bad}" in {n["key"] for n in doc["nodes"].values()}:
                assert bad.split("\n")[0] in texts, (bad, texts)
        nodes = {n["key"]: n for n in doc["nodes"].values()}
        for bad in HOSTILE:
            if f"namespace/{bad}/{bad}" in nodes:
                assert nodes[f"namespace/{bad}/{bad}"]["labels"] == [[bad, bad]]


def test_page_and_assets_are_read_only_and_locked_down(demo: UI) -> None:
    for path, ctype in (("/topology/ui", "text/html"), ("/topology/ui/explorer.js", "text/javascript"),
                        ("/topology/ui/explorer.css", "text/css")):
        status, headers, body = call(demo.app, path)
        assert status == "200 OK" and headers["Content-Type"].startswith(ctype) and body
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
    page = call(demo.app, "/topology/ui")[2].decode()
    assert "<script>" not in page and 'src="ui/explorer.js"' in page  # no inline script to allow
    js = call(demo.app, "/topology/ui/explorer.js")[2].decode()
    assert "innerHTML" not in js and "eval(" not in js
    assert call(demo.app, "/topology/ui", method="DELETE")[0] == "405 Method Not Allowed"


def test_landing_page_links_the_explorer_only_when_topology_is_on(demo: UI) -> None:
    def landing(routes: dict[str, Any]) -> bytes:
        app = MainApp([], livez=lambda: True, telemetry=Telemetry(), routes=routes)
        return call(app, "/")[2]
    assert landing({}) == LANDING
    assert b"<a href='/topology/ui'>topology explorer</a>" in landing(demo.app.routes())


def test_without_graphviz_the_page_says_so_and_lists_the_components(demo: UI, monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Any) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on it
    demo.app.explorer.renderer.cache.clear()
    doc = demo.get("view=workloads")
    assert doc["svg"] == "" and "Graphviz is not installed" in doc["error"] and "apt-get install graphviz" in doc["error"]
    assert "deployment/shop/web" in {n["key"] for n in doc["nodes"].values()}
