"""glibc keeps the RSS of a scrape's big transient blocks unless its mmap threshold is fixed."""

from __future__ import annotations

import subprocess
import sys

import pytest

# A scrape in small: big joined blocks come and go while small long-lived objects are made.
SCRAPES = """
import os, sys
if sys.argv[1] == "fixed":
    from ksm_py.runtime import fix_malloc_thresholds
    assert fix_malloc_thresholds()
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
keep = []
base = rss()
for _ in range(20):
    for size in (1 << 20, 4 << 20, 16 << 20, 8 << 20, 2 << 20):
        block = b"x" * size
        keep.append(b"y" * 200)
        del block
print(rss() - base)
"""


def grown_by(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", SCRAPES, mode], capture_output=True, text=True, check=True)
    return int(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_big_transient_blocks_are_given_back_with_fixed_thresholds() -> None:
    from ksm_py.runtime import MMAP_THRESHOLD

    default, fixed = grown_by("default"), grown_by("fixed")
    # Blocks below the mmap threshold (here the 1 and 2 MiB ones) may stay in the heap for reuse,
    # so the fixed process keeps at most one such block, never the 16 MiB ones.
    assert fixed < MMAP_THRESHOLD, fixed
    # The default dynamic threshold keeps them (what the fix is for).
    assert default > 8 << 20, default
    assert default > 4 * fixed, (default, fixed)


def test_parsing_list_pages_triggers_no_full_collection_after_tune_gc() -> None:
    import gc

    import orjson

    from ksm_py import runtime

    pod = {"metadata": {"name": "p", "labels": {"a": "b"}, "ownerReferences": [{"kind": "ReplicaSet"}]},
           "spec": {"containers": [{"name": c, "resources": {"requests": {"cpu": "1"}}, "ports": [{}]}
                                   for c in ("a", "b")]},
           "status": {"conditions": [{"type": t} for t in "abcd"], "containerStatuses": [{"state": {}}, {}]}}
    page = orjson.dumps({"items": [pod] * 500})
    collections: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    def parse_pages() -> list[int]:
        collections.clear()
        gc.callbacks.append(count)
        try:
            for _ in range(40):
                # What the reflector does with a page: everything lives until it is rendered.
                items = orjson.loads(page)["items"]
                assert len(items) == 500
                del items
        finally:
            gc.callbacks.remove(count)
        return list(collections)

    saved = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        default = parse_pages()
        runtime.tune_gc()
        assert gc.get_threshold() == runtime.GC_THRESHOLDS and gc.get_freeze_count() > 0
        tuned = parse_pages()
    finally:
        gc.unfreeze()
        gc.set_threshold(*saved)
    assert default.count(2) > 0 and len(default) > 100, "the default thresholds trace every page"
    assert tuned.count(2) == 0 and len(tuned) <= 2, tuned


def test_young_collector_stops_tracking_stored_chunk_tuples_in_small_steps() -> None:
    import gc

    from ksm_py.runtime import YoungCollector

    enabled = gc.isenabled()
    gc.disable()  # only the collector under test collects
    try:
        collect = YoungCollector(every=100)
        # What a store keeps per object: a tuple of its families' chunks (tracked when made).
        rows = [tuple(b"chunk %d" % i for i in range(k, k + 59)) for k in range(99)]
        assert all(gc.is_tracked(r) for r in rows)
        collect(99)
        assert all(gc.is_tracked(r) for r in rows), "no collection before `every` objects were stored"
        collect(1)
        assert not any(gc.is_tracked(r) for r in rows), "a young collection untracks tuples of bytes"
        assert collect.pending == 0

        busy = [True]
        collect = YoungCollector(every=10, busy=lambda: busy[0])
        rows = [tuple(b"chunk %d" % i for i in range(k, k + 59)) for k in range(20)]
        collect(20)
        assert all(gc.is_tracked(r) for r in rows), "no collection while a page is in flight"
        busy[0] = False
        collect(1)
        assert not any(gc.is_tracked(r) for r in rows) and collect.pending == 0
    finally:
        if enabled:
            gc.enable()
