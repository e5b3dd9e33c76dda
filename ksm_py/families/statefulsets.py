"""apps/v1 StatefulSet (KSM ``internal/store/statefulset.go``)."""

from __future__ import annotations

from ..metric import STABLE
from ..shape import fields, object_shape
from ._dsl import NAME, NAMESPACE, Body, Resource, Samples
from ._helpers import created, deletion_timestamp, dig, field, metadata_families, metadata_generation, optional_field

statefulsets = Resource("statefulsets", group="apps", version="v1", kind="StatefulSet", namespaced=True,
                        identity=[("namespace", NAMESPACE), ("statefulset", NAME)])
family = statefulsets.family
# No family reads the pod template and the claim templates:
# it is skipped while parsing (tests/families/_util.check).
statefulsets.reads = object_shape(spec=fields("minReadySeconds", "ordinals", "persistentVolumeClaimRetentionPolicy",
                                               "podManagementPolicy", "replicas", "revisionHistoryLimit", "selector",
                                               "serviceName", "updateStrategy"))

family("kube_statefulset_created", "Unix creation timestamp", labels=())(created)
family("kube_statefulset_status_replicas", "The number of replicas per StatefulSet.",
       labels=())(field("status", "replicas"))
family("kube_statefulset_status_replicas_available", "The number of available replicas per StatefulSet.", labels=())(
    field("status", "availableReplicas"))
family("kube_statefulset_status_replicas_current", "The number of current replicas per StatefulSet.", labels=())(
    field("status", "currentReplicas"))
family("kube_statefulset_status_replicas_ready", "The number of ready replicas per StatefulSet.", labels=())(
    field("status", "readyReplicas"))
family("kube_statefulset_status_replicas_updated", "The number of updated replicas per StatefulSet.", labels=())(
    field("status", "updatedReplicas"))
family("kube_statefulset_status_observed_generation", "The generation observed by the StatefulSet controller.",
       labels=())(
    field("status", "observedGeneration"))
family("kube_statefulset_replicas", "Number of desired pods for a StatefulSet.",
       labels=())(optional_field("spec", "replicas"))


@family("kube_statefulset_ordinals_start", "Start ordinal of the StatefulSet.", labels=())
def ordinals_start(s: Body) -> Samples:
    # spec.ordinals is a pointer; its start is a plain int32 (0 when omitted).
    ordinals = dig(s, "spec", "ordinals")
    if ordinals is not None:
        yield (), ordinals.get("start") or 0


family("kube_statefulset_metadata_generation",
       "Sequence number representing a specific generation of the desired state for the StatefulSet.", labels=())(
    metadata_generation)


@family("kube_statefulset_persistentvolumeclaim_retention_policy", "Count of retention policy for StatefulSet template PVCs",
        labels=("when_deleted", "when_scaled"))
def persistentvolumeclaim_retention_policy(s: Body) -> Samples:
    policy = dig(s, "spec", "persistentVolumeClaimRetentionPolicy") or {}
    when_deleted = policy.get("whenDeleted") or ""
    when_scaled = policy.get("whenScaled") or ""
    if when_deleted or when_scaled:
        yield (("when_deleted", when_deleted), ("when_scaled", when_scaled)), 1


metadata_families(statefulsets, "statefulset", labels_stability=STABLE, annotations_stability=STABLE)


@family("kube_statefulset_status_current_revision",
        "Indicates the version of the StatefulSet used to generate Pods in the sequence [0,currentReplicas).",
        labels=("revision",))
def status_current_revision(s: Body) -> Samples:
    yield {"revision": dig(s, "status", "currentRevision") or ""}, 1


@family("kube_statefulset_status_update_revision",
        "Indicates the version of the StatefulSet used to generate Pods in the sequence "
        "[replicas-updatedReplicas,replicas)", labels=("revision",))
def status_update_revision(s: Body) -> Samples:
    yield {"revision": dig(s, "status", "updateRevision") or ""}, 1


family("kube_statefulset_deletion_timestamp", "Unix deletion timestamp", labels=())(deletion_timestamp)
