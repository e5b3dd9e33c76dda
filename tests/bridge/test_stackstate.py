"""URNs, identifiers, tags, relations and chunking (docs/stackstate.md sections 1-2, 4)."""

from __future__ import annotations

from typing import Any

import pytest

from ksm_py.bridge.model import Component, Key, Topology
from ksm_py.bridge.stackstate import Mapper, Snapshot, Urns, envelope

C = "prod-eu"
URNS = Urns(C)


@pytest.mark.parametrize(("key", "urn"), [
    (Key("cluster", "", "kubernetes"), "urn:cluster:/kubernetes:prod-eu"),
    (Key("namespace", "shop", "shop"), "urn:kubernetes:/prod-eu:namespace/shop"),
    (Key("node", "", "node-1"), "urn:kubernetes:/prod-eu:node/node-1"),
    (Key("pod", "shop", "web-1"), "urn:kubernetes:/prod-eu:shop:pod/web-1"),
    (Key("container", "shop", "web-1/nginx"), "urn:kubernetes:/prod-eu:shop:pod/web-1:container/nginx"),
    (Key("service", "shop", "web"), "urn:kubernetes:/prod-eu:shop:service/web"),
    (Key("external-service", "shop", "db"), "urn:kubernetes:/prod-eu:shop:external-service/db"),
    (Key("ingress", "shop", "web"), "urn:kubernetes:/prod-eu:shop:ingress/web"),
    (Key("endpoint", "", "10.1.2.3"), "urn:endpoint:/prod-eu:10.1.2.3"),
    (Key("endpoint", "", "lb.example.com"), "urn:endpoint:/prod-eu:lb.example.com"),
    (Key("deployment", "shop", "web"), "urn:kubernetes:/prod-eu:shop:deployment/web"),
    (Key("replicaset", "shop", "web-5d4f"), "urn:kubernetes:/prod-eu:shop:replicaset/web-5d4f"),
    (Key("statefulset", "shop", "db"), "urn:kubernetes:/prod-eu:shop:statefulset/db"),
    (Key("daemonset", "kube-system", "proxy"), "urn:kubernetes:/prod-eu:kube-system:daemonset/proxy"),
    (Key("job", "shop", "migrate"), "urn:kubernetes:/prod-eu:shop:job/migrate"),
    (Key("cronjob", "shop", "backup"), "urn:kubernetes:/prod-eu:shop:cronjob/backup"),
    (Key("configmap", "shop", "cfg"), "urn:kubernetes:/prod-eu:shop:configmap/cfg"),
    (Key("secret", "shop", "creds"), "urn:kubernetes:/prod-eu:shop:secret/creds"),
    (Key("persistent-volume", "", "pv-1"), "urn:kubernetes:/prod-eu:persistent-volume/pv-1"),
    (Key("persistent-volume-claim", "shop", "data"), "urn:kubernetes:/prod-eu:shop:persistent-volume-claim/data"),
    # pod-scoped volumes: the agent's emptyDir id, literal "empty-dir" segment
    (Key("volume", "shop", "web-1/cache"), "urn:kubernetes:/prod-eu:empty-dir:volume/shop/web-1/cache"),
    # shared volumes and PV sources: no cluster in the id
    (Key("volume", "", "hostpath/node-1/var/log"), "urn:kubernetes:external-volume:hostpath/node-1/var/log"),
    (Key("volume", "", "nfs/filer/exports/a"), "urn:kubernetes:external-volume:nfs/filer/exports/a"),
    (Key("volume-source", "", "aws-ebs/vol-123/0"), "urn:kubernetes:external-volume:aws-ebs/vol-123/0"),
])
def test_external_id_of_every_component_type(key: Key, urn: str) -> None:
    assert URNS.external_id(key) == urn


