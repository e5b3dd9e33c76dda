"""``ksm-py render``: what /metrics would serve for a cluster holding just the given objects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

from .body import Body
from .exposition import ResourceWriter, render_body
from .extension import Extension
from .options import Options
from .shape import decoders
from .store import CompiledResource
from .wiring import Feed, Plan, plan


def load_objects(paths: Iterable[Path]) -> Iterator[Body]:
    """Objects from JSON or YAML files: one object, a ``*List``, or multi-document YAML."""
    for path in paths:
        text = path.read_text()
        try:
            docs: list[Any] = [json.loads(text)]
        except ValueError:
            docs = list(yaml.safe_load_all(text))
        for doc in docs:
            yield from _flatten(doc, path)


def _flatten(doc: Any, path: Path) -> Iterator[Body]:
    if doc is None:
        return
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: expected a Kubernetes object, got {type(doc).__name__}")
    if "items" in doc and str(doc.get("kind", "List")).endswith("List"):
        for item in doc["items"] or []:
            yield from _flatten(item, path)
        return
    yield doc


def _by_kind(objects: Iterable[Body]) -> dict[tuple[str, str], list[Body]]:
    by_kind: dict[tuple[str, str], list[Body]] = {}
    for obj in objects:
        by_kind.setdefault((str(obj.get("apiVersion", "")), str(obj.get("kind", ""))), []).append(obj)
    return by_kind


def _seen_by(feed: Feed, objs: list[Body], options: Options) -> list[Body]:
    """The objects ``feed``'s list/watch would see (its namespace; not a denied one)."""
    def ns(o: Body) -> Any:
        return (o.get("metadata") or {}).get("namespace")
    if not feed.api.namespaced:
        return objs
    if feed.namespace is not None:
        return [o for o in objs if ns(o) == feed.namespace]
    denied = set(options.namespaces_denylist)
    return [o for o in objs if ns(o) not in denied]


def feed_objects(wiring: Plan, objects: Iterable[Body]) -> list[ResourceWriter]:
    """Feed every sink of the plan, in wiring order, the objects its list/watch would see; the writers."""
    by_kind = _by_kind(objects)
    for feed, sink in wiring.sinks:
        replacement = sink.replacement()
        seen = _seen_by(feed, by_kind.get((feed.api_version, feed.kind), []), wiring.options)
        if feed.shape is not None:
            # Only the fields the list/watch would parse (the same families, the same output).
            seen = decoders(feed.shape).items(seen) or seen
        for obj in seen:
            replacement.add(obj)
        replacement.commit()
    return wiring.writers


def render(compiled: list[CompiledResource], options: Options, paths: Iterable[Path],
           extensions: Iterable[Extension] = ()) -> bytes:
    objects = list(load_objects(paths))
    return render_body(feed_objects(plan(options, compiled, extensions), objects))
