"""The wiring plan: options, compiled resources and extensions -> list/watches -> sinks -> stores
-> writers, decided in this one place.

The exporter (``app``) makes one reflector per ``Feed``, ``ksm-py render`` feeds each sink the
objects read from files, and re-sharding lists the same feeds again.  Every store that is served
gets the same ``Rendering``: it yields to the event loop between slices of a relist, and its
render errors are counted in ``ksm_py_render_errors_total``.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterable, NamedTuple

from .exposition import ResourceWriter
from .extension import Extension
from .kube.client import ApiResource
from .options import Options
from .shape import Shape
from .sinks import Sink
from .store import CompiledResource, MetricsStore


class Rendering(NamedTuple):
    """What every served store gets."""

    # Called between slices of long CPU-bound work (the exporter passes gevent.idle).
    cooperate: Callable[[], None] = lambda: None
    # (resource, family, error) of a family that failed to render an object.
    on_render_error: Callable[[str, str, BaseException], None] | None = None

    def adopt(self, writer: ResourceWriter) -> None:
        """Give every store of ``writer`` this rendering, whoever made it (an extension too)."""
        for store in writer.stores:
            store.cooperate = self.cooperate
            store.compiled.on_render_error = self.on_render_error


@dataclasses.dataclass
class Feed:
    """One list/watch: a resource in one namespace (None = all of them) and the sinks it feeds."""

    resource: str
    api: ApiResource
    namespace: str | None
    field_selector: str
    # The objects' kind, to pick the objects of files (``ksm-py render``).
    kind: str = ""
    # Only metadata is listed unless some sink needs the whole object.
    metadata_only: bool = True
    # metadata.managedFields is dropped before parsing unless some sink may read it.
    drop_managed_fields: bool = True
    # The fields every sink reads (the resource's own stores only): the rest is skipped while
    # parsing. None once a sink needs whole objects (an extension's).
    shape: Shape | None = None
    sinks: list[Sink] = dataclasses.field(default_factory=list)
    # The resource's own metrics stores among the sinks (object counts in the telemetry).
    stores: list[MetricsStore] = dataclasses.field(default_factory=list)

    @property
    def api_version(self) -> str:
        return f"{self.api.group}/{self.api.version}" if self.api.group else self.api.version


def field_selector(options: Options, resource: str, namespaced: bool) -> str:
    parts = []
    if namespaced:
        parts += [f"metadata.namespace!={ns}" for ns in options.namespaces_denylist]
    if resource == "pods":
        if options.node:
            parts.append(f"spec.nodeName={options.node}")
        elif options.track_unscheduled_pods:
            parts.append("spec.nodeName=")
    return ",".join(parts)


class Plan:
    """Feeds and writers, built resource by resource; list/watches of the same (resource,
    namespace) are shared by everything that needs them."""

    def __init__(self, options: Options, rendering: Rendering = Rendering()) -> None:
        self.options = options
        self.rendering = rendering
        self._feeds: dict[tuple[str, str | None], Feed] = {}
        # (feed, sink) in the order they were wired: the order ``render`` feeds them.
        self.sinks: list[tuple[Feed, Sink]] = []
        self.writers: list[ResourceWriter] = []

    @property
    def feeds(self) -> list[Feed]:
        return list(self._feeds.values())

    def namespaces(self, api: ApiResource) -> list[str | None]:
        """One list/watch per namespace given in --namespaces (flag order), else one for all."""
        return list(self.options.namespaces) if api.namespaced and self.options.namespaces else [None]

    def _feed(self, resource: str, api: ApiResource, namespace: str | None, kind: str,
              metadata_only: bool, sink: Sink, reads_managed_fields: bool = True, reads: Shape | None = None) -> Feed:
        feed = self._feeds.get((resource, namespace))
        if feed is None:
            feed = self._feeds[(resource, namespace)] = Feed(
                resource, api, namespace, field_selector(self.options, resource, api.namespaced), kind)
        feed.metadata_only = feed.metadata_only and metadata_only  # someone needs the whole object
        feed.drop_managed_fields = feed.drop_managed_fields and not reads_managed_fields
        feed.shape = reads if not feed.sinks or feed.shape is reads else None
        feed.sinks.append(sink)
        self.sinks.append((feed, sink))
        return feed

    def add_resource(self, compiled: CompiledResource, api: ApiResource | None = None) -> list[Feed]:
        """A resource's own metrics: one store per namespace, fed by its list/watch, one writer."""
        r = compiled.resource
        api = api or ApiResource(r.group, r.version, r.name, r.namespaced)
        writer = ResourceWriter(compiled, [])
        feeds = []
        for ns in self.namespaces(api):
            store = MetricsStore(compiled)
            writer.stores.append(store)
            feed = self._feed(compiled.name, api, ns, r.kind, r.metadata_only, store, r.reads_managed_fields, r.reads)
            feed.stores.append(store)
            feeds.append(feed)
        self._add_writer(writer)
        return feeds

    def add_extension(self, extension: Extension) -> None:
        """An extension's list/watches (shared with the resources' own) and its writers."""
        for watch in extension.watches(self.options):
            for ns in self.namespaces(watch.api):
                self._feed(watch.resource, watch.api, ns, watch.kind, watch.metadata_only, watch.sink(ns))
        for writer in extension.writers():
            self._add_writer(writer)

    def remove_resource(self, name: str) -> list[Feed]:
        """Forget a resource added with ``add_resource`` (a custom resource gone); its feeds."""
        gone = [f for key, f in self._feeds.items() if key[0] == name]
        for feed in gone:
            del self._feeds[(feed.resource, feed.namespace)]
        self.sinks = [(f, s) for f, s in self.sinks if all(f is not g for g in gone)]
        self.writers = [w for w in self.writers if w.name != name]
        return gone

    def _add_writer(self, writer: ResourceWriter) -> None:
        self.rendering.adopt(writer)
        self.writers.append(writer)
        self.writers.sort(key=lambda w: w.name)


def plan(options: Options, compiled: Iterable[CompiledResource], extensions: Iterable[Extension],
         rendering: Rendering = Rendering()) -> Plan:
    """The whole wiring of an exporter (or of ``render``)."""
    p = Plan(options, rendering)
    for c in compiled:
        p.add_resource(c)
    for ext in extensions:
        p.add_extension(ext)
    return p