@pytest.mark.parametrize(("kind", "ns", "name", "urn"), [
    ("Pod", "shop", "web-1", "urn:kubernetes:/prod-eu:shop:pod/web-1"),
    ("Node", "", "node-1", "urn:kubernetes:/prod-eu:node/node-1"),
    ("Namespace", "", "shop", "urn:kubernetes:/prod-eu:namespace/shop"),
    ("PersistentVolume", "", "pv-1", "urn:kubernetes:/prod-eu:persistent-volume/pv-1"),
    ("Deployment", "shop", "web", "urn:kubernetes:/prod-eu:shop:deployment/web"),
    ("HorizontalPodAutoscaler", "shop", "web", ""),
    ("Lease", "kube-node-lease", "node-1", ""),
])
def test_external_id_by_kubernetes_kind(kind: str, ns: str, name: str, urn: str) -> None:
    assert URNS.for_kind(kind, ns, name) == urn


def _data(c: Component, cluster: str = C) -> dict[str, Any]:
    data: dict[str, Any] = Mapper(cluster).component(c)["data"]
    return data


def test_identifier_rules() -> None:
    # namespace, configmap, secret: [externalId]
    for key in (Key("namespace", "a", "a"), Key("configmap", "a", "c"), Key("secret", "a", "s")):
        assert _data(Component(key))["identifiers"] == [URNS.external_id(key)]
    # pod, ingress, endpoint, PV, PVC: an empty list
    for key in (Key("pod", "a", "p"), Key("ingress", "a", "i"), Key("endpoint", "", "1.2.3.4"),
                Key("persistent-volume", "", "pv"), Key("persistent-volume-claim", "a", "c")):
        assert _data(Component(key))["identifiers"] == []
    # controllers and the cluster: no identifiers at all
    for key in (Key("deployment", "a", "d"), Key("replicaset", "a", "r"), Key("statefulset", "a", "s"),
                Key("daemonset", "a", "d"), Key("job", "a", "j"), Key("cronjob", "a", "c"),
                Key("cluster", "", "x")):
        assert "identifiers" not in _data(Component(key))


def test_node_identifiers_and_host_data() -> None:
    node = Component(Key("node", "", "n1"), addresses=[
        ("InternalIP", "10.0.0.5"), ("ExternalIP", "34.1.2.3"), ("InternalDNS", "n1.internal"),
        ("ExternalDNS", "n1.example.com"), ("Hostname", "n1")], provider_id="azure:///subscriptions/ab/vm-1")
    data = _data(node)
    assert data["identifiers"] == [
        "urn:ip:/prod-eu:n1:10.0.0.5", "urn:ip:/prod-eu:34.1.2.3", "urn:host:/prod-eu:n1.internal",
        "urn:host:/n1.example.com", "urn:azure:/subscriptions/ab/vm-1", "urn:azure:/SUBSCRIPTIONS/AB/VM-1",
        "urn:host:/n1-prod-eu"]
    assert data["instanceId"] == data["sts_host"] == "n1-prod-eu"
    assert _data(Component(Key("node", "", "bare")))["identifiers"] == ["urn:host:/bare-prod-eu"]


@pytest.mark.parametrize(("component", "identifiers"), [
    (Component(Key("service", "a", "s")), ["urn:service:/prod-eu:a:s"]),
    (Component(Key("service", "a", "s"), cluster_ip="10.96.0.10", service_type="ClusterIP"),
     ["urn:endpoint:/prod-eu:10.96.0.10", "urn:service:/prod-eu:a:s"]),
    (Component(Key("service", "a", "s"), cluster_ip="None", service_type="ClusterIP"), ["urn:service:/prod-eu:a:s"]),
    (Component(Key("service", "a", "s"), cluster_ip="10.96.0.11", service_type="NodePort"),
     ["urn:endpoint:/prod-eu:10.96.0.11", "urn:service:/prod-eu:a:s"]),
    (Component(Key("service", "a", "s"), cluster_ip="10.96.0.12", service_type="LoadBalancer",
               load_balancer_ip="34.0.0.1", ingress_points=["34.0.0.1", "lb.example.com"]),
     ["urn:endpoint:/prod-eu:34.0.0.1", "urn:endpoint:/prod-eu:10.96.0.12", "urn:ingress-point:/34.0.0.1",
      "urn:ingress-point:/lb.example.com", "urn:service:/prod-eu:a:s"]),
    (Component(Key("external-service", "a", "db"), external_name="db.example.com"),
     ["urn:endpoint:/db.example.com", "urn:external-service:/prod-eu:a:db"]),
    (Component(Key("container", "a", "p/c"), container_id="containerd://0123abc", node="n1"),
     ["urn:container:/n1-prod-eu:0123abc"]),
    (Component(Key("container", "a", "p/c")), []),
])
def test_service_external_service_and_container_identifiers(component: Component, identifiers: list[str]) -> None:
    assert _data(component)["identifiers"] == identifiers


