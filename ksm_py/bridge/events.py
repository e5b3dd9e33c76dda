"""Kubernetes events (``events.k8s.io/v1``) as StackState events, each sent once.

``EventSink`` is fed by a ksm-py ``Reflector`` (initial list, watch events, relists after 410);
it maps every new occurrence to the agent's event shape (``kubernetes_event_mapper.go``) and
queues it.  An occurrence is ``(uid, count)``: a repeated event (``series.count`` or
``deprecatedCount`` grows) is a new occurrence, a relist or an unrelated update is not.  The
keys already queued live in a bounded ``TTLCache``.  ``EventForwarder.flush`` posts the queue.
"""

from __future__ import annotations

import collections
import logging
import re
import time
from typing import Any, Callable, Mapping, Protocol

from cachetools import TTLCache

from ..body import Body
from ..event_categories import category, count, last_seen
from .stackstate import CLUSTER_TYPE, Urns

logger = logging.getLogger(__name__)

_CONTAINER_FIELD = re.compile(r"spec\.containers\{(.*?)\}")


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def occurrence(obj: Body) -> str:
    """The dedup key: uid + count (namespace/name when there is no uid)."""
    meta = _map(obj.get("metadata"))
    uid = _str(meta.get("uid")) or f"{_str(meta.get('namespace'))}/{_str(meta.get('name'))}"
    return f"{uid}:{count(obj)}"


class EventMapper:
    """``mapKubernetesEvent`` for ``events.k8s.io/v1`` objects."""

    def __init__(self, cluster: str, overrides: Mapping[str, str] | None = None) -> None:
        self.cluster = cluster
        self.urns = Urns(cluster)
        self.overrides = dict(overrides or {})

    def map(self, obj: Body) -> dict[str, Any] | None:
        """The intake event, or None when the agent would drop it (no reason, note, kind or name)."""
        regarding = _map(obj.get("regarding"))
        kind, name, ns = _str(regarding.get("kind")), _str(regarding.get("name")), _str(regarding.get("namespace"))
        reason, message = _str(obj.get("reason")), _str(obj.get("note"))
        if not (kind and name and reason and message):
            return None
        event_type = _str(obj.get("type"))
        alert_type = "warning" if event_type.lower() == "warning" else "info"
        source = _map(obj.get("deprecatedSource"))
        component = _str(source.get("component")) or _str(obj.get("reportingController"))
        m = _CONTAINER_FIELD.search(_str(regarding.get("fieldPath")))
        container = m.group(1) if m else ""
        tags = []
        if ns:
            tags.append(f"kube_namespace:{ns}")
        if container:
            tags.append(f"kube_container_name:{container}")
        tags += [f"source_component:{component}", f"kube_object_name:{name}", f"kube_object_kind:{kind}",
                 f"kube_cluster_name:{self.cluster}", f"kube_reason:{reason}", f"alert_type:{alert_type}"]
        identifiers = [self.urns.container_id(ns, name, container)] if container else []
        involved = self.urns.for_kind(kind, ns, name)
        if involved:
            identifiers.append(involved)
        ts = last_seen(obj)
        event: dict[str, Any] = {
            "msg_title": f"{reason} - {name} {kind} ({count(obj)}x)",
            "msg_text": message,
            "timestamp": int(ts if ts is not None else time.time()),
            "priority": "normal",
            "alert_type": alert_type,
            "source_type_name": CLUSTER_TYPE,
            "event_type": reason,
            "tags": tags,
            "context": {
                "source": CLUSTER_TYPE,
                "category": category(event_type, reason, self.overrides),
                "source_identifier": _str(_map(obj.get("metadata")).get("uid")),
                "element_identifiers": identifiers,
                "source_links": [],
                "data": {},
            },
        }
        host = _str(source.get("host"))
        if kind in ("Node", "Pod") and host:
            event["host"] = f"{host}-{self.cluster}"
        return event


class EventStats(Protocol):
    """What the sink reports (the bridge telemetry implements it)."""

    def event_seen(self, outcome: str) -> None: ...
    def events_failed(self, n: int, reason: str) -> None: ...


class NullEventStats:
    def event_seen(self, outcome: str) -> None: ...
    def events_failed(self, n: int, reason: str) -> None: ...


class EventSink:
    """A Reflector sink that queues each new occurrence once.

    ``max_age`` drops occurrences older than that many seconds (the initial list returns up to an
    hour of history, which a restarted bridge has most likely sent already).
    """

    def __init__(self, mapper: EventMapper, *, max_age: float = 300, cache_size: int = 100_000,
                 cache_ttl: float = 7200, queue_size: int = 10_000, stats: EventStats | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.mapper = mapper
        self.max_age = max_age
        self.clock = clock
        self.sent: TTLCache[str, bool] = TTLCache(maxsize=cache_size, ttl=cache_ttl, timer=clock)
        self.queue: collections.deque[tuple[str, dict[str, Any]]] = collections.deque()
        self.queue_size = queue_size
        self.stats: EventStats = stats or NullEventStats()

    def offer(self, obj: Body) -> None:
        key = occurrence(obj)
        if key in self.sent:
            self.stats.event_seen("duplicate")
            return
        ts = last_seen(obj)
        if self.max_age > 0 and ts is not None and ts < self.clock() - self.max_age:
            self.stats.event_seen("too_old")
            return
        event = self.mapper.map(obj)
        if event is None:
            self.stats.event_seen("incomplete")
            return
        self.sent[key] = True
        if len(self.queue) >= self.queue_size:
            self.queue.popleft()
            self.stats.events_failed(1, "queue_full")
        self.queue.append((key, event))
        self.stats.event_seen("queued")

    # Sink protocol (ksm_py.sinks)
    def upsert(self, obj: Body) -> None:
        self.offer(obj)

    def delete(self, obj: Body) -> None:
        """An expired event leaves the cluster; nothing to tell StackState."""

    def replacement(self) -> EventSink:
        # A (re)list offers every current event; the cache keeps the already-sent ones out.
        return self

    def add(self, obj: Body) -> None:
        self.offer(obj)

    def commit(self) -> None:
        pass
