"""Kubernetes event semantics shared by the ``events`` metrics and the StackState bridge:
the StackState category of an event and how many times it occurred."""

from __future__ import annotations

from typing import Any, Mapping

from .body import Body

ACTIVITIES, ALERTS, CHANGES, OTHERS = "Activities", "Alerts", "Changes", "Others"

# The StackState cluster agent's DefaultEventCategoriesMap (kubernetes_event_mapper.go, STAC-20002).
CATEGORIES: dict[str, str] = {
    **dict.fromkeys((
        # container, image and node lifecycle
        "Created", "ExceededGracePeriod", "Killing", "Preempting", "Started", "Pulling", "Pulled", "NodeReady",
        "NodeNotReady", "NodeSchedulable", "Starting", "Rebooted",
        # volumes and kubelet housekeeping
        "VolumeResizeSuccessful", "FileSystemResizeSuccessful", "SuccessfulAttachVolume", "SuccessfulMountVolume",
        "ContainerGCFailed", "ImageGCFailed", "NodeAllocatableEnforced",
        # controllers and scheduling
        "Completed", "NoPods", "SawCompletedJob", "ScalingReplicaSet", "Scheduled", "SuccessfulCreate",
        "SuccessfulDelete", "SuccessfulRescale",
        # load balancers, builds and operations
        "EnsuringLoadBalancer", "BuildStarted", "ScaleDown", "BuildCompleted", "OperationStarted",
        "OperationCompleted", "Running", "ProvisioningSucceeded", "Succeeded",
        # nodes and operators
        "DeletingNode", "RemovingNode", "ReplicationControllerScaled", "AllRequirementsMet", "InstallSucceeded",
        # scaling and provisioning
        "TriggeredScaleUp", "EvictedByVPA", "ScaleUp", "ScaledUpGroup", "ScaleDownEmpty", "CREATE", "Provisioning",
        "ExternalProvisioning", "Resizing",
    ), ACTIVITIES),
    **dict.fromkeys((
        "BackOff", "NotTriggerScaleUp", "FailedComputeMetricsReplicas", "FailedRescale", "NodeNotSchedulable",
        "DetectedUnhealthy", "ConnectivityRestored", "BuildFailed", "NeedsReinstall", "NodeHasInsufficientMemory",
    ), ALERTS),
    **dict.fromkeys((
        "SandboxChanged", "AddedInterface", "DeploymentCreated", "ResourceUpdated", "Updated", "Deleted",
        "DeletingLoadBalancer", "CreatedSCCRanges", "UpdatedLoadBalancer", "RELOAD",
    ), CHANGES),
    **dict.fromkeys(("DesiredReplicasComputed", "WaitForFirstConsumer", "Pending", "Inject", "JobAlreadyActive",
                     "InstallWaiting"), OTHERS),
}


def category(event_type: str, reason: str, overrides: Mapping[str, str] | None = None) -> str:
    """A user override wins; then a Warning (or error) event is an Alert whatever its reason; then the
    agent's table; else Others."""
    if overrides and reason in overrides:
        return overrides[reason]
    if event_type.lower() in ("warning", "error"):
        return ALERTS
    return CATEGORIES.get(reason, OTHERS)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def count(event: Body) -> int:
    """events.k8s.io/v1: ``series.count`` for a series, else ``deprecatedCount`` (core/v1 ``count``
    of events written by the old API), else 1 (a singleton)."""
    series = _map(event.get("series"))
    n = series.get("count")
    if isinstance(n, int) and not isinstance(n, bool) and n > 0:
        return n
    n = event.get("deprecatedCount")
    if isinstance(n, int) and not isinstance(n, bool) and n > 0:
        return n
    return 1