def test_tags_and_names() -> None:
    pod = _data(Component(Key("pod", "shop", "web-1"), labels={"app": "web"}, phase="Running"))
    assert pod["name"] == "web-1"
    assert pod["tags"] == {"app": "web", "cluster-name": C, "namespace": "shop", "cluster-type": "kubernetes",
                           "component-type": "kubernetes-pod"}
    assert pod["status"] == {"phase": "Running"}
    ns = _data(Component(Key("namespace", "shop", "shop")))
    assert "namespace" not in ns["tags"]  # the Namespace object itself has no metadata.namespace
    assert _data(Component(Key("persistent-volume-claim", "a", "c")))["tags"]["component-type"] == \
        "kubernetes-persistentvolumeclaim"
    assert _data(Component(Key("external-service", "a", "c")))["tags"]["component-type"] == \
        "kubernetes-externalservice"
    container = _data(Component(Key("container", "shop", "web-1/nginx")))
    assert (container["name"], container["pod"], container["tags"]["namespace"]) == ("nginx", "web-1", "shop")
    assert _data(Component(Key("volume", "shop", "web-1/cache")))["name"] == "cache"
    assert _data(Component(Key("volume", "shop", "web-1/cache")))["tags"]["kind"] == "empty-dir"
    assert _data(Component(Key("volume", "", "nfs/filer/x")))["tags"]["kind"] == "nfs"
    svc = _data(Component(Key("service", "a", "h"), cluster_ip="None", service_type="ClusterIP"))
    assert (svc["tags"]["service-type"], svc["tags"]["service"]) == ("ClusterIP", "headless")
    assert _data(Component(Key("cluster", "", "kubernetes")))["name"] == C


def _topology() -> Topology:
    t = Topology()
    for key in (Key("cluster", "", "kubernetes"), Key("namespace", "shop", "shop"), Key("node", "", "n1"),
                Key("deployment", "shop", "web"), Key("replicaset", "shop", "web-1a"), Key("pod", "shop", "web-1a-x"),
                Key("container", "shop", "web-1a-x/c")):
        t.component(key)
    t.relation("belongs_to", Key("node", "", "n1"), Key("cluster", "", "kubernetes"))
    t.relation("encloses", Key("namespace", "shop", "shop"), Key("deployment", "shop", "web"))
    t.relation("controls", Key("deployment", "shop", "web"), Key("replicaset", "shop", "web-1a"))
    t.relation("controls", Key("replicaset", "shop", "web-1a"), Key("pod", "shop", "web-1a-x"))
    t.relation("scheduled_on", Key("pod", "shop", "web-1a-x"), Key("node", "", "n1"))
    t.relation("encloses", Key("pod", "shop", "web-1a-x"), Key("container", "shop", "web-1a-x/c"))
    t.relation("runs_on", Key("container", "shop", "web-1a-x/c"), Key("node", "", "n1"))
    # dangling: a ConfigMap that does not exist, a PV not in the snapshot
    t.relation("uses", Key("pod", "shop", "web-1a-x"), Key("configmap", "shop", "missing"))
    t.relation("exposes", Key("persistent-volume-claim", "shop", "data"), Key("persistent-volume", "", "pv-9"))
    t.relation("scheduled_on", Key("pod", "shop", "web-1a-x"), Key("node", "", "n1"))  # duplicate
    return t


