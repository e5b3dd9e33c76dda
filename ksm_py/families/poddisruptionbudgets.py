"""policy/v1 PodDisruptionBudget (KSM ``internal/store/poddisruptionbudget.go``)."""

from __future__ import annotations

from ..metric import ALPHA
from ._dsl import NAME, NAMESPACE, Resource
from ._helpers import created, deletion_timestamp, field, metadata_families

poddisruptionbudgets = Resource(
    "poddisruptionbudgets", group="policy", version="v1", kind="PodDisruptionBudget", namespaced=True,
    identity=[("namespace", NAMESPACE), ("poddisruptionbudget", NAME)])
family = poddisruptionbudgets.family

metadata_families(poddisruptionbudgets, "poddisruptionbudget", labels_stability=ALPHA, annotations_stability=ALPHA)
family("kube_poddisruptionbudget_created", "Unix creation timestamp", labels=())(created)
family("kube_poddisruptionbudget_status_current_healthy", "Current number of healthy pods", labels=())(
    field("status", "currentHealthy"))
family("kube_poddisruptionbudget_status_desired_healthy", "Minimum desired number of healthy pods", labels=())(
    field("status", "desiredHealthy"))
family("kube_poddisruptionbudget_status_pod_disruptions_allowed", "Number of pod disruptions that are currently allowed",
       labels=())(
    field("status", "disruptionsAllowed"))
family("kube_poddisruptionbudget_status_expected_pods", "Total number of pods counted by this disruption budget",
       labels=())(
    field("status", "expectedPods"))
family("kube_poddisruptionbudget_status_observed_generation",
       "Most recent generation observed when updating this PDB status",
       labels=())(field("status", "observedGeneration"))
family("kube_poddisruptionbudget_deletion_timestamp", "Unix deletion timestamp", stability=ALPHA,
       labels=())(deletion_timestamp)
