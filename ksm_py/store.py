"""Pre-rendered metrics per object: rendered once per watch event, concatenated on scrape.

Each object is kept as a tuple with one bytes chunk per family (``b""`` when it has no
samples; what KSM's ``metrics_store`` keeps as ``[][]byte``).  A scrape transposes those tuples
with ``zip`` and joins each family's column with ``bytes.join``, both in C, so nothing but the
rendered chunks is held between scrapes: a cache of the joined body would be a second copy of
the whole response (hundreds of MB at 50,000 pods) for a gain of a few milliseconds.
"""

from __future__ import annotations

import logging
import zlib
from typing import Any, Callable, Iterable, Mapping, Sequence, cast

import orjson

from .families._dsl import Allowlists, Body, Constant, Family, FamilyFn, Resource, Sample, Samples
from .metric import escape_label_value, format_value
from .sinks import Collect

logger = logging.getLogger(__name__)

def object_key(obj: Body) -> str:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
    uid = meta.get("uid")
    if uid:
        return str(uid)
    return f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"


# format_value() results by value: sizes, counts and timestamps repeat across objects.  Equal
# keys (1, 1.0, True; 0, -0.0, False) format identically, so sharing an entry is safe.
_VALUES: dict[Any, str] = {}
_VALUES_MAX = 1 << 16


def _value(v: float | int | bool) -> str:
    s = _VALUES.get(v)
    if s is None:
        s = format_value(v)
        if len(_VALUES) < _VALUES_MAX:
            _VALUES[v] = s
    return s


def _pair(k: str, v: Any) -> str:
    if type(v) is not str:
        v = "" if v is None else str(v)
    return f'{k}="{escape_label_value(v)}"'


def _label_pairs(labels: Any) -> str:
    # Exact type checks first: isinstance() against typing.Mapping is an ABC check, and slow.
    t = type(labels)
    if t is str:
        return labels  # rendered by the family (constant label sets)
    if t is tuple or t is list:
        if len(labels) == 1:
            # Most samples carry one label of their own (container, condition, phase...): no
            # comprehension and join for them.
            k, v = labels[0]
            if type(v) is str and "\"" not in v and "\\" not in v and "\n" not in v:
                return f'{k}="{v}"'
            return _pair(k, v)
        items = labels
    else:
        items = labels.items() if t is dict or isinstance(labels, Mapping) else labels
    # The common case (a plain string needing no escape) inline, without a call per label.
    return ",".join([f'{k}="{v}"' if type(v) is str and "\"" not in v and "\\" not in v and "\n" not in v
                     else _pair(k, v) for k, v in items])


def _constant_lines(name: str, samples: Constant) -> list[str]:
    """``name``'s lines of ``samples`` split where "{identity," goes: ``opened.join()`` of them is
    what the render would write."""
    texts = [f"{labels}}} {_value(value)}\n" for labels, value in samples]
    parts = samples.lines[name] = [name, *(text + name for text in texts[:-1]), texts[-1]]
    return parts


def _no_samples(_obj: Body) -> Samples:
    return ()


# Top-level fields left out of fingerprints (a resource that declares unread metadata reads neither).
_ENVELOPE = frozenset({"kind", "apiVersion"})


