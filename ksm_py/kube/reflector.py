"""List/watch one (resource, namespace) into stores, like client-go's reflector.

Paginated LIST, then WATCH from the list's resourceVersion with bookmarks; events are applied in
stream order and the resourceVersion is tracked (bookmarks included).  410 Gone / an expired
continue token means a fresh LIST that *replaces* the stores, so objects deleted while the
watch was down disappear.  Other errors back off exponentially with jitter.  A malformed event
or object is logged and counted and the watch goes on.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import re
import threading
import time
from typing import Any, Callable, ContextManager, Iterable, Iterator, Protocol

import orjson

from ..body import Body
from ..shape import Decoders
from ..sinks import Sink
from .client import ACCEPT_JSON, ACCEPT_METADATA, ACCEPT_METADATA_LIST, ApiError, ApiResource, StreamIdle

logger = logging.getLogger(__name__)



class Source(Protocol):
    """The two API verbs a reflector needs (``KubeClient`` implements them)."""

    def get(self, path: str, params: dict[str, Any] | None = None, *, accept: str = ..., timeout: float = ...) -> bytes: ...
    def stream_lines(self, path: str, params: dict[str, Any], *, accept: str = ..., read_timeout: float = ...) -> Iterator[bytes]: ...


class Gone(Exception):
    """The resourceVersion (or continue token) is too old: list again."""


class ReflectorStats(Protocol):
    """What a reflector reports; the counting moments are kube-state-metrics' (pkg/watch)."""

    def list_request(self, resource: str, ok: bool) -> None:
        """One LIST request (one page) answered or failed: upstream's List call."""
    def list_done(self, resource: str, ok: bool, objects: int) -> None:
        """A whole list (every page) committed to the stores, or given up."""
    def watch_request(self, resource: str, ok: bool) -> None:
        """A WATCH request accepted by the API server (the stream is open) or refused: upstream's Watch call."""
    def watch_closed(self, resource: str, reason: str) -> None:
        """An open watch stream ended: closed (by the server, at its timeoutSeconds), expired, stalled, error."""
    def event(self, resource: str, kind: str) -> None: ...
    def bad_input(self, resource: str, reason: str) -> None: ...
    def error(self, resource: str, status: str) -> None: ...


class NullStats:
    def list_request(self, resource: str, ok: bool) -> None: ...
    def list_done(self, resource: str, ok: bool, objects: int) -> None: ...
    def watch_request(self, resource: str, ok: bool) -> None: ...
    def watch_closed(self, resource: str, reason: str) -> None: ...
    def event(self, resource: str, kind: str) -> None: ...
    def bad_input(self, resource: str, reason: str) -> None: ...
    def error(self, resource: str, status: str) -> None: ...


@dataclasses.dataclass
class ReflectorSettings:
    page_size: int = 500
    # Server-side watch timeout is random in [min, 2*min), like client-go, to spread reconnects.
    min_watch_timeout: int = 300
    # A watch is stalled when no byte came for longer than its own timeoutSeconds plus this grace.
    # The API server always ends a watch at its timeoutSeconds (measured on 1.37: within 0.1 s), but
    # promises no bookmark before that: the cacher sends the minutely bookmark only once its
    # resourceVersion passed the watch's, which for a quiet resource can take until etcd's progress
    # notification (10 min by default) or the watch's end. So silence alone, shorter than the
    # timeout, is no sign of a dead stream (bench/watch_quiet.py measures it: on the local 1.37 control
    # plane, 14 watches of 300 s ended at 300.0 s; bookmarks came every 60-61 s while etcd saw writes;
    # events.k8s.io events have no watch cache, hence no bookmark at all). Dead peers and paths are
    # found sooner by TCP keepalive (kube/client.py).
    stall_grace: float = 30.0
    # Test-only (KSM_PY_WATCH_READ_TIMEOUT): a fixed read timeout instead, to stall streams in seconds.
    read_timeout: float = 0.0
    backoff_initial: float = 0.8
    backoff_max: float = 30.0
    use_apiserver_cache: bool = False
    # --object-limit: list at most this many objects per resource (0 = no limit).
    object_limit: int = 0


# Objects rendered between two yields to the event loop (about 10 ms of work for pods).
YIELD_EVERY = 50


