"""Assemble ``/metrics`` from the stores: resource order, header rules, negotiation, gzip."""

from __future__ import annotations

import dataclasses
import zlib
from operator import itemgetter
from typing import Iterable, Iterator, Sequence

from .store import CompiledResource, MetricsStore, Segment

CONTENT_TYPE_TEXT = "text/plain; version=0.0.4; charset=utf-8"
_OM_ESCAPING = ("allow-utf-8", "underscores", "dots", "values")


@dataclasses.dataclass
class ResourceWriter:
    """All stores of one resource (one per namespace given in ``--namespaces``, in flag order)."""

    compiled: CompiledResource
    stores: list[MetricsStore]

    @property
    def name(self) -> str:
        return self.compiled.name

    def __len__(self) -> int:
        return sum(len(s) for s in self.stores)


@dataclasses.dataclass(frozen=True)
class Format:
    openmetrics: bool
    content_type: str


TEXT = Format(False, CONTENT_TYPE_TEXT)


def negotiate(accept: str | None) -> Format:
    """prometheus/common ``NegotiateIncludingOpenMetrics`` as KSM uses it: OpenMetrics only when it
    is the first acceptable clause after sorting by q; anything else (protobuf too) is text."""
    if not accept:
        return TEXT
    clauses = []
    for position, raw in enumerate(accept.split(",")):
        parts = [p.strip() for p in raw.split(";")]
        media = parts[0].lower()
        params: dict[str, str] = {}
        for p in parts[1:]:
            if "=" in p:
                k, v = p.split("=", 1)
                params[k.strip().lower()] = v.strip().strip('"')
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            q = 0.0
        # Sort by q descending; concrete types before wildcards; then header order.
        clauses.append((-q, media.endswith("*"), position, media, params))
    clauses.sort(key=lambda c: c[:3])
    for _, _, _, media, params in clauses:
        if media == "application/vnd.google.protobuf" and params.get("proto") == "io.prometheus.client.MetricFamily":
            return TEXT  # KSM does not serve protobuf and falls back to text.
        if media == "text/plain" and params.get("version", "0.0.4") == "0.0.4":
            return TEXT
        if media == "application/openmetrics-text" and params.get("version", "") in ("", "0.0.1", "1.0.0"):
            version = "1.0.0" if params.get("version") == "1.0.0" else "0.0.1"
            escaping = params.get("escaping", "underscores")
            if escaping not in _OM_ESCAPING:
                escaping = "underscores"
            return Format(True, f"application/openmetrics-text; version={version}; charset=utf-8; escaping={escaping}")
    return TEXT


def select(writers: Sequence[ResourceWriter], include: Iterable[str] = (), exclude: Iterable[str] = ()) -> list[ResourceWriter]:
    """``?resources=`` (allowlist) and ``?exclude_resources=`` (denylist, wins) query filters."""
    inc = {r for r in include if r}
    exc = {r for r in exclude if r}
    return [w for w in writers if (not inc or w.name in inc) and w.name not in exc]


# Size of the pieces a family is joined into.  Below runtime.MMAP_THRESHOLD, so glibc serves
# them from the heap and reuses the same memory piece after piece: joining a 20 MB family in
# one block costs a fresh mmap(), its page faults and munmap() every scrape (3x slower), and
# keeping such blocks cached costs a second copy of the response.
PIECE = 256 * 1024


