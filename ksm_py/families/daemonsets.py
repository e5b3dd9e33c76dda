"""apps/v1 DaemonSet (KSM ``internal/store/daemonset.go``)."""

from __future__ import annotations

from ..metric import ALPHA, STABLE
from ..shape import fields, object_shape
from ._dsl import NAME, NAMESPACE, Resource
from ._helpers import created, deletion_timestamp, field, metadata_families, metadata_generation

daemonsets = Resource("daemonsets", group="apps", version="v1", kind="DaemonSet", namespaced=True,
                      identity=[("namespace", NAMESPACE), ("daemonset", NAME)])
family = daemonsets.family
# No family reads the pod template:
# it is skipped while parsing (tests/families/_util.check).
daemonsets.reads = object_shape(spec=fields("minReadySeconds", "revisionHistoryLimit", "selector", "updateStrategy"))

family("kube_daemonset_created", "Unix creation timestamp", labels=())(created)
family("kube_daemonset_status_current_number_scheduled",
       "The number of nodes running at least one daemon pod and are supposed to.", labels=())(
    field("status", "currentNumberScheduled"))
family("kube_daemonset_status_desired_number_scheduled", "The number of nodes that should be running the daemon pod.",
       labels=())(
    field("status", "desiredNumberScheduled"))
family("kube_daemonset_status_number_available",
       "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and "
       "available", labels=())(field("status", "numberAvailable"))
family("kube_daemonset_status_number_misscheduled",
       "The number of nodes running a daemon pod but are not supposed to.",
       labels=())(field("status", "numberMisscheduled"))
family("kube_daemonset_status_number_ready",
       "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and "
       "ready.", labels=())(field("status", "numberReady"))
family("kube_daemonset_status_number_unavailable",
       "The number of nodes that should be running the daemon pod and have none of the daemon pod running and "
       "available", labels=())(field("status", "numberUnavailable"))
family("kube_daemonset_status_observed_generation",
       "The most recent generation observed by the daemon set controller.",
       labels=())(field("status", "observedGeneration"))
family("kube_daemonset_status_updated_number_scheduled",
       "The total number of nodes that are running updated daemon pod",
       labels=())(field("status", "updatedNumberScheduled"))
family("kube_daemonset_metadata_generation",
       "Sequence number representing a specific generation of the desired state.", labels=())(metadata_generation)
family("kube_daemonset_deletion_timestamp", "Unix deletion timestamp", stability=ALPHA, labels=())(deletion_timestamp)
metadata_families(daemonsets, "daemonset", labels_stability=STABLE, annotations_stability=ALPHA)
