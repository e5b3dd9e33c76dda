"""The topology stores as the reflectors feed them (upsert/delete/relist), and ``/topology``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ksm_py.exposition import render_body
from ksm_py.options import Options
from ksm_py.topology.extension import TopologyApp, TopologyExtension
from ksm_py.topology.graph import TopologySink
from ksm_py.topology.kinds import KINDS

from ._util import graph, obj, owner, pod


class Harness:
    """The extension with one sink per kind, as the exporter wires it (no --namespaces)."""

    def __init__(self, **options: Any) -> None:
        opts = Options(resources=["topology"], **options)
        self.ext = TopologyExtension(opts)
        self.sinks: dict[str, TopologySink] = {}
        for watch in self.ext.watches(opts):
            sink = watch.sink(None)
            assert isinstance(sink, TopologySink)
            self.sinks[watch.resource] = sink

    def text(self) -> str:
        return render_body(self.ext.writers()).decode()

    def graph(self) -> tuple[set[str], set[str]]:
        components, relations = graph(self.text())
        return set(components), relations

    def get(self, query: str = "") -> tuple[str, dict[str, Any]]:
        app = TopologyApp(self.ext.topology)
        status: list[str] = []
        body = b"".join(app({"QUERY_STRING": query}, lambda s, h: status.append(s)))
        return status[0], json.loads(body)


def test_watches_cover_every_kind_once_with_metadata_only_configmaps_and_secrets() -> None:
    watches = TopologyExtension(Options(resources=["topology"])).watches(Options())
    assert [w.resource for w in watches] == [k.resource.name for k in KINDS]
    assert {w.resource for w in watches if w.metadata_only} == {"configmaps", "secrets"}
    assert len({w.resource for w in watches}) == len(watches)


def test_follows_upsert_update_delete() -> None:
    h = Harness()
    h.sinks["pods"].upsert(pod("p", node="n1", owners=owner("ReplicaSet", "rs")))
    components, relations = h.graph()
    assert "pod/shop/p" in components and "controls replicaset/shop/rs -> pod/shop/p" in relations
    # Rescheduled and orphaned.
    h.sinks["pods"].upsert(pod("p", node="n2"))
    components, relations = h.graph()
    assert "scheduled_on pod/shop/p -> node//n2" in relations
    assert "scheduled_on pod/shop/p -> node//n1" not in relations
    assert "encloses namespace/shop/shop -> pod/shop/p" in relations
    assert not any(r.startswith("controls") for r in relations)
    h.sinks["pods"].delete(pod("p"))
    assert h.graph() == ({"cluster//kubernetes"}, set())


def test_an_update_that_changes_nothing_is_not_rendered_again() -> None:
    h = Harness()
    sink = h.sinks["pods"]
    p = pod("p", node="n1")
    sink.upsert(p)
    rendered = sink.store.snapshot()
    p2 = {**p, "status": {"phase": "Running", "podIP": "10.0.0.9"}, "metadata": {**p["metadata"], "resourceVersion": "9"}}
    sink.upsert(p2)
    assert sink.store.snapshot() is not None
    assert all(a is b for a, b in zip(sink.store.snapshot()[0], rendered[0], strict=True))


def test_relist_replaces_and_drops_what_was_deleted_meanwhile() -> None:
    h = Harness()
    sink = h.sinks["pods"]
    sink.upsert(pod("gone"))
    sink.upsert(pod("kept", node="n1"))
    replacement = sink.replacement()
    replacement.add(pod("kept", node="n2"))
    replacement.add(pod("new"))
    # Until commit the old content is served.
    assert "pod/shop/gone" in h.graph()[0]
    replacement.commit()
    components, relations = h.graph()
    assert {c for c in components if c.startswith("pod/")} == {"pod/shop/kept", "pod/shop/new"}
    assert "scheduled_on pod/shop/kept -> node//n2" in relations


def test_shared_components_are_rendered_once_while_any_owner_has_them() -> None:
    h = Harness()
    ingress = h.sinks["ingresses"]
    lb = {"loadBalancer": {"ingress": [{"ip": "10.1.2.3"}]}}
    ingress.upsert(obj("networking.k8s.io/v1", "Ingress", "a", spec={}, status=lb))
    ingress.upsert(obj("networking.k8s.io/v1", "Ingress", "b", spec={}, status=lb))
    text = h.text()
    assert text.count('kube_topology_component{type="endpoint",namespace="",name="10.1.2.3",uid=""} 1') == 1
    ingress.delete(obj("networking.k8s.io/v1", "Ingress", "a"))
    assert "endpoint//10.1.2.3" in h.graph()[0]
    # b moves to another address: 10.1.2.3 has no owner left.
    ingress.upsert(obj("networking.k8s.io/v1", "Ingress", "b", spec={},
                       status={"loadBalancer": {"ingress": [{"ip": "10.9.9.9"}]}}))
    components, relations = h.graph()
    assert "endpoint//10.1.2.3" not in components and "endpoint//10.9.9.9" in components
    assert relations == {"routes endpoint//10.9.9.9 -> ingress/shop/b"}
    # A relist that no longer has b.
    replacement = ingress.replacement()
    replacement.commit()
    assert h.graph() == ({"cluster//kubernetes"}, set())


def test_shared_host_path_across_namespaces_and_kinds() -> None:
    h = Harness()
    vol = [{"name": "logs", "hostPath": {"path": "/var/log"}}]
    h.sinks["pods"].upsert(pod("a", node="n1", volumes=vol))
    h.sinks["pods"].upsert(pod("b", node="n1", volumes=vol, namespace="other"))
    assert h.text().count('{type="volume",namespace="",name="hostpath/n1/var/log"') == 1
    assert h.graph()[1] >= {"claims pod/shop/a -> volume//hostpath/n1/var/log",
                            "claims pod/other/b -> volume//hostpath/n1/var/log"}


def slice_(name: str, service: str, pods: list[str]) -> dict[str, Any]:
    return obj("discovery.k8s.io/v1", "EndpointSlice", name, metadata={"labels": {"kubernetes.io/service-name": service}},
               endpoints=[{"targetRef": {"kind": "Pod", "name": p, "namespace": "shop"}} for p in pods])


def test_endpointslices_are_rendered_per_service() -> None:
    h = Harness()
    slices = h.sinks["endpointslices"]
    slices.upsert(slice_("web-a", "web", ["p1", "p2"]))
    slices.upsert(slice_("web-b", "web", ["p2", "p3"]))
    assert h.graph()[1] == {f"exposes service/shop/web -> pod/shop/{p}" for p in ("p1", "p2", "p3")}
    assert h.text().count("target_name=\"p2\"") == 1
    slices.delete(slice_("web-a", "web", []))
    assert h.graph()[1] == {f"exposes service/shop/web -> pod/shop/{p}" for p in ("p2", "p3")}
    slices.upsert(slice_("web-b", "web", []))
    assert h.graph()[1] == set()
    replacement = slices.replacement()
    replacement.add(slice_("api-a", "api", ["q1"]))
    replacement.commit()
    assert h.graph()[1] == {"exposes service/shop/api -> pod/shop/q1"}


@pytest.fixture
def shop() -> Harness:
    h = Harness()
    s = h.sinks
    s["namespaces"].upsert(obj("v1", "Namespace", "shop", None))
    s["nodes"].upsert(obj("v1", "Node", "n1", None))
    s["deployments"].upsert(obj("apps/v1", "Deployment", "web"))
    s["replicasets"].upsert(obj("apps/v1", "ReplicaSet", "web-1", metadata={"ownerReferences": owner("Deployment", "web")}))
    s["pods"].upsert(pod("web-1-a", node="n1", owners=owner("ReplicaSet", "web-1"), containers=[
        {"name": "app", "envFrom": [{"configMapRef": {"name": "settings"}}]}]))
    s["configmaps"].upsert(obj("v1", "ConfigMap", "settings"))
    s["services"].upsert(obj("v1", "Service", "web"))
    s["endpointslices"].upsert(slice_("web-x", "web", ["web-1-a"]))
    s["pods"].upsert(pod("other", namespace="elsewhere"))
    return h


def test_topology_endpoint_lists_everything(shop: Harness) -> None:
    status, doc = shop.get()
    assert status == "200 OK"
    assert doc["cluster"] == "kubernetes"
    assert {"type": "pod", "namespace": "shop", "name": "web-1-a", "uid": "uid-web-1-a"} in doc["components"]
    assert {"type": "exposes", "source": {"type": "service", "namespace": "shop", "name": "web"},
            "target": {"type": "pod", "namespace": "shop", "name": "web-1-a"}} in doc["relations"]
    components, relations = shop.graph()
    assert {f"{c['type']}/{c['namespace']}/{c['name']}" for c in doc["components"]} == components
    assert len(doc["relations"]) == len(relations)


def test_topology_endpoint_by_namespace(shop: Harness) -> None:
    _, doc = shop.get("namespace=elsewhere")
    # Sorted by type, namespace, name.
    assert [(c["type"], c["name"]) for c in doc["components"]] == [("container", "other/app"), ("pod", "other")]
    assert {r["type"] for r in doc["relations"]} == {"encloses"}
    assert all("elsewhere" in (r["source"]["namespace"], r["target"]["namespace"]) for r in doc["relations"])


def refs(doc: dict[str, Any]) -> set[str]:
    return {f"{c['type']}/{c['namespace']}/{c['name']}" for c in doc["components"]}


def test_topology_endpoint_dependencies_of_a_deployment(shop: Harness) -> None:
    status, doc = shop.get("root=deployment/shop/web")
    assert status == "200 OK" and doc["depth"] == 6 and doc["direction"] == "down"
    assert refs(doc) == {"deployment/shop/web", "replicaset/shop/web-1", "pod/shop/web-1-a",
                         "container/shop/web-1-a/app", "node//n1", "configmap/shop/settings", "cluster//kubernetes"}
    _, doc = shop.get("root=deployment/shop/web&depth=2")
    assert refs(doc) == {"deployment/shop/web", "replicaset/shop/web-1", "pod/shop/web-1-a"}
    assert {r["type"] for r in doc["relations"]} == {"controls"}
    _, doc = shop.get("root=pod/shop/web-1-a&depth=1&direction=up")
    assert refs(doc) == {"pod/shop/web-1-a", "replicaset/shop/web-1", "service/shop/web"}
    _, doc = shop.get("root=node//n1&depth=1&direction=both")
    assert refs(doc) == {"node//n1", "cluster//kubernetes", "pod/shop/web-1-a", "container/shop/web-1-a/app"}


@pytest.mark.parametrize(("query", "status"), [
    ("root=deployment/shop", "400 Bad Request"),
    ("root=deployment/shop/web&depth=x", "400 Bad Request"),
    ("root=deployment/shop/web&depth=-1", "400 Bad Request"),
    ("root=deployment/shop/web&direction=sideways", "400 Bad Request"),
    ("root=deployment/shop/nope", "404 Not Found"),
])
def test_topology_endpoint_errors(shop: Harness, query: str, status: str) -> None:
    got, doc = shop.get(query)
    assert got == status and doc["error"]


def test_metric_denylist_applies_to_topology_families() -> None:
    h = Harness(metric_denylist=["kube_topology_relation"])
    h.sinks["nodes"].upsert(obj("v1", "Node", "n1", None))
    text = h.text()
    assert "kube_topology_component{" in text and "kube_topology_relation" not in text
    # /topology still answers from the records.
    assert h.get()[1]["relations"]