class CompiledResource:
    """A resource's families after allow/deny/opt-in filtering, bound to its allowlists."""

    def __init__(self, resource: Resource, families: Sequence[Family], allowlists: Allowlists,
                 on_render_error: Callable[[str, str, BaseException], None] | None = None) -> None:
        self.resource = resource
        self.name = resource.name
        self.families = list(families)
        self.fns: list[tuple[str, FamilyFn]] = [(f.name, f.build(allowlists)) for f in self.families]
        self.headers_text = [f.header() for f in self.families]
        self.headers_openmetrics = [f.header(openmetrics=True) for f in self.families]
        self.on_render_error = on_render_error
        unread = set(getattr(resource, "unread_metadata", ()))
        if allowlists.labels:
            unread.discard("labels")
        if allowlists.annotations:
            unread.discard("annotations")
        self.unread_metadata = frozenset(unread)
        self._gzip_headers: dict[bool, list[bytes]] = {}
        # (label, metadata field) when every identity label is a plain metadata field (nearly
        # every resource): the render reads them without a getter call each.
        fields = tuple((label, getattr(get, "meta_field", None)) for label, get in resource.identity)
        self._identity_fields: tuple[tuple[str, str], ...] | None = \
            fields if all(field is not None for _, field in fields) else None  # type: ignore[assignment]
        # One bit per distinct ``Family.needs`` path; by the mask of paths an object lacks, the
        # families' functions for it (made on first use).
        needs = sorted({f.needs for f in self.families if f.needs})
        self._guards = tuple((1 << i, path) for i, path in enumerate(needs))
        self._plans: dict[int, list[tuple[str, FamilyFn]]] = {}

    def gzip_headers(self, openmetrics: bool) -> list[bytes]:
        """Each family's header as a gzip member (made on the first gzip scrape, then kept)."""
        members = self._gzip_headers.get(openmetrics)
        if members is None:
            headers = self.headers_openmetrics if openmetrics else self.headers_text
            members = self._gzip_headers[openmetrics] = [zlib.compress(h, 1, 31) for h in headers]
        return members

    def fingerprint(self, obj: Body) -> int | None:
        """A digest of what the families read of ``obj`` (None: no such digest for this resource):
        equal digests render equal chunks."""
        unread = self.unread_metadata
        if not unread:
            return None
        meta = obj.get("metadata")
        # Watch events carry kind and apiVersion, list items do not: both are left out.
        obj = {k: v for k, v in obj.items() if k not in _ENVELOPE}
        if type(meta) is dict:
            obj["metadata"] = {k: v for k, v in meta.items() if k not in unread}
        try:
            return hash(orjson.dumps(obj))
        except TypeError:
            return None

    def identity(self, obj: Body) -> str:
        """The object's identity labels, rendered."""
        fields = self._identity_fields
        meta = obj.get("metadata")
        if fields is None or type(meta) is not dict:
            return ",".join([f'{k}="{escape_label_value(v)}"' for k, v in self.resource.identity_labels(obj)])
        parts = []
        for label, field in fields:
            value = meta.get(field)
            if not isinstance(value, str):
                value = ""
            elif "\"" in value or "\\" in value or "\n" in value:
                value = escape_label_value(value)
            parts.append(f'{label}="{value}"')
        return ",".join(parts)

    def _plan(self, absent: int) -> list[tuple[str, FamilyFn]]:
        """``fns`` for an object lacking the ``needs`` paths of the bits in ``absent``: the families
        that need one of them replaced by a function without samples."""
        skipped = {path for bit, path in self._guards if absent & bit}
        plan = self._plans[absent] = [
            (name, _no_samples if i < len(self.families) and self.families[i].needs in skipped else fn)
            for i, (name, fn) in enumerate(self.fns)]
        return plan

    def render(self, obj: Body) -> tuple[bytes, ...]:
        """All families of one object: one bytes chunk per family, ``b""`` for none."""
        identity = self.identity(obj)
        # "{identity," and "{identity} " once per object: most lines are the family's name, one of
        # these, the family's own labels and the value. One comprehension per family (no call per
        # line for the value: the formatted values are looked up in place).
        opened = f"{{{identity}," if identity else "{"
        closed = f"{{{identity}}} " if identity else " "
        values = _VALUES
        value_of = _value
        pairs = _label_pairs
        chunks: list[bytes] = []
        empty = b""
        plan = self.fns
        if self._guards:
            absent = 0
            for bit, path in self._guards:
                # Absent only when certainly so: a step that is not a mapping leaves the family to
                # decide (and to fail, counted, on a malformed object as it would have).
                node: Any = obj
                for key in path:
                    if type(node) is not dict:
                        break
                    node = node.get(key)
                    if node is None:
                        absent |= bit
                        break
            if absent:
                plan = self._plans.get(absent) or self._plan(absent)
        for name, fn in plan:
            try:
                samples = fn(obj)
                if not samples:  # a family returning an empty list or tuple (a generator is always true)
                    chunks.append(empty)
                    continue
                if (type(samples) is list or type(samples) is tuple) and len(samples) == 1:
                    # One sample (about half of the families of a pod): no comprehension, no join.
                    labels, value = cast("Sequence[Sample]", samples)[0]
                    text = values.get(value) or value_of(value)
                    chunks.append((f"{name}{opened}{pairs(labels)}}} {text}\n" if labels
                                   else f"{name}{closed}{text}\n").encode())
                    continue
                if type(samples) is Constant:
                    parts = samples.lines.get(name) or _constant_lines(name, samples)
                    chunks.append(opened.join(parts).encode())
                    continue
                # Label sets the family rendered itself (str) are the commonest: no call for them.
                lines = [f"{name}{opened}{labels if type(labels) is str else pairs(labels)}}} "
                         f"{values.get(value) or value_of(value)}\n" if labels
                         else f"{name}{closed}{values.get(value) or value_of(value)}\n" for labels, value in samples]
            except Exception as e:  # noqa: BLE001 - one bad family must not lose the others
                if self.on_render_error:
                    self.on_render_error(self.name, name, e)
                logger.warning("rendering %s of %s %s failed: %r", name, self.name, identity, e)
                chunks.append(empty)
                continue
            chunks.append("".join(lines).encode() if lines else empty)
        return tuple(chunks)


# Objects whose chunks are freed between two pauses when a relist drops the old content.
RELEASE_SLICE = 2000

# Objects per segment.  A gzip scrape keeps one compressed member per (segment, family) and
# compresses again only the members an update changed: small enough that a stream of updates
# spread over the store touches few of them, large enough that a member's own overhead (a
# compressor set up, about 20 bytes of gzip framing, a restarted dictionary) stays negligible.
SEGMENT = 256


