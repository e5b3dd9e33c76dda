"""The ``events`` resource: events.k8s.io/v1 Events with their StackState category.

One series per Event object (an Event is already the aggregate of its repetitions: ``series`` or
``deprecatedCount``); the Event's name is a label so that two Events about the same object with
the same reason (two "Scaled up replica set" messages) stay two series.  No message text is
exposed.  Events expire in the API server (``--event-ttl``, 1 h by default) and their series go
with them.
"""

from __future__ import annotations

from typing import Any, Mapping

from .event_categories import category, count, last_seen
from .exposition import ResourceWriter
from .extension import ExtraWatch, Host, WSGIApp
from .families._dsl import NAME, NAMESPACE, Allowlists, Body, Resource, Samples
from .filters import family_filter
from .kube.client import ApiResource
from .metric import ALPHA, COUNTER
from .options import Options
from .sinks import Sink
from .store import CompiledResource, MetricsStore


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


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

    def bind(self, host: Host) -> None:
        pass

