"""The ``events`` resource: events.k8s.io/v1 Events with their StackState category.

One series per Event object (an Event is already the aggregate of its repetitions: ``series`` or
``deprecatedCount``); the Event's name is a label so that two Events about the same object with
the same reason (two "Scaled up replica set" messages) stay two series.  No message text is
exposed.  Events expire in the API server (``--event-ttl``, 1 h by default) and their series go
with them.
"""

from __future__ import annotations

from typing import Any, Mapping

from .app import ExtraWatch, WSGIApp
from .builder import family_filter
from .exposition import ResourceWriter
from .families._dsl import NAME, NAMESPACE, Allowlists, Body, Resource, Samples
from .families._helpers import unix
from .kube.client import ApiResource
from .kube.reflector import Sink
from .metric import ALPHA, COUNTER
from .options import Options
from .store import CompiledResource, MetricsStore

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


def category(event_type: str, reason: str) -> str:
    """A Warning (or error) event is an Alert whatever its reason; otherwise the table; else Others."""
    if event_type in ("Warning", "Error", "error"):
        return ALERTS
    return CATEGORIES.get(reason, OTHERS)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


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


def last_seen(event: Body) -> int | None:
    """The last occurrence: the series' last observation, else the old API's lastTimestamp, else the
    event time, else the first timestamp, else the object's creation."""
    for value in (_map(event.get("series")).get("lastObservedTime"), event.get("deprecatedLastTimestamp"),
                  event.get("eventTime"), event.get("deprecatedFirstTimestamp"),
                  _map(event.get("metadata")).get("creationTimestamp")):
        if isinstance(value, str) and value:
            return unix(value)  # whole seconds, like every KSM timestamp
    return None


def _labels(event: Body) -> list[tuple[str, str]]:
    regarding = _map(event.get("regarding"))
    event_type, reason = _str(event.get("type")), _str(event.get("reason"))
    return [("involved_kind", _str(regarding.get("kind"))), ("involved_name", _str(regarding.get("name"))),
            ("reason", reason), ("type", event_type), ("category", category(event_type, reason))]


events = Resource("events", group="events.k8s.io", version="v1", kind="Event", namespaced=True,
                  identity=[("namespace", NAMESPACE), ("event", NAME)], allowlists=False)
family = events.family


# A counter (each Event's count only grows): increase() over it counts occurrences in a window.
# Not "kube_event_count": a "_count" suffix is reserved for histograms and summaries.
@family("kube_event_occurrences_total", "The number of times the event occurred (series.count or deprecatedCount, "
        "else 1), with its StackState category.", COUNTER, stability=ALPHA)
def event_count(e: Body) -> Samples:
    yield _labels(e), count(e)


@family("kube_event_last_seen_timestamp_seconds", "Unix timestamp of the last occurrence of the event (whole seconds).",
        stability=ALPHA)
def event_last_seen(e: Body) -> Samples:
    ts = last_seen(e)
    if ts is not None:
        yield _labels(e), ts


class EventsExtension:
    def __init__(self, options: Options) -> None:
        enabled = family_filter(options)
        self.compiled = CompiledResource(events, [f for f in events.families if enabled(f)], Allowlists())
        self.writer = ResourceWriter(self.compiled, [])

    def watches(self, options: Options) -> list[ExtraWatch]:
        return [ExtraWatch("events", ApiResource(events.group, events.version, "events", True), self._sink,
                           kind=events.kind)]

    def _sink(self, namespace: str | None) -> Sink:
        store = MetricsStore(self.compiled)
        self.writer.stores.append(store)
        return store

    def writers(self) -> list[ResourceWriter]:
        return [self.writer]

    def routes(self) -> dict[str, WSGIApp]:
        return {}