class Segment:
    """Up to ``SEGMENT`` objects' chunks, and the gzip members of their columns once compressed."""

    __slots__ = ("rows", "members")

    def __init__(self) -> None:
        self.rows: dict[str, tuple[bytes, ...]] = {}
        # One gzip member per family (``b""`` when the column is empty; ``None``: not compressed
        # since it changed).  ``None`` for the whole list until the first gzip scrape, so that a
        # store nobody scrapes with gzip pays nothing.  Replaced, never changed in place, when an
        # update changes a column: a scrape that took the old list keeps a consistent state.
        self.members: list[bytes | None] | None = None

    def changed(self, old: tuple[bytes, ...] | None, new: tuple[bytes, ...] | None) -> None:
        """Forget the members of the families whose chunk differs between ``old`` and ``new``."""
        members = self.members
        if members is None:
            return
        if old is None or new is None:
            chunks = old if new is None else new
            stale = [i for i, c in enumerate(chunks or ()) if c]
        else:
            stale = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a is not b and a != b]
        if stale:
            members = list(members)
            for i in stale:
                members[i] = None
            self.members = members


class MetricsStore:
    """The rendered metrics of one (resource, namespace) list/watch: object key -> chunks.

    Objects live in segments of ``SEGMENT``, in insertion order (new objects go to the last
    segment), so the body lists them in the order a single dict would."""

    def __init__(self, compiled: CompiledResource, cooperate: Callable[[], None] = lambda: None) -> None:
        self.compiled = compiled
        self._segments: list[Segment] = []
        self._where: dict[str, Segment] = {}
        # Object key -> fingerprint of what was rendered (resources with unread metadata only).
        self._prints: dict[str, int] = {}
        # Called between slices of a long release (the exporter passes gevent.idle).
        self.cooperate = cooperate

    def __len__(self) -> int:
        return len(self._where)

    def upsert(self, obj: Body) -> None:
        key = object_key(obj)
        segment = self._where.get(key)
        if self.compiled.unread_metadata:
            fingerprint = self.compiled.fingerprint(obj)
            if fingerprint is None:
                self._prints.pop(key, None)
            elif segment is not None and self._prints.get(key) == fingerprint:
                return  # only what no family reads changed: the chunks are what they were
            else:
                self._prints[key] = fingerprint
        chunks = self.compiled.render(obj)
        if segment is None:
            segment = _tail(self._segments)
            self._where[key] = segment
            segment.rows[key] = chunks
            segment.changed(None, chunks)
            return
        old = segment.rows[key]
        segment.rows[key] = chunks
        segment.changed(old, chunks)

    def delete(self, obj: Body) -> None:
        segment = self._where.pop(object_key(obj), None)
        self._prints.pop(object_key(obj), None)
        if segment is None:
            return
        old = segment.rows.pop(object_key(obj))
        segment.changed(old, None)
        if not segment.rows:
            self._segments.remove(segment)

    def replace(self, objs: Iterable[Body]) -> None:
        """Drop everything and add ``objs`` (a relist: objects deleted meanwhile disappear)."""
        replacement = self.replacement()
        for obj in objs:
            replacement.add(obj)
        replacement.commit()

    def replacement(self) -> Collect[str, Any]:
        """Build a new content object by object; the old one is served until ``commit()``."""
        if self.compiled.unread_metadata:
            return Collect(self._keyed_render_printed, self._install_printed)
        return Collect(self._keyed_render, self._install)

    def _keyed_render(self, obj: Body) -> tuple[str, tuple[bytes, ...]]:
        return object_key(obj), self.compiled.render(obj)

    def _keyed_render_printed(self, obj: Body) -> tuple[str, tuple[tuple[bytes, ...], int | None]]:
        return object_key(obj), (self.compiled.render(obj), self.compiled.fingerprint(obj))

    def _install_printed(self, rendered: dict[str, tuple[tuple[bytes, ...], int | None]]) -> None:
        prints = {key: fingerprint for key, (_, fingerprint) in rendered.items() if fingerprint is not None}
        self._install({key: chunks for key, (chunks, _) in rendered.items()}, prints)

    def _install(self, rendered: dict[str, tuple[bytes, ...]], prints: dict[str, int] | None = None) -> None:
        self._prints = prints or {}
        rows = list(rendered.items())
        segments, where = [], {}
        for i in range(0, len(rows), SEGMENT):
            segment = Segment()
            segment.rows = dict(rows[i:i + SEGMENT])
            segments.append(segment)
            where.update(dict.fromkeys(segment.rows, segment))
        old = self._segments
        self._segments, self._where = segments, where
        # Freeing the old chunks of 50,000 pods at once takes about 0.4 s: release them in
        # slices, the new content already served.
        freed = 0
        while old:
            segment = old.pop()
            freed += len(segment.rows)
            segment.rows.clear()
            segment.members = None
            if freed >= RELEASE_SLICE or not old:
                self.cooperate()
                freed = 0

    def snapshot(self) -> list[tuple[bytes, ...]]:
        """Every object's chunks as of now (the tuples are immutable: later events do not show)."""
        if len(self._segments) == 1:
            return list(self._segments[0].rows.values())
        return [row for segment in self._segments for row in segment.rows.values()]

    def segments(self) -> list[Segment]:
        return list(self._segments)


def _tail(segments: list[Segment]) -> Segment:
    if not segments or len(segments[-1].rows) >= SEGMENT:
        segments.append(Segment())
    return segments[-1]
