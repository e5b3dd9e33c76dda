"""``ksm-py render``: what /metrics would serve for a cluster holding just the given objects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator, cast

import yaml

from .exposition import ResourceWriter, render_body
from .extension import Extension
from .families._dsl import Body
from .options import Options
from .store import CompiledResource, MetricsStore


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


def _per_namespace(objs: list[Body], namespaced: bool, options: Options) -> list[tuple[str | None, list[Body]]]:
    """The objects each list/watch would see: one per namespace in --namespaces (flag order)."""
    def ns(o: Body) -> Any:
        return (o.get("metadata") or {}).get("namespace")
    if namespaced and options.namespaces:
        return [(n, [o for o in objs if ns(o) == n]) for n in options.namespaces]
    denied = set(options.namespaces_denylist) if namespaced else set()
    return [(None, [o for o in objs if ns(o) not in denied])]


def build_writers(compiled: list[CompiledResource], options: Options, objects: Iterable[Body]) -> list[ResourceWriter]:
    """One store per namespace in --namespaces (flag order), as the live exporter has."""
    by_kind = _by_kind(objects)
    writers = []
    for c in compiled:
        r = c.resource
        stores = []
        for _, objs in _per_namespace(by_kind.get((r.api_version, r.kind), []), r.namespaced, options):
            store = MetricsStore(c)
            store.replace(objs)
            stores.append(store)
        writers.append(ResourceWriter(c, stores))
    return writers


def extension_writers(extensions: Iterable[Extension], options: Options,
                      objects: Iterable[Body]) -> list[ResourceWriter]:
    """The writers of the extensions (topology, events), fed the objects."""
    by_kind = _by_kind(objects)
    writers = []
    for ext in extensions:
        for watch in ext.watches(options):
            api = watch.api
            api_version = f"{api.group}/{api.version}" if api.group else api.version
            for ns, objs in _per_namespace(by_kind.get((api_version, watch.kind), []), api.namespaced, options):
                replacement = watch.sink(ns).replacement()
                for obj in objs:
                    replacement.add(cast(dict[str, Any], obj))  # objects from files are plain dicts
                replacement.commit()
        writers += ext.writers()
    return writers


def render(compiled: list[CompiledResource], options: Options, paths: Iterable[Path],
           extensions: Iterable[Extension] = ()) -> bytes:
    objects = list(load_objects(paths))
    writers = build_writers(compiled, options, objects) + extension_writers(extensions, options, objects)
    return render_body(sorted(writers, key=lambda w: w.name))
