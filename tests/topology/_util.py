"""Render hand-written objects as ``ksm-py render`` does (KSM families and the topology/events extensions)."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from ksm_py.builder import compile_resources
from ksm_py.cli import build_extensions
from ksm_py.exposition import render_body
from ksm_py.options import Options
from ksm_py.render import feed_objects
from ksm_py.wiring import plan
from tests.expo import parse_line

Obj = dict[str, Any]


def render(objects: Iterable[Obj], *, resources: Sequence[str] = ("topology",), cluster: str = "kubernetes",
           **options: Any) -> str:
    opts = Options(resources=list(resources), topology_cluster_name=cluster, **options)
    objs = list(objects)
    return render_body(feed_objects(plan(opts, compile_resources(opts), build_extensions(opts)), objs)).decode()


def ref(labels: dict[str, str], prefix: str = "") -> str:
    return f"{labels[prefix + 'type']}/{labels[prefix + 'namespace']}/{labels[prefix + 'name']}"


def graph(text: str) -> tuple[dict[str, str], set[str]]:
    """``({"pod/ns/name": uid}, {"controls replicaset/ns/rs -> pod/ns/name", ...})`` of an exposition.

    Fails on a duplicate series: every series must be unique in the exposition.
    """
    components: dict[str, str] = {}
    relations: set[str] = set()
    seen: set[str] = set()
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        assert line not in seen, f"duplicate series {line}"
        seen.add(line)
        name, pairs, value = parse_line(line)
        labels = dict(pairs)
        if name == "kube_topology_component":
            assert value == "1"
            assert set(labels) == {"type", "namespace", "name", "uid"}, line
            components[ref(labels)] = labels["uid"]
        elif name == "kube_topology_relation":
            assert value == "1"
            optional = " (optional)" if labels.pop("optional", "") == "true" else ""
            assert set(labels) == {"type", "source_type", "source_namespace", "source_name", "target_type",
                                   "target_namespace", "target_name"}, line
            relations.add(f"{labels['type']} {ref(labels, 'source_')} -> {ref(labels, 'target_')}{optional}")
    return components, relations


def topology(objects: Iterable[Obj], **kwargs: Any) -> tuple[set[str], set[str]]:
    """Components (without the always-present cluster) and relations of the objects."""
    components, relations = graph(render(objects, **kwargs))
    return {c for c in components if not c.startswith("cluster/")}, relations


def meta(name: str, namespace: str | None = "shop", uid: str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "uid": uid or f"uid-{name}"}
    if namespace is not None:
        out["namespace"] = namespace
    out.update(extra)
    return out


def owner(kind: str, name: str) -> list[dict[str, Any]]:
    return [{"apiVersion": "v1", "kind": kind, "name": name, "uid": f"uid-{name}", "controller": True}]


def obj(api_version: str, kind: str, name: str, namespace: str | None = "shop", **body: Any) -> Obj:
    metadata = body.pop("metadata", {})
    return {"apiVersion": api_version, "kind": kind, "metadata": meta(name, namespace, **metadata), **body}


def pod(name: str, *, node: str = "", phase: str = "Running", owners: list[dict[str, Any]] | None = None,
        containers: list[dict[str, Any]] | None = None, volumes: list[dict[str, Any]] | None = None,
        init_containers: list[dict[str, Any]] | None = None, namespace: str = "shop") -> Obj:
    spec: dict[str, Any] = {"containers": containers if containers is not None else [{"name": "app", "image": "x"}]}
    if node:
        spec["nodeName"] = node
    if volumes:
        spec["volumes"] = volumes
    if init_containers:
        spec["initContainers"] = init_containers
    metadata: dict[str, Any] = {"ownerReferences": owners} if owners else {}
    return obj("v1", "Pod", name, namespace, metadata=metadata, spec=spec, status={"phase": phase})
