"""apps/v1 ReplicaSet (KSM ``internal/store/replicaset.go``)."""

from __future__ import annotations

from ..metric import ALPHA, STABLE
from ..shape import fields, object_shape
from ._dsl import NAME, NAMESPACE, Body, Resource, Samples
from ._helpers import created, field, metadata_families, metadata_generation, optional_field, owner_samples

replicasets = Resource("replicasets", group="apps", version="v1", kind="ReplicaSet", namespaced=True,
                       identity=[("namespace", NAMESPACE), ("replicaset", NAME)])
family = replicasets.family
# No family reads the pod template:
# it is skipped while parsing (tests/families/_util.check).
replicasets.reads = object_shape(spec=fields("minReadySeconds", "replicas", "selector"))

family("kube_replicaset_created", "Unix creation timestamp", labels=())(created)
family("kube_replicaset_status_replicas", "The number of replicas per ReplicaSet.",
       labels=())(field("status", "replicas"))
family("kube_replicaset_status_fully_labeled_replicas", "The number of fully labeled replicas per ReplicaSet.",
       labels=())(
    field("status", "fullyLabeledReplicas"))
family("kube_replicaset_status_ready_replicas", "The number of ready replicas per ReplicaSet.", labels=())(
    field("status", "readyReplicas"))
family("kube_replicaset_status_terminating_replicas", "The number of terminating replicas per ReplicaSet.",
       stability=ALPHA, labels=())(optional_field("status", "terminatingReplicas"))
family("kube_replicaset_status_observed_generation", "The generation observed by the ReplicaSet controller.",
       labels=())(
    field("status", "observedGeneration"))
family("kube_replicaset_spec_replicas", "Number of desired pods for a ReplicaSet.",
       labels=())(optional_field("spec", "replicas"))
family("kube_replicaset_metadata_generation",
       "Sequence number representing a specific generation of the desired state.", labels=())(metadata_generation)


@family("kube_replicaset_owner", "Information about the ReplicaSet's owner.",
        labels=("owner_kind", "owner_name", "owner_is_controller"))
def owner(r: Body) -> Samples:
    return owner_samples(r)


metadata_families(replicasets, "replicaset", labels_stability=STABLE, annotations_stability=ALPHA)
