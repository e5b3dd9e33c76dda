"""StackState's view of a ``Topology``: externalId URNs, identifiers, data and the intake payloads.

The rules are the StackState cluster agent's (``pkg/collector/corechecks/cluster/urn/urn.go`` and
the topology collectors, summarised in docs/stackstate.md sections 1-2):

* ``urn:kubernetes:/<cluster>:<namespace>:<type>/<name>``, or without ``<namespace>:`` for
  cluster-scoped components; ``urn:cluster:/kubernetes:<cluster>`` for the cluster itself;
* containers under their pod: ``...:<ns>:pod/<pod>:container/<container>``;
* ingress load-balancer endpoints ``urn:endpoint:/<cluster>:<address>``;
* pod-scoped volumes ``urn:kubernetes:/<cluster>:empty-dir:volume/<ns>/<pod>/<volume>`` and the
  cluster-independent ``urn:kubernetes:external-volume:<kind>/<parts>`` (hostPath, NFS, EBS, ...);
* a relation's externalId is ``<source>-><target>`` (no type), and a relation is sent only when
  both of its ends are components of the same snapshot.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Iterator

from .model import Component, Key, Relation, Topology

CLUSTER_TYPE = "kubernetes"
# The agent's batcher flushes every 10,000 elements (``batcher_capacity``).
MAX_CHUNK_ELEMENTS = 10_000

# Types whose data carries ``identifiers: [externalId]`` (namespace, configmap, secret) or an
# (often empty) list of merge identifiers; the controllers (deployment, ...) have no identifiers.
_SELF_IDENTIFIED = frozenset({"namespace", "configmap", "secret"})
_EMPTY_IDENTIFIERS = frozenset({"pod", "ingress", "endpoint", "persistent-volume", "persistent-volume-claim"})
# Kubernetes kind -> component type, for the objects events refer to (``urn.go`` ``BuildExternalID``,
# plus PersistentVolumeClaim and Secret, which are components of the snapshot too).
KIND_TYPES = {
    "ConfigMap": "configmap", "Namespace": "namespace", "DaemonSet": "daemonset", "Deployment": "deployment",
    "Node": "node", "Pod": "pod", "ReplicaSet": "replicaset", "Service": "service", "StatefulSet": "statefulset",
    "CronJob": "cronjob", "Job": "job", "Ingress": "ingress", "PersistentVolume": "persistent-volume",
    "PersistentVolumeClaim": "persistent-volume-claim", "Secret": "secret",
    # ksm-py's own component type (the agent has none for it).
    "ReplicationController": "replicationcontroller",
}
_CLUSTER_SCOPED = frozenset({"cluster", "namespace", "node", "persistent-volume"})


class Urns:
    """externalId / identifier builders for one cluster (``urn.Builder`` of the agent)."""

    def __init__(self, cluster: str, cluster_type: str = CLUSTER_TYPE) -> None:
        self.cluster = cluster
        self.cluster_type = cluster_type
        self.prefix = f"urn:{cluster_type}:/{cluster}"

    def cluster_id(self) -> str:
        return f"urn:cluster:/{self.cluster_type}:{self.cluster}"

    def component_id(self, type: str, namespace: str, name: str) -> str:
        if namespace:
            return f"{self.prefix}:{namespace}:{type}/{name}"
        return f"{self.prefix}:{type}/{name}"

    def container_id(self, namespace: str, pod: str, container: str) -> str:
        return f"{self.component_id('pod', namespace, pod)}:container/{container}"

    def endpoint_id(self, address: str) -> str:
        return f"urn:endpoint:/{self.cluster}:{address}"

    def external_volume_id(self, path: str) -> str:
        return f"urn:{self.cluster_type}:external-volume:{path}"

    def external_id(self, key: Key) -> str:
        """The externalId of a component of the topology."""
        type, ns, name = key
        if type == "cluster":
            return self.cluster_id()
        if type == "namespace":
            return self.component_id("namespace", "", name)
        if type == "container":
            pod, _, container = name.partition("/")
            return self.container_id(ns, pod, container)
        if type == "endpoint":
            return self.endpoint_id(name)
        if type in ("volume", "volume-source"):
            if type == "volume" and ns:
                # Pod-scoped (emptyDir and every source without a cluster-wide identity).
                return self.component_id("volume", "empty-dir", f"{ns}/{name}")
            return self.external_volume_id(name)
        return self.component_id(type, "" if type in _CLUSTER_SCOPED else ns, name)

    def for_kind(self, kind: str, namespace: str, name: str) -> str:
        """The externalId of a Kubernetes object by kind (events), or "" for kinds without components."""
        type = KIND_TYPES.get(kind)
        if not type or not name:
            return ""
        return self.external_id(Key(type, namespace, name))

    def node_identifiers(self, c: Component) -> list[str]:
        """``BuildNodeURNs``: address URNs, Azure provider ids, and the host URN of the node agent."""
        out = []
        for kind, address in c.addresses:
            if kind == "InternalIP":
                out.append(f"urn:ip:/{self.cluster}:{c.key.name}:{address}")
            elif kind == "ExternalIP":
                out.append(f"urn:ip:/{self.cluster}:{address}")
            elif kind == "InternalDNS":
                out.append(f"urn:host:/{self.cluster}:{address}")
            elif kind == "ExternalDNS":
                out.append(f"urn:host:/{address}")
        azure = c.provider_id.removeprefix("azure:///")
        if azure != c.provider_id:
            out += [f"urn:azure:/{azure}", f"urn:azure:/{azure.upper()}"]
        out.append(f"urn:host:/{c.key.name}-{self.cluster}")
        return out

    def service_identifiers(self, c: Component) -> list[str]:
        """Service merge identifiers (without the per-port ones: ports are not in the source)."""
        out = []
        cluster_ip = c.cluster_ip if c.cluster_ip not in ("", "None") else ""
        kind = c.service_type or ("ClusterIP" if cluster_ip else "")
        if kind in ("ClusterIP", "NodePort") and cluster_ip:
            out.append(f"urn:endpoint:/{self.cluster}:{cluster_ip}")
        elif kind == "LoadBalancer":
            if c.load_balancer_ip:
                out.append(f"urn:endpoint:/{self.cluster}:{c.load_balancer_ip}")
            if cluster_ip:
                out.append(f"urn:endpoint:/{self.cluster}:{cluster_ip}")
        out += [f"urn:ingress-point:/{address}" for address in c.ingress_points]
        out.append(f"urn:service:/{self.cluster}:{c.key.namespace}:{c.key.name}")
        return out

    def identifiers(self, c: Component, external_id: str) -> list[str] | None:
        """``data.identifiers`` of a component, or None when the agent sets none for its type."""
        type = c.type
        if type in _SELF_IDENTIFIED:
            return [external_id]
        if type in _EMPTY_IDENTIFIERS:
            return []
        if type == "node":
            return self.node_identifiers(c)
        if type == "service":
            return self.service_identifiers(c)
        if type == "external-service":
            ids = [f"urn:endpoint:/{c.external_name}"] if c.external_name else []
            return [*ids, f"urn:external-service:/{self.cluster}:{c.key.namespace}:{c.key.name}"]
        if type == "container":
            # urn:container:/<node>-<cluster>:<id>, the node agent's container identifier.
            container_id = c.container_id.rpartition("/")[2]
            return [f"urn:container:/{c.node}-{self.cluster}:{container_id}"] if container_id and c.node else []
        return None


def display_name(key: Key, cluster: str) -> str:
    """``data.name``: the object name (containers and pod-scoped volumes: their own name)."""
    if key.type == "cluster":
        return cluster
    if key.type == "container" or (key.type == "volume" and key.namespace):
        return key.name.partition("/")[2] or key.name
    return key.name


@dataclasses.dataclass
class Snapshot:
    """The components and relations of one full snapshot, as intake JSON objects."""

    components: list[dict[str, Any]]
    relations: list[dict[str, Any]]
    # Relations left out because an end is not a component of the snapshot.
    dropped_relations: int = 0

    def __len__(self) -> int:
        return len(self.components) + len(self.relations)


class Mapper:
    """Build StackState snapshots for one cluster."""

    def __init__(self, cluster: str, cluster_type: str = CLUSTER_TYPE) -> None:
        self.cluster = cluster
        self.cluster_type = cluster_type
        self.urns = Urns(cluster, cluster_type)

    def tags(self, c: Component) -> dict[str, str]:
        """``initTags``: the object's labels, cluster name and type, namespace, component type."""
        tags = dict(c.labels)
        tags["cluster-name"] = self.cluster
        if c.key.namespace and c.type not in _CLUSTER_SCOPED:
            tags["namespace"] = c.key.namespace
        tags["cluster-type"] = self.cluster_type
        tags["component-type"] = f"{self.cluster_type}-{c.type.replace('-', '')}"
        if c.type == "service":
            if c.service_type:
                tags["service-type"] = c.service_type
            if c.cluster_ip == "None":
                tags["service"] = "headless"
        elif c.type in ("volume", "volume-source"):
            tags["kind"] = "empty-dir" if c.key.namespace else c.key.name.partition("/")[0]
        return tags

    def component(self, c: Component) -> dict[str, Any]:
        external_id = self.urns.external_id(c.key)
        data: dict[str, Any] = {"name": display_name(c.key, self.cluster), "tags": self.tags(c)}
        identifiers = self.urns.identifiers(c, external_id)
        if identifiers is not None:
            data["identifiers"] = identifiers
        if c.type == "node":
            data["instanceId"] = data["sts_host"] = f"{c.key.name}-{self.cluster}"
        elif c.type == "pod" and c.phase:
            data["status"] = {"phase": c.phase}
        elif c.type == "container":
            data["pod"] = c.key.name.partition("/")[0]
        elif c.type == "external-service":
            data["kind"] = "ExternalService"
            if c.uid:
                data["uid"] = c.uid
        elif c.type == "endpoint":
            data["kind"] = "Endpoint"
        return {"externalId": external_id, "type": {"name": c.type}, "data": data}

    def snapshot(self, topology: Topology) -> Snapshot:
        """Components (one per externalId, first wins) and the relations whose ends both exist."""
        components: dict[str, dict[str, Any]] = {}
        ids: dict[Key, str] = {}
        has_cluster = any(k.type == "cluster" for k in topology.components)
        source = list(topology.components.values())
        if not has_cluster:
            # The agent always reports the cluster and node -> cluster; older sources may not.
            source.insert(0, Component(Key("cluster", "", self.cluster)))
        for c in _with_pod_facts(source, topology):
            payload = self.component(c)
            components.setdefault(payload["externalId"], payload)
            ids[c.key] = payload["externalId"]
        relations = list(topology.relations)
        if not has_cluster:
            relations += [Relation("belongs_to", k, Key("cluster", "", self.cluster))
                          for k in topology.components if k.type == "node"]
        out: dict[tuple[str, str, str], dict[str, Any]] = {}
        dropped = 0
        for r in relations:
            s, t = self._end(r.source, ids), self._end(r.target, ids)
            if not s or not t:
                dropped += 1
                continue
            out.setdefault((r.type, s, t), {"externalId": f"{s}->{t}", "type": {"name": r.type},
                                            "sourceId": s, "targetId": t, "data": {}})
        return Snapshot(list(components.values()), list(out.values()), dropped)

    def _end(self, key: Key, ids: dict[Key, str]) -> str:
        if key.type == "cluster":
            # Whatever name the source gave its cluster, there is one: --cluster-name.
            return next((v for k, v in ids.items() if k.type == "cluster"), "")
        return ids.get(key, "")

    def instance(self) -> dict[str, str]:
        # Topology URNs and the instance are always "kubernetes", even on OpenShift (agent behaviour).
        return {"type": CLUSTER_TYPE, "url": self.cluster}

    def chunks(self, snapshot: Snapshot, size: int = MAX_CHUNK_ELEMENTS) -> Iterator[dict[str, Any]]:
        """``topologies[]`` elements of at most ``size`` components + relations; the first starts
        the snapshot and the last stops it (one chunk does both)."""
        elements = [("components", c) for c in snapshot.components] + [("relations", r) for r in snapshot.relations]
        count = max(1, math.ceil(len(elements) / size))
        for i in range(count):
            chunk: dict[str, Any] = {"start_snapshot": i == 0, "stop_snapshot": i == count - 1,
                                     "instance": self.instance(), "components": [], "relations": [],
                                     "delete_ids": []}
            for field, element in elements[i * size:(i + 1) * size]:
                chunk[field].append(element)
            yield chunk


def _with_pod_facts(components: list[Component], topology: Topology) -> Iterator[Component]:
    """Containers inherit their pod's node (for the container identifier), from the pod's facts or
    its ``scheduled_on`` relation."""
    nodes = {r.source: r.target.name for r in topology.relations if r.type == "scheduled_on"}
    for c in components:
        if c.type == "container" and not c.node:
            pod = Key("pod", c.key.namespace, c.key.name.partition("/")[0])
            pod_component = topology.components.get(pod)
            c.node = (pod_component.node if pod_component else "") or nodes.get(pod, "")
        yield c


def envelope(*, hostname: str, timestamp: int, topologies: list[dict[str, Any]] | None = None,
             events: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """The receiver intake envelope (the API key travels in the URL and a header, never here)."""
    return {"collection_timestamp": timestamp, "internalHostname": hostname, "events": events or {},
            "metrics": [], "service_checks": [], "health": [], "topologies": topologies or []}
