"""The topology families, declared with the family DSL once per source kind.

Every source kind (pods, services, ...) is a ``Resource`` with the same two families, so the stores
of all kinds can share one ``ResourceWriter`` (the ``topology`` pseudo-resource).  The families
read the ``Record`` the sink derived once per watch event (``record`` in the body the sink hands
to its ``MetricsStore``), so an object is parsed once for the metrics and for ``/topology``.
"""

from __future__ import annotations

import dataclasses

from ..families._dsl import Body, Resource, Samples
from ..metric import ALPHA
from . import derive
from .derive import Derive

COMPONENT_FAMILY = "kube_topology_component"
RELATION_FAMILY = "kube_topology_relation"
COMPONENT_HELP = ("A component of the cluster topology (StackState component types); type, namespace and name "
                  "identify it, uid is the Kubernetes object's uid when it is one.")
RELATION_HELP = ("A relation of the cluster topology (StackState relation types), from the source component to "
                 "the target component; the target may not exist (a dangling reference).")


def components(body: Body) -> Samples:
    for c in body["record"].components:
        ref = c.ref
        yield (("type", ref.type), ("namespace", ref.namespace), ("name", ref.name), ("uid", c.uid)), 1


def relations(body: Body) -> Samples:
    for r in body["record"].relations:
        s, t = r.source, r.target
        labels = [("type", r.type), ("source_type", s.type), ("source_namespace", s.namespace),
                  ("source_name", s.name), ("target_type", t.type), ("target_namespace", t.namespace),
                  ("target_name", t.name)]
        if r.optional:
            labels.append(("optional", "true"))
        yield labels, 1


def topology_resource(name: str, *, group: str = "", version: str = "v1", kind: str = "", namespaced: bool = True,
                      metadata_only: bool = False) -> Resource:
    r = Resource(name, group=group, version=version, kind=kind, namespaced=namespaced, identity=[],
                 allowlists=False, metadata_only=metadata_only)
    r.family(COMPONENT_FAMILY, COMPONENT_HELP, stability=ALPHA)(components)
    r.family(RELATION_FAMILY, RELATION_HELP, stability=ALPHA)(relations)
    return r


@dataclasses.dataclass(frozen=True)
class Kind:
    """One kind the topology lists and watches: its API coordinates and what it contributes."""

    resource: Resource
    derive: Derive


def _kind(name: str, derive_fn: Derive, *, group: str = "", version: str = "v1", kind: str,
          namespaced: bool = True, metadata_only: bool = False) -> Kind:
    return Kind(topology_resource(name, group=group, version=version, kind=kind, namespaced=namespaced,
                                  metadata_only=metadata_only), derive_fn)


# The resource names are the --resources keys, so each kind shares the exporter's list/watch.
KINDS: tuple[Kind, ...] = (
    _kind("configmaps", derive.configmap, kind="ConfigMap", metadata_only=True),
    _kind("cronjobs", derive.cronjob, group="batch", kind="CronJob"),
    _kind("daemonsets", derive.daemonset, group="apps", kind="DaemonSet"),
    _kind("deployments", derive.deployment, group="apps", kind="Deployment"),
    _kind("endpointslices", derive.endpointslice, group="discovery.k8s.io", kind="EndpointSlice"),
    _kind("ingresses", derive.ingress, group="networking.k8s.io", kind="Ingress"),
    _kind("jobs", derive.job, group="batch", kind="Job"),
    _kind("namespaces", derive.namespace, kind="Namespace", namespaced=False),
    _kind("nodes", derive.node, kind="Node", namespaced=False),
    _kind("persistentvolumeclaims", derive.persistentvolumeclaim, kind="PersistentVolumeClaim"),
    _kind("persistentvolumes", derive.persistentvolume, kind="PersistentVolume", namespaced=False),
    _kind("pods", derive.pod, kind="Pod"),
    _kind("replicasets", derive.replicaset, group="apps", kind="ReplicaSet"),
    _kind("replicationcontrollers", derive.replicationcontroller, kind="ReplicationController"),
    # Metadata only: the topology needs the name, never the Secret's data.
    _kind("secrets", derive.secret, kind="Secret", metadata_only=True),
    _kind("services", derive.service, kind="Service"),
    _kind("statefulsets", derive.statefulset, group="apps", kind="StatefulSet"),
    _kind("volumeattachments", derive.volumeattachment, group="storage.k8s.io", kind="VolumeAttachment",
          namespaced=False),
)

# Pseudo-kinds: the writer's own header resource, the cluster component, shared components.
TOPOLOGY = topology_resource("topology", kind="Topology", namespaced=False)
CLUSTER = Kind(topology_resource("cluster", kind="Cluster", namespaced=False), derive.cluster)
SHARED = topology_resource("shared", kind="Shared", namespaced=False)