def _pieces(column: tuple[bytes, ...], header: bytes) -> Iterator[bytes]:
    """One family's samples (``column``: a chunk per object), ``header`` first, in about ``PIECE`` bytes."""
    total = sum(map(len, column))
    if total + len(header) <= PIECE:
        yield b"".join((header, *column))
        return
    step = max(1, len(column) * PIECE // total)
    for start in range(0, len(column), step):
        piece = b"".join(column[start:start + step])
        yield header + piece if start == 0 and header else piece


def iter_exposition(writers: Sequence[ResourceWriter], fmt: Format = TEXT) -> Iterator[bytes]:
    """Yield the body in pieces: per resource, per family, header then every store's samples."""
    seen_headers: set[str] = set()
    for writer in writers:
        # Snapshot every store first so all families of a resource come from one state.
        rows = [row for store in writer.stores for row in store.snapshot()]
        if not rows:
            continue
        headers = writer.compiled.headers_openmetrics if fmt.openmetrics else writer.compiled.headers_text
        # zip(*rows) makes one family's column at a time: only that family is in memory at once.
        for i, (family, column) in enumerate(zip(writer.compiled.families, zip(*rows, strict=True), strict=True)):
            header = b""
            if family.name not in seen_headers:
                seen_headers.add(family.name)
                header = headers[i]
            yield from _pieces(column, header)
    if fmt.openmetrics:
        yield b"# EOF\n"


def render_body(writers: Sequence[ResourceWriter], fmt: Format = TEXT) -> bytes:
    return b"".join(iter_exposition(writers, fmt))


# Input compressed between two pieces of output: a few ms of zlib level 1, so the server can
# yield to the event loop that often even while one family of tens of MB is compressed.
GZIP_SLICE = 1 << 20


def gzip_stream(chunks: Iterable[bytes], level: int = 1) -> Iterator[bytes]:
    """Compress a chunk stream into one gzip member.  Yields after every ``GZIP_SLICE`` bytes of
    input, ``b""`` when zlib has not emitted anything yet (a point where the caller may pause)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    buffered: list[bytes] = []
    consumed = 0
    for chunk in chunks:
        view = memoryview(chunk)
        for start in range(0, len(view), GZIP_SLICE):
            piece = view[start:start + GZIP_SLICE]
            out = compressor.compress(piece)
            if out:
                buffered.append(out)
            consumed += len(piece)
            if consumed >= GZIP_SLICE:
                yield b"".join(buffered)
                buffered, consumed = [], 0
    buffered.append(compressor.flush())
    yield b"".join(buffered)


def gzip_member(data: bytes, level: int = 1) -> bytes:
    """``data`` as one complete gzip member (``b""`` for none): a body may be many members in a
    row, which every gzip reader (Go's, Prometheus', Python's, curl's) decodes as their concatenation."""
    return zlib.compress(data, level, 31) if data else b""


# Compressed output gathered before it is handed to the server: each piece is one write (and one
# pause for the event loop), so thousands of small cached members go out in a few writes.
GZIP_PIECE = 256 * 1024


def iter_gzip(writers: Sequence[ResourceWriter], fmt: Format = TEXT) -> Iterator[bytes]:
    """The body of ``iter_exposition`` gzip-compressed, from members kept between scrapes.

    Each (segment of objects, family) column is one gzip member, compressed on the first gzip
    scrape and kept in the segment until an update changes that column; headers are members
    made once.  A scrape after nothing changed only concatenates members; after updates it
    compresses only the members they touched.  Yields pieces of about ``GZIP_PIECE`` bytes, and
    ``b""`` after every ``GZIP_SLICE`` bytes of text compressed (a point where the caller may pause)."""
    seen_headers: set[str] = set()
    out: list[bytes] = []
    size = compressed = 0
    for writer in writers:
        # Every segment's rows and members as of now, so all families of a resource come from one
        # state: updates during the scrape replace a segment's members list, never change it.
        state: list[tuple[Segment, list[bytes | None], list[tuple[bytes, ...]] | None]] = []
        families = len(writer.compiled.families)
        for store in writer.stores:
            for segment in store.segments():
                members = segment.members
                if members is None:
                    members = segment.members = [None] * families
                rows = list(segment.rows.values()) if None in members else None
                state.append((segment, members, rows))
        if not state:
            continue
        headers = writer.compiled.gzip_headers(fmt.openmetrics)
        for i, family in enumerate(writer.compiled.families):
            if family.name not in seen_headers:
                seen_headers.add(family.name)
                out.append(headers[i])
                size += len(headers[i])
            for _, members, rows in state:
                member = members[i]
                if member is None:
                    assert rows is not None
                    text = b"".join(map(itemgetter(i), rows))
                    member = gzip_member(text)
                    members[i] = member
                    compressed += len(text)
                if member:
                    out.append(member)
                    size += len(member)
                if size >= GZIP_PIECE:
                    yield b"".join(out)
                    out, size = [], 0
                elif compressed >= GZIP_SLICE:
                    yield b""
                if compressed >= GZIP_SLICE:
                    compressed = 0
    if fmt.openmetrics:
        out.append(gzip_member(b"# EOF\n"))
    if out:
        yield b"".join(out)


def wants_gzip(accept_encoding: str | None) -> bool:
    """KSM: the first ``Accept-Encoding`` part equal to ``gzip`` or starting ``gzip;`` (q ignored)."""
    for part in (accept_encoding or "").split(","):
        part = part.strip()
        if part == "gzip" or part.startswith("gzip;"):
            return True
    return False
