"""apps/v1 Deployment (KSM ``internal/store/deployment.go``)."""

from __future__ import annotations

import math

from ..metric import ALPHA, STABLE
from ..shape import fields, object_shape
from ._dsl import NAME, NAMESPACE, Body, Resource, Samples
from ._helpers import (
    condition_samples,
    created,
    deletion_timestamp,
    dig,
    field,
    metadata_families,
    metadata_generation,
    optional_field,
    owner_samples,
)

deployments = Resource("deployments", group="apps", version="v1", kind="Deployment", namespaced=True,
                       identity=[("namespace", NAMESPACE), ("deployment", NAME)])
family = deployments.family
# No family reads the pod template:
# it is skipped while parsing (tests/families/_util.check).
deployments.reads = object_shape(spec=fields("minReadySeconds", "paused", "progressDeadlineSeconds", "replicas", "revisionHistoryLimit",
                                              "selector", "strategy"))


@family("kube_deployment_owner", "Information about the Deployment's owner.", stability=ALPHA,
        labels=("owner_kind", "owner_name"))
def owner(d: Body) -> Samples:
    return owner_samples(d, with_controller=False)


family("kube_deployment_created", "Unix creation timestamp", labels=())(created)
family("kube_deployment_status_replicas", "The number of replicas per deployment.",
       labels=())(field("status", "replicas"))
family("kube_deployment_status_replicas_ready", "The number of ready replicas per deployment.", labels=())(
    field("status", "readyReplicas"))
family("kube_deployment_status_replicas_available", "The number of available replicas per deployment.", labels=())(
    field("status", "availableReplicas"))
family("kube_deployment_status_replicas_unavailable", "The number of unavailable replicas per deployment.", labels=())(
    field("status", "unavailableReplicas"))
family("kube_deployment_status_replicas_updated", "The number of updated replicas per deployment.", labels=())(
    field("status", "updatedReplicas"))
family("kube_deployment_status_terminating_replicas", "The number of terminating replicas per deployment.",
       stability=ALPHA, labels=())(optional_field("status", "terminatingReplicas"))
family("kube_deployment_status_observed_generation", "The generation observed by the deployment controller.",
       labels=())(
    field("status", "observedGeneration"))

_KNOWN_REASONS = frozenset({
    "ReplicaSetUpdated", "ReplicaSetCreateError", "NewReplicaSetCreated", "FoundNewReplicaSet",
    "NewReplicaSetAvailable", "ProgressDeadlineExceeded", "DeploymentPaused", "DeploymentResumed",
    "MinimumReplicasAvailable", "MinimumReplicasUnavailable", "",
})


@family("kube_deployment_status_condition", "The current status conditions of a deployment.",
        labels=("reason", "condition", "status"))
def status_condition(d: Body) -> Samples:
    for c in dig(d, "status", "conditions") or []:
        reason = c.get("reason") or ""
        yield from condition_samples(c.get("status"), [
            ("reason", reason if reason in _KNOWN_REASONS else "unknown"), ("condition", c.get("type") or "")])


family("kube_deployment_spec_replicas", "Number of desired pods for a deployment.",
       labels=())(optional_field("spec", "replicas"))


@family("kube_deployment_spec_paused",
        "Whether the deployment is paused and will not be processed by the deployment controller.", labels=())
def spec_paused(d: Body) -> Samples:
    yield (), bool(dig(d, "spec", "paused"))


def scaled_value(value: object, total: int, round_up: bool) -> int | None:
    """``intstr.GetScaledValueFromIntOrPercent``: an int, or a percentage of ``total``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.endswith("%"):
        try:
            pct = int(value[:-1])
        except ValueError:
            return None
        scaled = pct * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    return None


def _rolling_update(d: Body, key: str, round_up: bool) -> Samples:
    rolling = dig(d, "spec", "strategy", "rollingUpdate")
    replicas = dig(d, "spec", "replicas")
    if rolling is None or replicas is None:
        return
    value = scaled_value(rolling.get(key), replicas, round_up)
    if value is not None:
        yield (), value


@family("kube_deployment_spec_strategy_rollingupdate_max_unavailable",
        "Maximum number of unavailable replicas during a rolling update of a deployment.", labels=())
def spec_strategy_rollingupdate_max_unavailable(d: Body) -> Samples:
    return _rolling_update(d, "maxUnavailable", round_up=False)


@family("kube_deployment_spec_strategy_rollingupdate_max_surge",
        "Maximum number of replicas that can be scheduled above the desired number of replicas during a rolling "
        "update of a deployment.", labels=())
def spec_strategy_rollingupdate_max_surge(d: Body) -> Samples:
    return _rolling_update(d, "maxSurge", round_up=True)


family("kube_deployment_metadata_generation",
       "Sequence number representing a specific generation of the desired state.", labels=())(metadata_generation)
family("kube_deployment_deletion_timestamp", "Unix deletion timestamp", stability=ALPHA, labels=())(deletion_timestamp)
metadata_families(deployments, "deployment", labels_stability=STABLE, annotations_stability=ALPHA)