class _Pending:
    """A call running in its own (green) thread while the caller goes on; ``result()`` waits."""

    def __init__(self, fn: Callable[..., bytes], *args: Any) -> None:
        self._value: bytes = b""
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn, *args), daemon=True, name="list-prefetch")
        self._thread.start()

    def _run(self, fn: Callable[..., bytes], *args: Any) -> None:
        try:
            self._value = fn(*args)
        except BaseException as e:  # noqa: BLE001 - handed to the caller by result()
            self._error = e

    def result(self) -> bytes:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


class Backoff:
    def __init__(self, initial: float, maximum: float, rng: random.Random | None = None) -> None:
        self.initial, self.maximum = initial, maximum
        self.current = initial
        self.rng = rng or random.Random()

    def next(self) -> float:
        delay = self.current * (1 + self.rng.random())  # full jitter up to 2x
        self.current = min(self.maximum, self.current * 2)
        return min(delay, self.maximum)

    def reset(self) -> None:
        self.current = self.initial


def malformed(obj: Body) -> str:
    """Why an object cannot be tracked (empty when it can): metadata, name and uid must be sane."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return "metadata is not an object"
    if not isinstance(meta.get("name"), str) or not meta["name"]:
        return "metadata.name is missing or not a string"
    for key in ("namespace", "uid", "resourceVersion"):
        if key in meta and meta[key] is not None and not isinstance(meta[key], str):
            return f"metadata.{key} is not a string"
    return ""


def _describe(obj: Body) -> str:
    """An object for a log line: identity only, never annotations or data (Secrets)."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return "(no metadata)"
    return " ".join(f"{k}={str(meta[k])[:100]!r}" for k in ("namespace", "name", "uid") if meta.get(k) is not None)


def _api_message(e: ApiError) -> str:
    """The API server's own sentence (a Status' message) for an operator, or the HTTP reason."""
    body = getattr(e, "body", b"") or b""
    try:
        message = orjson.loads(body).get("message")
    except (orjson.JSONDecodeError, AttributeError):
        message = None
    return str(message)[:300] if message else str(e)


# ``,"managedFields":[`` as the API server writes it (compact JSON; it follows other metadata
# fields). It cannot occur inside a JSON string: its quotes would be escaped there.
_FIELD = b',"managedFields":['
# The whole array, strings matched whole (the fallback of ``without_managed_fields``): removed only
# when it holds no nested array.
_MANAGED_FIELDS = re.compile(re.escape(_FIELD) + rb'(?:[^\[\]"]++|"(?:[^"\\]++|\\.)*+")*+\]')


def without_managed_fields(raw: bytes) -> bytes:
    """``raw`` (a list page or a watch event) without the objects' metadata.managedFields: about
    40% of a pod's JSON as the API server sends it, and two thirds of the time orjson takes to
    parse it (every field a manager owns is a small object). Parsed, the rest is the same.

    The regex alone cost as much as it saved (34 µs per pod of the bench, every string of the
    field tokenised by ``re``), so the end of each array is first looked for with bytes methods:
    the array's first ``]`` closes it when no ``[`` comes before it and it stands outside every
    string, i.e. after an even number of quotes (with no ``\\\\`` in between, a quote is
    escaped exactly when a backslash precedes it). Otherwise (a bracket inside a string) the
    regex decides, as before."""
    if _FIELD not in raw:
        return raw
    find, count = raw.find, raw.count
    pieces: list[bytes] = []
    kept = 0  # raw[:kept] is decided
    at = find(_FIELD)
    while at >= 0:
        content = at + len(_FIELD)
        end = find(b"]", content)
        if end < 0:
            break
        if (find(b"[", content, end) < 0 and find(b"\\\\", content, end) < 0
                and (count(b'"', content, end) - count(b'\\"', content, end)) % 2 == 0):
            pieces.append(raw[kept:at])
            kept = end + 1
        elif match := _MANAGED_FIELDS.match(raw, at):
            pieces.append(raw[kept:at])
            kept = match.end()
            end = kept - 1
        else:
            end = content - 1  # not the field's whole array: left as it is
        at = find(_FIELD, end + 1)
    if not pieces:
        return raw
    pieces.append(raw[kept:])
    return b"".join(pieces)


