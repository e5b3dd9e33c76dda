"""The ``topology`` resource: components and relations as metrics, and ``/topology`` as JSON."""

from __future__ import annotations

from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

import orjson

from ..exposition import ResourceWriter
from ..extension import ExtraWatch, Host, WSGIApp
from ..filters import family_filter
from ..kube.client import ApiResource
from ..options import Options
from ..sinks import Sink
from .graph import Topology, neighbourhood
from .kinds import KINDS, Kind
from .model import Ref

DEFAULT_DEPTH = 6  # StackState's "Show dependencies (deep)"
MAX_DEPTH = 100
DIRECTIONS = ("down", "up", "both")

StartResponse = Callable[..., Any]


class TopologyExtension:
    def __init__(self, options: Options) -> None:
        self.topology = Topology(options.topology_cluster_name, family_filter(options))

    def watches(self, options: Options) -> list[ExtraWatch]:
        return [ExtraWatch(k.resource.name,
                           ApiResource(k.resource.group, k.resource.version, k.resource.name, k.resource.namespaced),
                           self._sink_factory(k), metadata_only=k.resource.metadata_only, kind=k.resource.kind)
                for k in KINDS]

    def _sink_factory(self, kind: Kind) -> Callable[[str | None], Sink]:
        return lambda namespace: self.topology.sink(kind, namespace)

    def writers(self) -> list[ResourceWriter]:
        return [self.topology.writer]

    def routes(self) -> dict[str, WSGIApp]:
        from .ui import ExplorerApp

        return {"/topology": TopologyApp(self.topology), **ExplorerApp(self.topology).routes()}

    def bind(self, host: Host) -> None:
        pass


class BadRequest(ValueError):
    pass


def _param(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def parse_root(value: str) -> Ref:
    """``<type>/<namespace>/<name>``; the namespace is empty for cluster-scoped components."""
    parts = value.split("/", 2)
    if len(parts) != 3 or not parts[0] or not parts[2]:
        raise BadRequest(f"root must be <type>/<namespace>/<name> (namespace empty when cluster-scoped), got {value!r}")
    return Ref(*parts)


class TopologyApp:
    """``GET /topology[?namespace=][&root=<type>/<ns>/<name>&depth=N&direction=down|up|both]``."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            status, doc = "200 OK", self.answer(parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        except BadRequest as e:
            status, doc = "400 Bad Request", {"error": str(e)}
        except LookupError as e:
            status, doc = "404 Not Found", {"error": str(e)}
        body = orjson.dumps(doc) + b"\n"
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def answer(self, query: dict[str, list[str]]) -> dict[str, Any]:
        components, relations = self.topology.graph()
        namespace = _param(query, "namespace")
        root_value = _param(query, "root")
        doc: dict[str, Any] = {"cluster": self.topology.cluster}
        if root_value is not None:
            root = parse_root(root_value)
            depth_value = _param(query, "depth")
            try:
                depth = DEFAULT_DEPTH if depth_value in (None, "") else int(depth_value)
            except ValueError:
                raise BadRequest(f"depth must be an integer, got {depth_value!r}") from None
            if not 0 <= depth <= MAX_DEPTH:
                raise BadRequest(f"depth must be between 0 and {MAX_DEPTH}, got {depth}")
            direction = _param(query, "direction") or "down"
            if direction not in DIRECTIONS:
                raise BadRequest(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
            if root not in components:
                raise LookupError(f"no component {root}")
            reached, chosen = neighbourhood(relations.values(), root, depth, direction)
            doc.update(root=root.as_dict(), depth=depth, direction=direction)
            comps = [c for ref, c in components.items() if ref in reached]
        else:
            comps = list(components.values())
            chosen = list(relations.values())
        if namespace is not None:
            comps = [c for c in comps if c.ref.namespace == namespace]
            chosen = [r for r in chosen if namespace in (r.source.namespace, r.target.namespace)]
        comps.sort()
        chosen.sort()
        doc["components"] = [c.as_dict() for c in comps]
        doc["relations"] = [r.as_dict() for r in chosen]
        return doc
