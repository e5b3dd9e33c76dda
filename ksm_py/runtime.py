"""Process-wide settings of the Python runtime and the C allocator, applied once at start-up.

A LIST page of 500 pods parses into about 100,000 dicts and lists that live until the page is
rendered.  With CPython's default GC thresholds (700, 10, 10) every page is traced several
times, promoted to the oldest generation and traced again in full collections: at 50,000 pods
that was 170 full collections, a third of the initial sync's CPU, with pauses up to 0.25 s.
Parsed objects hold no reference cycles, so reference counting frees them; the cyclic GC only
needs to run rarely.

Rarely, but not seldom: each stored object keeps a tuple of its families' chunks, which the
collector stops tracking (bytes cannot form cycles) only once a collection has looked at it.
Left to the thresholds, the first collection came at the end of a 50,000-pod sync and traced
170,000 such tuples at once: a 254 ms pause, the worst /healthz answer of the sync.  And since
freeing any object lowers the young generation's count, steady churn (each update replaces two
tuples by two) grows the young generation without ever reaching the threshold, for an even
longer pause later.  So the reflectors collect the young generation themselves, in small steps,
where no parsed page or event is alive (``YoungCollector``).
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import os
import sys
from typing import Any, Callable

# Net allocations of container objects between two young-generation collections: above what a
# few LIST pages in flight hold, so pages die by reference counting before any collection.
GC_THRESHOLDS = (200_000, 20, 10)

# Objects stored between two young-generation collections by the reflectors: one LIST page.
# Each collection then traces about this many new tuples (0.3-0.5 ms) and stops tracking them.
YOUNG_EVERY = 500

# glibc mallopt() parameters.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks from this size on are mmap()ed and given back when freed; smaller ones (the pieces of
# exposition.PIECE a scrape is made of) come from the heap and are reused piece after piece.
MMAP_THRESHOLD = 4 << 20
# Free memory at the top of the heap beyond this is given back to the system.
TRIM_THRESHOLD = 8 << 20


def gevent_plugins(paths: list[str] | None = None) -> dict[str, list[str]]:
    """``gevent.plugins.*`` entry points of the installed distributions: group -> ``module:attr``.

    Read from each ``*.dist-info``/``*.egg-info`` ``entry_points.txt`` on ``sys.path`` directly:
    ``importlib.metadata`` (its import and a scan of every distribution) costs 25 ms of CPU at
    every start, for the one or two plugins gevent itself declares."""
    plugins: dict[str, list[str]] = {}
    for entry in sys.path if paths is None else paths:
        directory = entry or "."
        try:
            names = os.listdir(directory)
        except OSError:
            continue  # a zip file, a missing directory
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            try:
                with open(os.path.join(directory, name, "entry_points.txt"), encoding="utf-8") as f:
                    text = f.read()
            except OSError:
                continue
            if "[gevent.plugins." not in text:
                continue
            group = ""
            for line in text.splitlines():
                line = line.strip()
                if line.startswith("[") and line.endswith("]"):
                    group = line[1:-1].strip()
                elif group.startswith("gevent.plugins.") and "=" in line and not line.startswith(("#", ";")):
                    value = line.partition("=")[2].strip()
                    if value not in plugins.setdefault(group, []):
                        plugins[group].append(value)
    return plugins


def _load(value: str) -> Any:
    """``module:attr.attr [extras]`` -> the object (what ``EntryPoint.load`` does)."""
    module, _, attrs = value.partition("[")[0].strip().partition(":")
    obj = importlib.import_module(module.strip())
    for attr in filter(None, attrs.strip().split(".")):
        obj = getattr(obj, attr)
    return obj


def look_up_gevent_plugins_once() -> None:
    """gevent's ``patch_all()`` looks for plugins (``gevent.plugins.*`` entry points) at each of
    its 25 events, and each look reads the metadata of every installed distribution: 0.1 s of CPU
    at every start. Read them once, before patching; plugins are still called as gevent would."""
    from gevent import events

    if not hasattr(events, "notify_and_call_entry_points"):
        return
    plugins = gevent_plugins()

    def notify_and_call_entry_points(event: Any) -> None:
        events.notify(event)
        for plugin in plugins.get(event.ENTRY_POINT_NAME, ()):
            _load(plugin)(event)

    events.notify_and_call_entry_points = notify_and_call_entry_points


def tune_gc(thresholds: tuple[int, int, int] = GC_THRESHOLDS) -> None:
    """Raise the collection thresholds and move everything allocated so far (modules, classes,
    the family tables) out of the collector's sight: it is never garbage. No collection first:
    it found about a hundred objects of garbage (import-time cycles) for 9-20 ms of every start."""
    gc.freeze()
    gc.set_threshold(*thresholds)


class YoungCollector:
    """Collects the young generation once ``every`` objects were stored since the last time.

    Called by the reflectors after each LIST page and each watch event, with the number of
    objects just stored. A collection then traces what was kept since the last one (the new
    chunk tuples, which it stops tracking): a few hundred nanoseconds per object, so no pause
    grows with the cluster. It waits while ``busy()`` (a parsed page of another reflector is
    alive): tracing a page in flight, 100,000 dicts and lists, is what the raised thresholds
    avoid (at 50,000 pods, collecting regardless made 50 collections of up to 140 ms)."""

    def __init__(self, every: int = YOUNG_EVERY, busy: Callable[[], bool] = lambda: False) -> None:
        self.every = every
        self.busy = busy
        self.pending = 0

    def __call__(self, stored: int) -> None:
        self.pending += stored
        if self.pending >= self.every and not self.busy():
            self.pending = 0
            gc.collect(0)


def fix_malloc_thresholds(mmap_threshold: int = MMAP_THRESHOLD, trim_threshold: int = TRIM_THRESHOLD) -> bool:
    """Fix glibc's mmap and trim thresholds, which by default rise as big blocks are freed: after
    a few scrapes every block up to 32 MB came from the heap and 64 MB of free heap were kept,
    fragmented among long-lived chunks (about 15% more steady RSS at 20,000 pods).  A no-op
    elsewhere than glibc."""
    try:
        # The process's own symbols, libc's among them (ctypes.util.find_library would run
        # ldconfig in a subprocess).
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(_M_TRIM_THRESHOLD, trim_threshold))


def memory_limit() -> tuple[int, str] | None:
    """The memory the process may use and where that figure comes from: the cgroup's limit (v2,
    then v1) or, without one, the system's memory (what upstream's automemlimit reads)."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError:
            continue
        # "max" (v2) or a page-rounded 2^63 (v1) means no limit.
        if text.isdigit() and int(text) < 1 << 62:
            return int(text), "cgroup"
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), "system"
    except (ValueError, OSError):
        return None


def auto_memory_limit(ratio: float) -> str:
    """``--auto-gomemlimit``: upstream sets Go's soft memory limit to ``ratio`` x the container's
    limit. CPython has no such limit to set, so nothing changes; the figure is reported."""
    found = memory_limit()
    if found is None:
        return "--auto-gomemlimit: no memory limit found; no Go runtime here, nothing to set"
    limit, source = found
    return (f"--auto-gomemlimit: {source} memory limit {limit} bytes x {ratio:g} = {int(limit * ratio)} bytes; "
            "GOMEMLIMIT has no equivalent in CPython, nothing is changed")
