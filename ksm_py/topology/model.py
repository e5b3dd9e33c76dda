"""The topology model: components and relations (StackState's vocabulary), and a per-object record.

A component is identified by ``(type, namespace, name)``; ``namespace`` is empty for
cluster-scoped components (except namespaces, which carry their own name, like KSM's
``kube_namespace_*`` families).  A relation is ``(type, source, target)``; its target may not
exist (a pod referencing a missing ConfigMap), which is what makes dangling references visible.
"""

from __future__ import annotations

from typing import NamedTuple

# Component types (StackState ``type.name``).
CLUSTER = "cluster"
NAMESPACE = "namespace"
NODE = "node"
POD = "pod"
CONTAINER = "container"
SERVICE = "service"
EXTERNAL_SERVICE = "external-service"
INGRESS = "ingress"
ENDPOINT = "endpoint"
DEPLOYMENT = "deployment"
REPLICASET = "replicaset"
# Not a type of the StackState agent (it has no ReplicationController collector): modelled as the
# workload controller it is, like a ReplicaSet.
REPLICATIONCONTROLLER = "replicationcontroller"
STATEFULSET = "statefulset"
DAEMONSET = "daemonset"
JOB = "job"
CRONJOB = "cronjob"
CONFIGMAP = "configmap"
SECRET = "secret"
PERSISTENT_VOLUME = "persistent-volume"
PERSISTENT_VOLUME_CLAIM = "persistent-volume-claim"
VOLUME = "volume"
VOLUME_SOURCE = "volume-source"

COMPONENT_TYPES = (
    CLUSTER, NAMESPACE, NODE, POD, CONTAINER, SERVICE, EXTERNAL_SERVICE, INGRESS, ENDPOINT, DEPLOYMENT,
    REPLICASET, REPLICATIONCONTROLLER, STATEFULSET, DAEMONSET, JOB, CRONJOB, CONFIGMAP, SECRET, PERSISTENT_VOLUME,
    PERSISTENT_VOLUME_CLAIM, VOLUME, VOLUME_SOURCE,
)

# Relation types: the 13 of the StackState cluster agent.
BELONGS_TO = "belongs_to"
SCHEDULED_ON = "scheduled_on"
CONTROLS = "controls"
ENCLOSES = "encloses"
CREATES = "creates"
RUNS_ON = "runs_on"
USES = "uses"
USES_VALUE = "uses_value"
EXPOSES = "exposes"
ROUTES = "routes"
CLAIMS = "claims"
MOUNTS = "mounts"
PROJECTS = "projects"

RELATION_TYPES = (BELONGS_TO, SCHEDULED_ON, CONTROLS, ENCLOSES, CREATES, RUNS_ON, USES, USES_VALUE, EXPOSES, ROUTES,
                  CLAIMS, MOUNTS, PROJECTS)


class Ref(NamedTuple):
    type: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.type}/{self.namespace}/{self.name}"

    def as_dict(self) -> dict[str, str]:
        return {"type": self.type, "namespace": self.namespace, "name": self.name}


class Component(NamedTuple):
    ref: Ref
    # The Kubernetes object's uid; empty for components that are not objects (container, volume, ...).
    uid: str = ""
    # The object's labels, sorted (StackState's tags): for the explorer page, not in the metrics.
    labels: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, str]:
        return {**self.ref.as_dict(), "uid": self.uid}


class Relation(NamedTuple):
    type: str
    source: Ref
    target: Ref
    # The reference is marked ``optional: true`` (a missing target is not an error).
    optional: bool = False

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"type": self.type, "source": self.source.as_dict(), "target": self.target.as_dict()}
        if self.optional:
            out["optional"] = True
        return out


class Record(NamedTuple):
    """What one object contributes: its own components and relations, and components it may share
    with other objects (an ingress load balancer address, an NFS export, a node's hostPath)."""

    components: tuple[Component, ...] = ()
    relations: tuple[Relation, ...] = ()
    shared: tuple[Component, ...] = ()


EMPTY = Record()


class Builder:
    """Collect one object's components and relations, without duplicates, in insertion order."""

    def __init__(self) -> None:
        self._components: dict[Ref, Component] = {}
        self._shared: dict[Ref, Component] = {}
        self._relations: dict[tuple[str, Ref, Ref], bool] = {}

    def component(self, type: str, namespace: str, name: str, uid: str = "",
                  labels: tuple[tuple[str, str], ...] = ()) -> Ref:
        ref = Ref(type, namespace, name)
        self._components.setdefault(ref, Component(ref, uid, labels))
        return ref

    def shared(self, type: str, namespace: str, name: str) -> Ref:
        """A component other objects may produce too: rendered once, while any of them has it."""
        ref = Ref(type, namespace, name)
        self._shared.setdefault(ref, Component(ref))
        return ref

    def relation(self, type: str, source: Ref, target: Ref, *, optional: bool = False) -> None:
        key = (type, source, target)
        # A reference made both optionally and not is a required one.
        self._relations[key] = self._relations.get(key, True) and optional

    def record(self) -> Record:
        return Record(tuple(self._components.values()),
                      tuple(Relation(t, s, d, opt) for (t, s, d), opt in self._relations.items()),
                      tuple(self._shared.values()))
