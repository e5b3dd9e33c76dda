"""Kubernetes event semantics shared by the ``events`` metrics and the StackState bridge:
the StackState category of an event, how many times it occurred and when it was last seen."""

from __future__ import annotations

import datetime
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


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_SECOND = datetime.timedelta(seconds=1)


def _unix(value: Any) -> int | None:
    """Whole seconds (floored) of an RFC 3339 time, None when it is missing or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        t = datetime.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.UTC)
    return (t - _EPOCH) // _SECOND


def last_seen(event: Body) -> int | None:
    """When the event last occurred, in whole Unix seconds: the series' last observation, else the
    old API's lastTimestamp, else the event time, else the old API's firstTimestamp (events
    written through core/v1 with only firstTimestamp), else the object's creation.  A value that is
    not a readable time is passed over.  The metrics (kube_event_last_seen_timestamp_seconds) and
    the bridge (the StackState event's timestamp, its age filter) both use this one answer."""
    for value in (_map(event.get("series")).get("lastObservedTime"), event.get("deprecatedLastTimestamp"),
                  event.get("eventTime"), event.get("deprecatedFirstTimestamp"),
                  _map(event.get("metadata")).get("creationTimestamp")):
        seconds = _unix(value)
        if seconds is not None:
            return seconds
    return None
