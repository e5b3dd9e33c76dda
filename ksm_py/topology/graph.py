"""Topology stores: per (kind, namespace) sinks that derive a record per object at watch time,
render it into a ``MetricsStore`` and keep it for ``/topology``.

Series must be unique in the exposition, so two things are not rendered per object:
- *shared* components (an ingress load balancer address used by several ingresses, a node's
  hostPath, an NFS export) are reference-counted across all sinks and rendered once;
- ``exposes`` service -> pod comes from EndpointSlices, but a pod is in two slices of a
  dual-stack service, so relations are rendered per Service as the union of its slices.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any, Callable, Iterable

from ..body import Body
from ..exposition import ResourceWriter
from ..families._dsl import Allowlists, Family
from ..sinks import Collect
from ..store import CompiledResource, MetricsStore, object_key
from . import derive
from .kinds import CLUSTER, SHARED, TOPOLOGY, Kind
from .model import EMPTY, Component, Record, Ref, Relation

logger = logging.getLogger(__name__)



def _body(key: str, record: Record) -> dict[str, Any]:
    """What a topology ``MetricsStore`` stores: the record under a key unique in its store."""
    return {"metadata": {"uid": key}, "record": record}


class SharedComponents:
    """Components several objects may produce: rendered while at least one of them has it."""

    def __init__(self, compiled: CompiledResource) -> None:
        self.store = MetricsStore(compiled)
        self.owners: dict[Ref, set[tuple[int, str]]] = {}

    def update(self, sink: object, key: str, old: tuple[Component, ...], new: tuple[Component, ...]) -> None:
        if old == new:
            return
        owner = (id(sink), key)
        for c in old:
            if c in new:
                continue
            owners = self.owners.get(c.ref)
            if owners is None:
                continue
            owners.discard(owner)
            if not owners:
                del self.owners[c.ref]
                self.store.delete(_body(str(c.ref), EMPTY))
        for c in new:
            if c in old:
                continue
            owners = self.owners.setdefault(c.ref, set())
            if not owners:
                self.store.upsert(_body(str(c.ref), Record(components=(c,))))
            owners.add(owner)

    def components(self) -> list[Component]:
        return [Component(ref) for ref in self.owners]


class TopologySink:
    """One (kind, namespace) list/watch: a record per object, rendered once per change."""

    def __init__(self, kind: Kind, compiled: CompiledResource, shared: SharedComponents, cluster: str) -> None:
        self.kind = kind
        self.cluster = cluster
        self.shared = shared
        self.store = MetricsStore(compiled)
        # What is rendered, by store key (an object's uid; a Service for EndpointSlices).
        self.records: dict[str, Record] = {}
        # Grows with every change of ``records``: lets the explorer page skip unchanged graphs.
        self.changes = 0

    def derive(self, obj: Body) -> Record:
        try:
            return self.kind.derive(obj, self.cluster)
        except Exception as e:  # noqa: BLE001 - one odd object must not stop the watch
            # Identity only: metadata may carry Secret data in kubectl's last-applied annotation.
            logger.warning("topology of %s %s failed: %r", self.kind.resource.name, object_key(obj), e)
            return EMPTY

    # -- Sink ---------------------------------------------------------------------------------
    def upsert(self, obj: Body) -> None:
        self._put(object_key(obj), self.derive(obj))

    def delete(self, obj: Body) -> None:
        self._drop(object_key(obj))

    def replacement(self) -> Collect[str, Any]:
        return Collect(self._derive_keyed, self._replace)

    # -- internals ----------------------------------------------------------------------------
    def _derive_keyed(self, obj: Body) -> tuple[str, Record]:
        return object_key(obj), self.derive(obj)

    def _put(self, key: str, record: Record) -> None:
        old = self.records.get(key)
        if old == record:
            return  # most updates (pod status, resourceVersion) change nothing here: no re-render
        self.records[key] = record
        self.changes += 1
        self.shared.update(self, key, old.shared if old else (), record.shared)
        self.store.upsert(_body(key, record))

    def _drop(self, key: str) -> None:
        old = self.records.pop(key, None)
        if old is not None:
            self.changes += 1
            self.shared.update(self, key, old.shared, ())
            self.store.delete(_body(key, old))

    def _replace(self, records: dict[str, Record]) -> None:
        for key in self.records.keys() | records.keys():
            old, new = self.records.get(key), records.get(key)
            self.shared.update(self, key, old.shared if old else (), new.shared if new else ())
        replacement = self.store.replacement()
        for key, record in records.items():
            replacement.add(_body(key, record))
        replacement.commit()
        self.records = records
        self.changes += 1


def _union(records: Iterable[Record]) -> Record:
    relations: dict[tuple[str, Ref, Ref], Relation] = {}
    for record in records:
        for r in record.relations:
            relations.setdefault((r.type, r.source, r.target), r)
    return Record(relations=tuple(relations.values()))


class EndpointSliceSink(TopologySink):
    """``exposes`` service -> pod, rendered per Service from all of its EndpointSlices."""

    def __init__(self, kind: Kind, compiled: CompiledResource, shared: SharedComponents, cluster: str) -> None:
        super().__init__(kind, compiled, shared, cluster)
        self.slices: dict[str, tuple[str, Record]] = {}  # slice key -> (service key, its relations)
        self.by_service: dict[str, set[str]] = {}

    def _service_key(self, obj: Body) -> str:
        meta = obj.get("metadata") or {}
        return f"{meta.get('namespace') or ''}/{derive.endpointslice_service(obj)}"

    def upsert(self, obj: Body) -> None:
        key, service = object_key(obj), self._service_key(obj)
        old = self.slices.get(key)
        self.slices[key] = (service, self.derive(obj))
        self.by_service.setdefault(service, set()).add(key)
        if old is not None and old[0] != service:
            self._unlink(key, old[0])
        self._render(service)

    def delete(self, obj: Body) -> None:
        key = object_key(obj)
        old = self.slices.pop(key, None)
        if old is not None:
            self._unlink(key, old[0])

    def _unlink(self, key: str, service: str) -> None:
        keys = self.by_service.get(service)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self.by_service[service]
        self._render(service)

    def _render(self, service: str) -> None:
        record = _union(self.slices[k][1] for k in sorted(self.by_service.get(service, ())))
        if record.relations:
            self._put(service, record)
        else:
            self._drop(service)

    def replacement(self) -> Collect[str, Any]:
        return Collect(lambda obj: (object_key(obj), (self._service_key(obj), self.derive(obj))), self._replace)

    def _replace(self, items: dict[str, Any]) -> None:
        self.slices = items
        self.by_service = {}
        for key, (service, _) in items.items():
            self.by_service.setdefault(service, set()).add(key)
        records = {service: _union(items[k][1] for k in sorted(keys)) for service, keys in self.by_service.items()}
        super()._replace({service: r for service, r in records.items() if r.relations})


class Topology:
    """All topology sinks of one exporter, their ``topology`` writer, and the graph they hold."""

    def __init__(self, cluster: str, enabled: Callable[[Family], bool] = lambda f: True) -> None:
        self.cluster = cluster
        self.enabled = enabled
        self.compiled = self._compile(TOPOLOGY.families, TOPOLOGY)
        self.shared = SharedComponents(self._compile(SHARED.families, SHARED))
        self.writer = ResourceWriter(self.compiled, [self.shared.store])
        self.sinks: list[TopologySink] = []
        # The cluster is no object: its one component is put there once.
        self.sink(CLUSTER)._put(cluster, CLUSTER.derive({}, cluster))

    def _compile(self, families: list[Family], resource: Any) -> CompiledResource:
        return CompiledResource(resource, [f for f in families if self.enabled(f)], Allowlists())

    def sink(self, kind: Kind, namespace: str | None = None) -> TopologySink:
        """A new sink for one list/watch of ``kind`` (one per namespace given in --namespaces)."""
        compiled = self._compile(kind.resource.families, kind.resource)
        cls = EndpointSliceSink if kind.resource.name == "endpointslices" else TopologySink
        sink = cls(kind, compiled, self.shared, self.cluster)
        self.sinks.append(sink)
        self.writer.stores.append(sink.store)
        return sink

    # -- the graph ----------------------------------------------------------------------------
    def generation(self) -> tuple[int, int]:
        """Changes whenever the graph may have changed (sinks only ever count up)."""
        return len(self.sinks), sum(s.changes for s in self.sinks)

    def graph(self) -> tuple[dict[Ref, Component], dict[tuple[str, Ref, Ref], Relation]]:
        components: dict[Ref, Component] = {}
        relations: dict[tuple[str, Ref, Ref], Relation] = {}
        for sink in self.sinks:
            for record in sink.records.values():
                for c in record.components:
                    components.setdefault(c.ref, c)
                for r in record.relations:
                    relations.setdefault((r.type, r.source, r.target), r)
        for c in self.shared.components():
            components.setdefault(c.ref, c)
        return components, relations


def neighbourhood(relations: Iterable[Relation], root: Ref, depth: int,
                  direction: str = "down") -> tuple[set[Ref], list[Relation]]:
    """The components reachable from ``root`` within ``depth`` relations, and those relations.

    ``down`` follows relations from source to target (what ``root`` depends on, StackState's
    "Show dependencies"), ``up`` against it (what depends on ``root``), ``both`` either way.
    """
    out: dict[Ref, list[Relation]] = {}
    into: dict[Ref, list[Relation]] = {}
    for r in relations:
        out.setdefault(r.source, []).append(r)
        into.setdefault(r.target, []).append(r)
    seen = {root}
    traversed: dict[tuple[str, Ref, Ref], Relation] = {}
    queue = deque([(root, 0)])
    while queue:
        ref, level = queue.popleft()
        if level >= depth:
            continue
        steps: list[tuple[Relation, Ref]] = []
        if direction in ("down", "both"):
            steps += [(r, r.target) for r in out.get(ref, ())]
        if direction in ("up", "both"):
            steps += [(r, r.source) for r in into.get(ref, ())]
        for r, nxt in steps:
            traversed.setdefault((r.type, r.source, r.target), r)
            if nxt not in seen:
                seen.add(nxt)
                queue.append((nxt, level + 1))
    return seen, list(traversed.values())