def test_relations_need_both_ends_and_use_the_agent_external_id() -> None:
    snap = Mapper(C).snapshot(_topology())
    ids = {c["externalId"] for c in snap.components}
    assert snap.dropped_relations == 2
    assert len(snap.relations) == 7
    for r in snap.relations:
        assert r["sourceId"] in ids and r["targetId"] in ids
        assert r["externalId"] == f"{r['sourceId']}->{r['targetId']}"
        assert r["data"] == {}
    belongs = [r for r in snap.relations if r["type"]["name"] == "belongs_to"]
    # ksm-py's cluster component ("kubernetes") is the bridge's --cluster-name
    assert belongs[0]["targetId"] == "urn:cluster:/kubernetes:prod-eu"
    assert sum(1 for c in snap.components if c["type"]["name"] == "cluster") == 1


def test_container_identifier_uses_the_node_of_its_pod() -> None:
    t = _topology()
    t.components[Key("container", "shop", "web-1a-x/c")].container_id = "docker://feed"
    comps = {c["externalId"]: c for c in Mapper(C).snapshot(t).components}
    container = comps["urn:kubernetes:/prod-eu:shop:pod/web-1a-x:container/c"]
    assert container["data"]["identifiers"] == ["urn:container:/n1-prod-eu:feed"]


def test_cluster_and_node_relation_added_when_the_source_has_no_cluster() -> None:
    t = Topology()
    t.component(Key("node", "", "n1"))
    snap = Mapper(C).snapshot(t)
    assert [c["externalId"] for c in snap.components] == ["urn:cluster:/kubernetes:prod-eu",
                                                          "urn:kubernetes:/prod-eu:node/n1"]
    assert [(r["type"]["name"], r["targetId"]) for r in snap.relations] == [
        ("belongs_to", "urn:cluster:/kubernetes:prod-eu")]


def test_components_with_the_same_external_id_are_sent_once() -> None:
    t = Topology()
    t.component(Key("namespace", "a", "a"))
    t.component(Key("volume", "", "nfs/filer/x"))
    t.component(Key("volume-source", "", "nfs/filer/x"))  # same id as the inline NFS volume
    snap = Mapper(C).snapshot(t)
    assert len([c for c in snap.components if "external-volume" in c["externalId"]]) == 1


def _snapshot(n: int) -> Snapshot:
    comps = [{"externalId": f"c{i}"} for i in range(n // 2)]
    rels = [{"externalId": f"r{i}"} for i in range(n - n // 2)]
    return Snapshot(comps, rels)


@pytest.mark.parametrize(("elements", "sizes"), [
    (25_001, [10_000, 10_000, 5_001]),
    (30_001, [10_000, 10_000, 10_000, 1]),
    (20_000, [10_000, 10_000]),
    (10_000, [10_000]),
    (1, [1]),
])
def test_chunking_and_snapshot_flags(elements: int, sizes: list[int]) -> None:
    chunks = list(Mapper(C).chunks(_snapshot(elements)))
    assert [len(c["components"]) + len(c["relations"]) for c in chunks] == sizes
    assert [c["start_snapshot"] for c in chunks] == [i == 0 for i in range(len(sizes))]
    assert [c["stop_snapshot"] for c in chunks] == [i == len(sizes) - 1 for i in range(len(sizes))]
    for c in chunks:
        assert c["instance"] == {"type": "kubernetes", "url": C}
        assert c["delete_ids"] == []
    # every element exactly once, components before relations
    sent = [e["externalId"] for c in chunks for e in c["components"] + c["relations"]]
    assert sent == [f"c{i}" for i in range(elements // 2)] + [f"r{i}" for i in range(elements - elements // 2)]


def test_envelope_shape() -> None:
    env = envelope(hostname="bridge-0", timestamp=1700000000, topologies=[{"x": 1}])
    assert env == {"collection_timestamp": 1700000000, "internalHostname": "bridge-0", "events": {}, "metrics": [],
                   "service_checks": [], "health": [], "topologies": [{"x": 1}]}
    assert "apiKey" not in env
