"""v1 ReplicationController (KSM ``internal/store/replicationcontroller.go``)."""

from __future__ import annotations

from ..metric import ALPHA
from ..shape import fields, object_shape
from ._dsl import NAME, NAMESPACE, Body, Resource, Samples
from ._helpers import created, field, metadata_generation, optional_field, owner_samples

# Upstream builds these families without allowlist arguments: no _labels/_annotations.
replicationcontrollers = Resource(
    "replicationcontrollers", group="", version="v1", kind="ReplicationController", namespaced=True,
    identity=[("namespace", NAMESPACE), ("replicationcontroller", NAME)], allowlists=False)
family = replicationcontrollers.family
# No family reads the pod template:
# it is skipped while parsing (tests/families/_util.check).
replicationcontrollers.reads = object_shape(spec=fields("minReadySeconds", "replicas", "selector"))

family("kube_replicationcontroller_created", "Unix creation timestamp", labels=())(created)
family("kube_replicationcontroller_status_replicas", "The number of replicas per ReplicationController.", labels=())(
    field("status", "replicas"))
family("kube_replicationcontroller_status_fully_labeled_replicas",
       "The number of fully labeled replicas per ReplicationController.",
       labels=())(field("status", "fullyLabeledReplicas"))
family("kube_replicationcontroller_status_ready_replicas",
       "The number of ready replicas per ReplicationController.", labels=())(field("status", "readyReplicas"))
family("kube_replicationcontroller_status_available_replicas",
       "The number of available replicas per ReplicationController.", labels=())(field("status", "availableReplicas"))
family("kube_replicationcontroller_status_observed_generation",
       "The generation observed by the ReplicationController controller.",
       labels=())(field("status", "observedGeneration"))
family("kube_replicationcontroller_spec_replicas", "Number of desired pods for a ReplicationController.", labels=())(
    optional_field("spec", "replicas"))
family("kube_replicationcontroller_metadata_generation",
       "Sequence number representing a specific generation of the desired state.", labels=())(metadata_generation)


@family("kube_replicationcontroller_owner", "Information about the ReplicationController's owner.", stability=ALPHA,
        labels=("owner_kind", "owner_name", "owner_is_controller"))
def owner(r: Body) -> Samples:
    return owner_samples(r)
