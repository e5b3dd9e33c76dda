"""``ksm-py render``: what /metrics would serve for a cluster holding just the given objects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

from .exposition import ResourceWriter, render_body
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


def build_writers(compiled: list[CompiledResource], options: Options, objects: Iterable[Body]) -> list[ResourceWriter]:
    """One store per namespace in --namespaces (flag order), as the live exporter has."""
    by_kind: dict[tuple[str, str], list[Body]] = {}
    for obj in objects:
        by_kind.setdefault((str(obj.get("apiVersion", "")), str(obj.get("kind", ""))), []).append(obj)
    writers = []
    for c in compiled:
        r = c.resource
        objs = by_kind.get((r.api_version, r.kind), [])
        if r.namespaced and options.namespaces:
            stores = []
            for ns in options.namespaces:
                store = MetricsStore(c)
                store.replace(o for o in objs if (o.get("metadata") or {}).get("namespace") == ns)
                stores.append(store)
        else:
            store = MetricsStore(c)
            denied = set(options.namespaces_denylist) if r.namespaced else set()
            store.replace(o for o in objs if (o.get("metadata") or {}).get("namespace") not in denied)
            stores = [store]
        writers.append(ResourceWriter(c, stores))
    return writers


def render(compiled: list[CompiledResource], options: Options, paths: Iterable[Path]) -> bytes:
    return render_body(build_writers(compiled, options, load_objects(paths)))