def parse_event(line: bytes, drop_managed_fields: bool = False, decoders: Decoders | None = None) -> tuple[str, Body]:
    event = decoders.event(line) if decoders is not None else None
    if event is None:
        event = orjson.loads(without_managed_fields(line) if drop_managed_fields else line)
    if not isinstance(event, dict):
        raise ValueError("event is not an object")
    kind, obj = event.get("type"), event.get("object")
    if not isinstance(kind, str) or not isinstance(obj, dict):
        raise ValueError("event without type or object")
    return kind, obj


class Reflector:
    def __init__(
        self,
        source: Source,
        api: ApiResource,
        sinks: list[Sink],
        *,
        name: str,
        namespace: str | None = None,
        field_selector: str = "",
        metadata_only: bool = False,
        drop_managed_fields: bool = False,
        decoders: Decoders | None = None,
        keep: Callable[[Body], bool] | None = None,
        settings: ReflectorSettings | None = None,
        stats: ReflectorStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
        cooperate: Callable[[], None] = lambda: time.sleep(0),
        stored: Callable[[int], None] = lambda n: None,
        page_lock: ContextManager[Any] | None = None,
    ) -> None:
        self.source = source
        self.api = api
        self.sinks = sinks
        self.name = name
        self.namespace = namespace
        self.field_selector = field_selector
        self.metadata_only = metadata_only
        self.drop_managed_fields = drop_managed_fields
        # Parse only the fields the sinks read (None: whole objects).
        self.decoders = decoders
        self.keep = keep
        self.settings = settings or ReflectorSettings()
        self.stats: ReflectorStats = stats or NullStats()
        self.sleep = sleep
        # Called between slices of CPU-bound work (rendering a page, a backlog of events) so the
        # rest of the process runs meanwhile; the exporter passes gevent.idle, which resumes only
        # once pending I/O (/healthz, scrapes, other watches) has been served.
        self.cooperate = cooperate
        # Told how many objects went to the sinks, once the page or event they came from is freed:
        # the exporter collects the young GC generation there (runtime.YoungCollector).
        self.stored = stored
        # Held while a parsed LIST page is alive. The exporter gives every reflector the same lock:
        # one page of about 100,000 dicts and lists at a time in the process (rendering is one
        # thread's work anyway), so a young collection between pages traces no page in flight.
        self.page_lock: ContextManager[Any] = page_lock if page_lock is not None else threading.Lock()
        self.resource_version = ""
        self.synced = False
        # When the store was last known current: list committed, watch (re)established, event or bookmark.
        self.last_sync = 0.0
        # True while a watch stream is open (the API server accepted it and it has not failed yet).
        self.watching = False
        self._accepted = False  # the last watch was accepted by the API server
        self._read_timeout = self.settings.read_timeout
        self.last_error = ""
        # Why the API server refuses this list/watch (401/403), while it does; "" once it allows it.
        self.forbidden = ""
        self._stopped = False
        self._rng = random.Random()

    def stop(self) -> None:
        self._stopped = True

    # -- the loop -----------------------------------------------------------------------------
    def run(self, iterations: int | None = None) -> None:
        """List and watch until stopped (``iterations`` bounds list+watch rounds, for tests)."""
        backoff = Backoff(self.settings.backoff_initial, self.settings.backoff_max, self._rng)
        rounds = 0
        while not self._stopped and (iterations is None or rounds < iterations):
            rounds += 1
            try:
                if not self.resource_version:
                    self.list()
                    backoff.reset()
                    self.forbidden = ""
                self.watch()
                backoff.reset()
            except Gone:
                # Not an error: resuming from a resourceVersion etcd has compacted is the normal end of
                # a quiet watch without bookmarks (events have no watch cache); a relist follows.
                logger.info("%s: resourceVersion %s expired, listing again", self.name, self.resource_version)
                self.resource_version = ""
            except StreamIdle:
                # The server should have ended the stream by now (its timeoutSeconds passed): the
                # connection is stalled. Resume from the last resourceVersion right away (the timeout
                # itself paces the attempts).
                self.stats.error(self.name, "StreamIdle")
                logger.warning("%s: no bytes on the watch for %.0fs, past its timeoutSeconds: the stream is "
                               "stalled, reconnecting", self.name, self._read_timeout)
            except Exception as e:  # noqa: BLE001 - every failure is retried with backoff
                status = str(e.status) if isinstance(e, ApiError) else type(e).__name__
                self.last_error = str(e)
                self.stats.error(self.name, status)
                if self._accepted:
                    # A watch that worked and then broke (connection cut) is a first failure, not
                    # the next one of a series: otherwise cuts hours apart add up to the 30 s cap.
                    backoff.reset()
                    self._accepted = False
                delay = backoff.next()
                if isinstance(e, ApiError) and e.status in (401, 403):
                    self.forbidden = f"{e.status} {_api_message(e)}"
                    logger.error("%s: forbidden (HTTP %s); check the RBAC rules of this identity: it needs list and "
                                 "watch on %s (API group %r); not updated until then, retrying in %.1fs", self.name,
                                 self.forbidden, self.api.plural, self.api.group, delay)
                else:
                    logger.warning("%s: %s; retrying in %.1fs", self.name, e, delay)
                self.sleep(delay)

    def _params(self) -> dict[str, Any]:
        return {"fieldSelector": self.field_selector} if self.field_selector else {}

    def _get_page(self, path: str, params: dict[str, Any], accept: str) -> bytes:
        try:
            page = self.source.get(path, params, accept=accept)
        except ApiError as e:
            self.stats.list_request(self.name, False)
            if e.status == 410:
                # An expired continue token: this list failed and starts over.
                self.stats.error(self.name, "410")
                raise Gone() from e
            raise
        except Exception:
            self.stats.list_request(self.name, False)
            raise
        self.stats.list_request(self.name, True)
        return page

    def list(self) -> None:
        path = self.api.path(self.namespace)
        accept = ACCEPT_METADATA_LIST if self.metadata_only else ACCEPT_JSON
        replacements = [s.replacement() for s in self.sinks]
        count = 0
        resource_version = ""
        # With --object-limit the next page's size depends on what this one kept: no prefetch.
        prefetch = not self.settings.object_limit
        next_page: _Pending | None = None
        try:
            raw = self._get_page(path, self._page_params("", 0), accept)
            while True:
                with self.page_lock:
                    page = self._parse_page(raw)
                    del raw
                    meta = page.get("metadata") or {}
                    resource_version = meta.get("resourceVersion") or resource_version
                    cont = meta.get("continue") or ""
                    if cont and prefetch:
                        # The API server makes the next page while this one is parsed and rendered.
                        next_page = _Pending(self._get_page, path, self._page_params(cont, count), accept)
                    page_count = 0
                    for n, obj in enumerate(page.get("items") or [], 1):
                        if n % YIELD_EVERY == 0:
                            self.cooperate()
                        if not isinstance(obj, dict) or malformed(obj):
                            self._skip(obj if isinstance(obj, dict) else {}, "item is not an object"
                                       if not isinstance(obj, dict) else malformed(obj))
                            continue
                        if self.keep is not None and not self.keep(obj):
                            continue
                        for r in replacements:
                            self._guard(r.add, obj)
                        page_count += 1
                    count += page_count
                    # Nothing of the page may stay alive for the collection (the loop's last item neither).
                    del page
                    obj = None
                self.stored(page_count)
                self.cooperate()
                if not cont or (self.settings.object_limit and count >= self.settings.object_limit):
                    break
                if next_page is not None:
                    raw, next_page = next_page.result(), None
                else:
                    raw = self._get_page(path, self._page_params(cont, count), accept)
        except Exception:
            # A page still being fetched finishes in its thread and is dropped.
            self.stats.list_done(self.name, False, count)
            raise
        for r in replacements:
            r.commit()
        self.resource_version = resource_version
        self.synced = True
        self.last_sync = time.time()
        self.stats.list_done(self.name, True, count)
        logger.info("%s: listed %d objects at resourceVersion %s", self.name, count, resource_version)

    def _parse_page(self, raw: bytes) -> Any:
        page = self.decoders.page(raw) if self.decoders is not None else None
        if page is None:  # whole objects, or a page the shape does not fit: parsed whole
            page = orjson.loads(without_managed_fields(raw) if self.drop_managed_fields else raw)
        return page

    def _page_params(self, cont: str, count: int) -> dict[str, Any]:
        limit = self.settings.page_size
        if self.settings.object_limit:
            limit = min(limit, self.settings.object_limit - count)
        params = {**self._params(), "limit": limit, "continue": cont}
        if self.settings.use_apiserver_cache and not cont:
            params["resourceVersion"] = "0"
        return params

    def watch(self) -> None:
        timeout = self._rng.randint(self.settings.min_watch_timeout, 2 * self.settings.min_watch_timeout - 1)
        params = {
            **self._params(), "watch": "1", "resourceVersion": self.resource_version,
            "allowWatchBookmarks": "true", "timeoutSeconds": timeout,
        }
        accept = ACCEPT_METADATA if self.metadata_only else ACCEPT_JSON
        self._read_timeout = self.settings.read_timeout or timeout + self.settings.stall_grace
        self._accepted = False
        try:
            lines = self.source.stream_lines(self.api.path(self.namespace), params, accept=accept,
                                             read_timeout=self._read_timeout)
        except ApiError as e:
            self.stats.watch_request(self.name, False)
            if e.status == 410:
                raise Gone() from e
            raise
        except Exception:
            self.stats.watch_request(self.name, False)
            raise
        # Accepted: everything after resource_version will arrive on this stream. Counted now, as
        # upstream counts a Watch call, not when the stream ends minutes later.
        self.stats.watch_request(self.name, True)
        self.forbidden = ""
        self.watching = self._accepted = True
        self.last_sync = time.time()
        try:
            self.apply(lines)
        except Exception as e:
            self.watching = False
            self.stats.watch_closed(self.name, "expired" if isinstance(e, Gone) else
                                    "stalled" if isinstance(e, StreamIdle) else "error")
            raise
        finally:
            self.watching = False
        self.stats.watch_closed(self.name, "closed")

    def _skip(self, obj: Body, reason: str) -> None:
        self.stats.bad_input(self.name, reason)
        logger.warning("%s: skipping malformed object (%s): %s", self.name, reason, _describe(obj))

    def _guard(self, action: Callable[[Body], None], obj: Body) -> None:
        """A sink failing on one object must not end the watch (and cause a relist loop)."""
        try:
            action(obj)
        except Exception as e:  # noqa: BLE001
            self.stats.bad_input(self.name, "object rejected by a store")
            logger.exception("%s: a store failed on %s: %r", self.name, _describe(obj), e)

    def apply(self, lines: Iterable[bytes]) -> None:
        """Apply watch events in order; a malformed line is counted and skipped."""
        for n, line in enumerate(lines, 1):
            if n % YIELD_EVERY == 0:
                self.cooperate()  # a backlog of buffered events is read without blocking on the socket
            try:
                kind, obj = parse_event(line, self.drop_managed_fields, self.decoders)
            except ValueError as e:
                self.stats.bad_input(self.name, "malformed watch event")
                # Not the line itself: it may hold a Secret's data.
                logger.warning("%s: skipping malformed watch event (%s, %d bytes)", self.name, e, len(line))
                continue
            if kind == "ERROR":
                code = obj.get("code")
                if code == 410 or obj.get("reason") in ("Expired", "Gone"):
                    raise Gone()
                raise ApiError(int(code) if isinstance(code, int) else 500, str(obj.get("reason") or "ERROR"),
                               orjson.dumps(obj))
            rv = (obj.get("metadata") or {}).get("resourceVersion")
            self.stats.event(self.name, kind)
            if kind == "BOOKMARK":
                if rv:
                    self.resource_version = rv
                self.last_sync = time.time()
                continue
            if kind not in ("ADDED", "MODIFIED", "DELETED"):
                self.stats.bad_input(self.name, f"unknown event type {kind}")
                continue
            if kind != "DELETED" and malformed(obj):
                self._skip(obj, malformed(obj))
                continue
            if self.keep is not None and not self.keep(obj):
                # With sharding, an update can move an object out of this shard only via a new uid,
                # so skipping is enough.
                if rv:
                    self.resource_version = rv
                continue
            for sink in self.sinks:
                self._guard(sink.delete if kind == "DELETED" else sink.upsert, obj)
            del obj
            self.stored(1)
            if rv:
                self.resource_version = rv
            self.last_sync = time.time()
