"""``/topology/ui``: the topology explorer page, StackState's Kubernetes views and component actions.

The page (``static/``) is plain HTML and our own script; the graph is laid out and drawn on the
server by Graphviz ``dot`` (Debian's ``graphviz``, through the ``graphviz`` binding from PyPI),
so ksm-py stays a plain Python package with nothing third-party in the repository or the
browser.  ``/topology/ui/graph`` answers one JSON document per view or action: the SVG, what the
script needs to show a selected component (type, name, tags, actions) and the dangling
references.  Everything is selected and limited here, so the browser never gets more than
``DRAW_LIMIT`` components: past that a view collapses into counts per type and namespace.

Read-only and names only: components carry Kubernetes names and labels, never Secret or
ConfigMap data (``derive`` reads their metadata only).  Names and labels are escaped for DOT
(``graphviz.escape``), Graphviz escapes them for SVG, and the script only ever sets text.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from importlib import resources
from typing import Any, Callable, Iterable, Iterator, Mapping
from urllib.parse import parse_qs

import orjson

from . import model as m
from .graph import Topology, neighbourhood
from .model import Component, Ref, Relation

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]

DRAW_LIMIT = 300  # components drawn before a view collapses into counts (dot: ~1 s at 300)
MAX_LIMIT = 1000
DEEP = 6  # StackState's "Show dependencies (deep)": up to 6 levels

# type -> (shape, fill, line): a distinct shape per family of types, a colour per type.
STYLES: dict[str, tuple[str, str, str]] = {
    m.CLUSTER: ("doubleoctagon", "#ede9fe", "#6d28d9"),
    m.NAMESPACE: ("folder", "#f1f5f9", "#475569"),
    m.NODE: ("box3d", "#e2e8f0", "#1e293b"),
    m.POD: ("ellipse", "#dbeafe", "#1d4ed8"),
    m.CONTAINER: ("box", "#eff6ff", "#3b82f6"),
    m.SERVICE: ("hexagon", "#d1fae5", "#047857"),
    m.EXTERNAL_SERVICE: ("hexagon", "#ecfdf5", "#10b981"),
    m.INGRESS: ("invhouse", "#ccfbf1", "#0f766e"),
    m.ENDPOINT: ("diamond", "#f0fdfa", "#14b8a6"),
    m.DEPLOYMENT: ("component", "#fef3c7", "#b45309"),
    m.REPLICASET: ("box", "#fffbeb", "#d97706"),
    m.REPLICATIONCONTROLLER: ("box", "#fff7ed", "#9a3412"),
    m.STATEFULSET: ("tab", "#ffedd5", "#c2410c"),
    m.DAEMONSET: ("parallelogram", "#fff7ed", "#ea580c"),
    m.JOB: ("cds", "#fef9c3", "#a16207"),
    m.CRONJOB: ("septagon", "#fefce8", "#ca8a04"),
    m.CONFIGMAP: ("note", "#f3e8ff", "#7e22ce"),
    m.SECRET: ("octagon", "#fce7f3", "#be185d"),
    m.PERSISTENT_VOLUME: ("cylinder", "#cffafe", "#0e7490"),
    m.PERSISTENT_VOLUME_CLAIM: ("cylinder", "#ecfeff", "#06b6d4"),
    m.VOLUME: ("invtrapezium", "#e0f2fe", "#0369a1"),
    m.VOLUME_SOURCE: ("trapezium", "#f0f9ff", "#0284c7"),
}
MISSING = ("box", "#fee2e2", "#dc2626")
ROUNDED = {m.CONTAINER, m.REPLICASET, m.REPLICATIONCONTROLLER}
DASHED = {m.EXTERNAL_SERVICE}

WORKLOADS = (m.DEPLOYMENT, m.REPLICASET, m.REPLICATIONCONTROLLER, m.STATEFULSET, m.DAEMONSET, m.JOB, m.CRONJOB)
CONFIG_AND_STORAGE = {m.CONFIGMAP, m.SECRET, m.VOLUME, m.PERSISTENT_VOLUME_CLAIM, m.PERSISTENT_VOLUME,
                      m.VOLUME_SOURCE, m.CONTAINER}


@dataclass(frozen=True)
class View:
    title: str
    description: str
    types: frozenset[str]


# The four views of the Kubernetes StackPack ("Kubernetes - Applications - <cluster>", ...), plus
# the whole graph.  The seeds name them without their queries; each selects one concern.
VIEWS: dict[str, View] = {
    "applications": View("Applications", "How traffic reaches the application: load balancer addresses, ingresses, "
                         "services and the pods and containers behind them.",
                         frozenset({m.ENDPOINT, m.INGRESS, m.SERVICE, m.EXTERNAL_SERVICE, m.POD, m.CONTAINER})),
    "infrastructure": View("Infrastructure", "What runs where: the cluster, its nodes, the pods scheduled on them "
                           "and the persistent storage.",
                           frozenset({m.CLUSTER, m.NODE, m.POD, m.PERSISTENT_VOLUME_CLAIM, m.PERSISTENT_VOLUME,
                                      m.VOLUME_SOURCE})),
    "namespaces": View("Namespaces", "The namespaces and what each one encloses: workloads, services and pods "
                       "without a controller.", frozenset({m.NAMESPACE})),
    "workloads": View("Workload Controllers", "Which controller creates and controls which workload and pod.",
                      frozenset({*WORKLOADS, m.POD})),
    "all": View("Everything", "Every component and relation.", frozenset(STYLES)),
}


@dataclass(frozen=True)
class Action:
    title: str
    types: tuple[str, ...]
    description: str


# The Kubernetes StackPack's component actions, for the component types it lists.
ACTIONS: dict[str, Action] = {
    "config": Action("Show configuration and storage", (m.POD, m.CONTAINER),
                     "the pod or container with its configmaps, secrets and volumes"),
    "deps": Action("Show dependencies (deep)", (*WORKLOADS, m.POD),
                   "everything the component depends on, up to 6 levels deep"),
    "pods": Action("Show pods", WORKLOADS, "the pods of the workload"),
    "pods-services": Action("Show pods & services", (m.NAMESPACE,), "the pods and services in the namespace"),
    "services": Action("Show services", (m.NAMESPACE,), "the services and ingresses in the namespace"),
    "workloads": Action("Show workloads", (m.NAMESPACE,), "the workloads in the namespace"),
}


class BadRequest(ValueError):
    pass


# -- selection ---------------------------------------------------------------------------------
@dataclass
class Selection:
    title: str
    refs: set[Ref]
    relations: list[Relation]


Graph = tuple[dict[Ref, Component], dict[tuple[str, Ref, Ref], Relation]]


def _between(refs: set[Ref], relations: Iterable[Relation]) -> list[Relation]:
    return [r for r in relations if r.source in refs and r.target in refs]


def select_view(graph: Graph, view: str, namespace: str) -> Selection:
    components, relations = graph
    spec = VIEWS[view]
    if view == "namespaces":
        # A namespace and what it encloses directly (StackState's namespace -> workload relations).
        refs = {ref for ref in components if ref.type == m.NAMESPACE}
        refs |= {r.target for r in relations.values()
                 if r.type == m.ENCLOSES and r.source.type == m.NAMESPACE and r.target in components}
    else:
        refs = {ref for ref in components if ref.type in spec.types}
    if namespace:
        kept = {ref for ref in refs if ref.namespace == namespace}
        # Cluster-scoped components one relation away (the nodes of the pods, the PVs of the claims).
        for r in relations.values():
            for a, b in ((r.source, r.target), (r.target, r.source)):
                if a in kept and b in refs and not b.namespace:
                    kept.add(b)
        refs = kept
    return Selection(f"{spec.title}" + (f" in namespace {namespace}" if namespace else ""), refs,
                     _between(refs, relations.values()))


def _walk(relations: Iterable[Relation], root: Ref, follow: Callable[[Relation], bool], depth: int) -> set[Ref]:
    out: dict[Ref, list[Relation]] = {}
    for r in relations:
        if follow(r):
            out.setdefault(r.source, []).append(r)
    seen, queue = {root}, deque([(root, 0)])
    while queue:
        ref, level = queue.popleft()
        if level >= depth:
            continue
        for r in out.get(ref, ()):
            if r.target not in seen:
                seen.add(r.target)
                queue.append((r.target, level + 1))
    return seen


def _config_relation(r: Relation) -> bool:
    """Pod -> containers and what pods and containers take configuration and storage from."""
    if r.type == m.ENCLOSES:
        return r.source.type == m.POD
    if r.type in (m.CLAIMS, m.USES, m.USES_VALUE, m.MOUNTS, m.PROJECTS):
        return r.target.type in CONFIG_AND_STORAGE
    return r.type == m.EXPOSES and r.source.type in (m.PERSISTENT_VOLUME_CLAIM, m.PERSISTENT_VOLUME)


def select_action(graph: Graph, action: str, root: Ref, depth: int) -> Selection:
    components, relations = graph
    if root not in components:
        raise LookupError(f"no component {root}")
    spec = ACTIONS[action]
    if root.type not in spec.types:
        raise BadRequest(f"{spec.title} is for {', '.join(spec.types)}, not {root.type}")
    rels = relations.values()
    what = f"{root.type} {root.namespace + '/' if root.namespace else ''}{root.name}"
    if action == "deps":
        refs, chosen = neighbourhood(rels, root, depth, "down")
        return Selection(f"{spec.title} of {what} ({depth} levels)", refs, chosen)
    if action == "config":
        refs = _walk(rels, root, _config_relation, 4)
        if root.type == m.CONTAINER:
            # Environment references are the pod's (all its containers'): show the pod with them.
            pods = {r.source for r in rels if r.type == m.ENCLOSES and r.target == root}
            for pod in pods:
                refs |= {pod} | {r.target for r in rels if r.source == pod and r.type in (m.USES, m.USES_VALUE)}
    elif action == "pods":
        refs = _walk(rels, root, lambda r: r.type in (m.CONTROLS, m.CREATES), 3)
    else:
        types = {"pods-services": {m.POD, m.SERVICE},
                 "services": {m.SERVICE, m.EXTERNAL_SERVICE, m.INGRESS},
                 "workloads": set(WORKLOADS)}[action]
        refs = {ref for ref in components if ref.type in types and ref.namespace == root.name}
        if action == "services":
            refs |= {r.source for r in rels if r.type == m.ROUTES and r.target in refs}
    return Selection(f"{spec.title} of {what}", refs, _between(refs, rels))


def dangling(graph: Graph, namespace: str) -> list[Relation]:
    """Required references to components that do not exist (optional ones are not errors)."""
    components, relations = graph
    return sorted(r for r in relations.values()
                  if not r.optional and r.target not in components
                  and (not namespace or namespace in (r.source.namespace, r.target.namespace)))


# -- drawing -----------------------------------------------------------------------------------
def _key(ref: Ref) -> str:
    return f"{ref.type}/{ref.namespace}/{ref.name}"


def _node_attrs(type_: str, missing: bool = False) -> dict[str, str]:
    shape, fill, line = MISSING if missing else STYLES.get(type_, ("box", "#ffffff", "#000000"))
    style = ["filled"]
    if missing or type_ in DASHED:
        style.append("dashed")
    if type_ in ROUNDED and not missing:
        style.append("rounded")
    return {"shape": shape, "fillcolor": fill, "color": line, "style": ",".join(style)}


def _label(*lines: str) -> Any:
    import graphviz

    # escape(): backslashes are literal and '<...>' is never an HTML label; "&" is written as
    # "&amp;" or Graphviz would read "&lt;" in a name as an entity; "\n" joins lines.
    return graphviz.nohtml("\\n".join(graphviz.escape(line.replace("&", "&amp;")) for line in lines))


def _digraph(rankdir: str = "LR") -> Any:
    import graphviz

    return graphviz.Digraph(
        graph_attr={"rankdir": rankdir, "bgcolor": "transparent", "nodesep": "0.25", "ranksep": "0.55",
                    "fontname": "Helvetica", "pad": "0.2"},
        node_attr={"fontname": "Helvetica", "fontsize": "10", "penwidth": "1.4", "margin": "0.12,0.04"},
        edge_attr={"fontname": "Helvetica", "fontsize": "8", "color": "#64748b", "fontcolor": "#475569",
                   "arrowsize": "0.7"})


def _short(ref: Ref) -> str:
    name = ref.name
    if ref.type in (m.CONTAINER, m.VOLUME) and "/" in name and ref.namespace:
        name = name.split("/", 1)[1]  # the pod is the box it hangs off
    return name if len(name) <= 48 else name[:45] + "..."


def graph_source(components: Mapping[Ref, Component], refs: set[Ref], relations: list[Relation],
                 broken: list[Relation]) -> tuple[str, dict[str, Ref], dict[str, Ref]]:
    """DOT for the selection; node ids (``c<i>`` components, ``m<i>`` missing targets) to refs."""
    g = _digraph()
    ids: dict[Ref, str] = {}
    present: dict[str, Ref] = {}
    for i, ref in enumerate(sorted(refs)):
        ids[ref] = present_id = f"c{i}"
        present[present_id] = ref
        ns = f" \u00b7 {ref.namespace}" if ref.namespace and ref.type != m.NAMESPACE else ""
        g.node(present_id, label=_label(_short(ref), f"{ref.type}{ns}"), id=present_id,
               **{"class": "component", **_node_attrs(ref.type)})
    missing: dict[str, Ref] = {}
    for r in broken:
        if r.source not in ids:
            continue
        if r.target not in ids:
            ids[r.target] = missing_id = f"m{len(missing)}"
            missing[missing_id] = r.target
            g.node(missing_id, label=_label(r.target.name, f"{r.target.type} (missing)"), id=missing_id,
                   **{"class": "component missing", **_node_attrs(r.target.type, missing=True)})
    for j, r in enumerate(sorted(relations)):
        g.edge(ids[r.source], ids[r.target], label=_label(r.type), id=f"r{j}")
    for j, r in enumerate(broken):
        if r.source in ids and r.target in missing.values():
            g.edge(ids[r.source], ids[r.target], label=_label(r.type), id=f"d{j}", color="#dc2626",
                   fontcolor="#dc2626", style="dashed")
    return g.source, present, missing


def summary_source(components: Mapping[Ref, Component], refs: set[Ref], relations: list[Relation]) -> str:
    """The collapsed view: one node per component type with its count, relations counted per type."""
    g = _digraph()
    counts: dict[str, int] = {}
    for ref in refs:
        counts[ref.type] = counts.get(ref.type, 0) + 1
    ids = {type_: f"t{i}" for i, type_ in enumerate(sorted(counts))}
    for type_, n in sorted(counts.items()):
        g.node(ids[type_], label=_label(type_, f"\u00d7 {n}"), **_node_attrs(type_))
    edges: dict[tuple[str, str, str], int] = {}
    for r in relations:
        k = (r.type, r.source.type, r.target.type)
        edges[k] = edges.get(k, 0) + 1
    for (rel, s, t), n in sorted(edges.items()):
        g.edge(ids[s], ids[t], label=_label(f"{rel} \u00d7 {n}"))
    return str(g.source)


def legend_source(types: Iterable[str], missing: bool) -> str:
    """Two columns of the types drawn, in the order of ``STYLES``, and the missing target."""
    g = _digraph("TB")
    g.attr(nodesep="0.15", ranksep="0.12")
    g.attr("node", fontsize="9", width="1.3")
    entries = [(type_, _node_attrs(type_)) for type_ in STYLES if type_ in set(types)]
    if missing:
        entries.append(("missing target", _node_attrs("", missing=True)))
    for i, (text, attrs) in enumerate(entries):
        g.node(f"l{i}", label=_label(text), **attrs)
    for i in range(0, len(entries), 2):
        with g.subgraph() as row:
            row.attr(rank="same")
            row.node(f"l{i}")
            if i + 1 < len(entries):
                row.node(f"l{i + 1}")
                row.edge(f"l{i}", f"l{i + 1}", style="invis")
        if i + 2 < len(entries):
            g.edge(f"l{i}", f"l{i + 2}", style="invis")
    return str(g.source)


class DotMissing(RuntimeError):
    pass


class Renderer:
    """``dot -Tsvg``, one run at a time, each DOT source rendered once (an LRU by its digest)."""

    def __init__(self, size: int = 16) -> None:
        self.lock = threading.Lock()
        self.cache: OrderedDict[str, str] = OrderedDict()
        self.size = size

    def svg(self, source: str) -> str:
        import graphviz

        digest = hashlib.sha256(source.encode()).hexdigest()
        with self.lock:
            if digest in self.cache:
                self.cache.move_to_end(digest)
                return self.cache[digest]
            try:
                out = graphviz.pipe("dot", "svg", source.encode(), quiet=True).decode()
            except graphviz.ExecutableNotFound as e:
                raise DotMissing(str(e)) from None
            # The prolog and doctype are for files; the page parses the <svg> element itself.
            out = out[out.find("<svg"):]
            self.cache[digest] = out
            if len(self.cache) > self.size:
                self.cache.popitem(last=False)
            return out


# -- the answer --------------------------------------------------------------------------------
def _param(query: dict[str, list[str]], name: str, default: str = "") -> str:
    values = query.get(name)
    return values[-1] if values else default


def _int(query: dict[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    value = _param(query, name)
    if not value:
        return default
    try:
        n = int(value)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, got {value!r}") from None
    if not low <= n <= high:
        raise BadRequest(f"{name} must be between {low} and {high}, got {n}")
    return n


def _parse_root(value: str) -> Ref:
    parts = value.split("/", 2)
    if len(parts) != 3 or not parts[0] or not parts[2]:
        raise BadRequest(f"root must be <type>/<namespace>/<name>, got {value!r}")
    return Ref(*parts)


def _component_doc(ref: Ref, component: Component | None) -> dict[str, Any]:
    return {"key": _key(ref), "type": ref.type, "namespace": ref.namespace, "name": ref.name,
            "uid": component.uid if component else "", "labels": list(component.labels) if component else [],
            "missing": component is None,
            "actions": [a for a, spec in ACTIONS.items() if ref.type in spec.types] if component else []}


def _relation_doc(r: Relation) -> dict[str, Any]:
    return {"type": r.type, "source": _key(r.source), "target": _key(r.target)}


class Explorer:
    """The answers of ``/topology/ui/graph``, cached until the graph changes."""

    def __init__(self, topology: Topology, renderer: Renderer | None = None) -> None:
        self.topology = topology
        self.renderer = renderer or Renderer()
        self.answers: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self.lock = threading.Lock()

    def answer(self, query: dict[str, list[str]]) -> bytes:
        view = _param(query, "view", "applications")
        if view not in VIEWS:
            raise BadRequest(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
        action = _param(query, "action")
        if action and action not in ACTIONS:
            raise BadRequest(f"action must be one of {', '.join(ACTIONS)}, got {action!r}")
        root = _parse_root(_param(query, "root")) if action else None
        namespace = _param(query, "namespace")
        depth = _int(query, "depth", DEEP, 1, DEEP)
        limit = _int(query, "limit", DRAW_LIMIT, 1, MAX_LIMIT)
        key = (self.topology.generation(), view, action, root, namespace, depth, limit)
        with self.lock:
            cached = self.answers.get(key)
        if cached is not None:
            return cached
        body = orjson.dumps(self._build(view, action, root, namespace, depth, limit))
        with self.lock:
            self.answers[key] = body
            while len(self.answers) > 16:  # each up to ~2 MB at MAX_LIMIT
                self.answers.popitem(last=False)
        return body

    def _build(self, view: str, action: str, root: Ref | None, namespace: str, depth: int,
               limit: int) -> dict[str, Any]:
        graph = self.topology.graph()
        components, _ = graph
        if action and root is not None:
            sel = select_action(graph, action, root, depth)
            scope_ns = ""
        else:
            sel = select_view(graph, view, namespace)
            scope_ns = namespace
        broken_all = dangling(graph, scope_ns)
        broken = [r for r in broken_all if r.source in sel.refs]
        doc: dict[str, Any] = {
            "cluster": self.topology.cluster, "title": sel.title, "view": view, "action": action,
            "root": _key(root) if root else "", "namespace": namespace, "depth": depth, "limit": limit,
            "namespaces": sorted(ref.name for ref in components if ref.type == m.NAMESPACE),
            "total": len(components),
            "count": len(sel.refs),
            "dangling": [_relation_doc(r) for r in broken_all],
            "svg": "", "legend": "", "error": "", "nodes": {}, "relations": [], "summary": None,
            # Big graphs are costly to select: poll them less often.
            "poll_ms": 2000 if len(components) < 5000 else 10000,
        }
        types_drawn = {ref.type for ref in sel.refs}
        collapsed = len(sel.refs) > limit
        try:
            if collapsed:
                doc["summary"] = self._summary(sel)
                doc["svg"] = self.renderer.svg(summary_source(components, sel.refs, sel.relations))
            else:
                source, present, missing = graph_source(components, sel.refs, sel.relations, broken)
                doc["nodes"] = {i: _component_doc(ref, components.get(ref)) for i, ref in
                                [*present.items(), *missing.items()]}
                doc["relations"] = [_relation_doc(r) for r in sorted(sel.relations)] + [
                    {**_relation_doc(r), "dangling": True} for r in broken]
                doc["svg"] = self.renderer.svg(source)
            doc["legend"] = self.renderer.svg(legend_source(types_drawn, bool(broken) and not collapsed))
        except DotMissing as e:
            logger.warning("topology explorer: %s", e)
            doc["svg"] = doc["legend"] = ""
            doc["error"] = ("Graphviz is not installed: the explorer draws with its 'dot' program (Debian/Ubuntu: "
                            "apt-get install graphviz; the container image has it). The components are listed "
                            "instead.")
            if not collapsed:
                doc["nodes"] = {f"c{i}": _component_doc(ref, components.get(ref))
                                for i, ref in enumerate(sorted(sel.refs))}
        return doc

    @staticmethod
    def _summary(sel: Selection) -> dict[str, Any]:
        by_type: dict[str, int] = {}
        by_namespace: dict[str, dict[str, int]] = {}
        for ref in sel.refs:
            by_type[ref.type] = by_type.get(ref.type, 0) + 1
            row = by_namespace.setdefault(ref.namespace, {})
            row[ref.type] = row.get(ref.type, 0) + 1
        return {"by_type": dict(sorted(by_type.items())),
                "by_namespace": [{"namespace": ns, "counts": dict(sorted(c.items())), "total": sum(c.values())}
                                 for ns, c in sorted(by_namespace.items(), key=lambda kv: -sum(kv[1].values()))]}


# -- WSGI --------------------------------------------------------------------------------------
# Only our own script and style; no inline script, nothing from elsewhere (SVG is inserted as
# parsed nodes, so hostile text in it could not run even if escaping failed).
SECURITY_HEADERS = [
    ("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-cache"),
]


def _static(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


class ExplorerApp:
    """``/topology/ui`` (the page), its script and style, and ``/topology/ui/graph`` (JSON)."""

    ASSETS = {"/topology/ui": ("explorer.html", "text/html; charset=utf-8"),
              "/topology/ui/explorer.js": ("explorer.js", "text/javascript; charset=utf-8"),
              "/topology/ui/explorer.css": ("explorer.css", "text/css; charset=utf-8")}

    def __init__(self, topology: Topology) -> None:
        self.explorer = Explorer(topology)
        self.assets = {path: (_static(name), ctype) for path, (name, ctype) in self.ASSETS.items()}

    def routes(self) -> dict[str, Callable[..., Iterable[bytes]]]:
        return {path: self for path in [*self.ASSETS, "/topology/ui/graph"]}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return self._send(start_response, "405 Method Not Allowed", b"read-only\n", "text/plain; charset=utf-8",
                              [("Allow", "GET, HEAD")])
        path = environ.get("PATH_INFO", "")
        if path in self.assets:
            body, ctype = self.assets[path]
            return self._send(start_response, "200 OK", body, ctype)
        try:
            body = self.explorer.answer(parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        except BadRequest as e:
            return self._send(start_response, "400 Bad Request", orjson.dumps({"error": str(e)}), "application/json")
        except LookupError as e:
            return self._send(start_response, "404 Not Found", orjson.dumps({"error": str(e)}), "application/json")
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if environ.get("HTTP_IF_NONE_MATCH") == etag:
            start_response("304 Not Modified", [("ETag", etag), *SECURITY_HEADERS])
            return [b""]
        return self._send(start_response, "200 OK", body, "application/json", [("ETag", etag)])

    @staticmethod
    def _send(start_response: StartResponse, status: str, body: bytes, ctype: str,
              extra: list[tuple[str, str]] | None = None) -> Iterator[bytes] | list[bytes]:
        start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body))), *SECURITY_HEADERS,
                                *(extra or [])])
        return [body]
