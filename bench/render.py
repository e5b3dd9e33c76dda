"""Offline rendering benchmark: realistic pods through the real render, store and exposition.

    python -m bench.render [--sizes 10000,50000] [--json out.json] [--profile]

For each size: parse LIST pages of 500 pods (as the reflector does: only the fields the pod
families read, ``ksm_py.shape``), render every pod
(``CompiledResource.render``), fill a ``MetricsStore``, then assemble /metrics (first scrape;
repeated; after 1 and 100 updates) plain and gzip.  Retained memory per pod is
measured with tracemalloc in a second pass.  Times are CPU time of this process
(``time.process_time``), so other load on the machine moves them less than wall time would.
Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import random
import sys
import time
import tracemalloc
from typing import Any, Callable, Iterator

import orjson

from ksm_py.builder import compile_resources
from ksm_py.exposition import ResourceWriter, gzip_stream, iter_exposition, iter_gzip
from ksm_py.families import RESOURCES
from ksm_py.options import Options
from ksm_py.shape import decoders
from ksm_py.store import CompiledResource, MetricsStore

from ._util import Progress, log, median, self_rss, table
from .objects import pod_as_listed

PAGE = 500
PODS_PER_NAMESPACE = 250
REPLICAS = 10
PODS_PER_NODE = 100


def pods(n: int, start: int = 0) -> Iterator[dict[str, Any]]:
    for seq in range(start, start + n):
        app_index = seq // REPLICAS
        yield pod_as_listed(f"ns-{seq // PODS_PER_NAMESPACE:04d}", f"app-{app_index:05d}", app_index,
                            seq % REPLICAS, f"kwok-node-{seq // PODS_PER_NODE}")


def list_pages(n: int) -> Iterator[bytes]:
    """PodList pages of ``PAGE`` items, serialised like the API server sends them."""
    for start in range(0, n, PAGE):
        items = list(pods(min(PAGE, n - start), start))
        yield orjson.dumps({"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "1"},
                            "items": items})


def pod_page(raw: bytes) -> dict[str, Any]:
    page = decoders(RESOURCES["pods"].reads or {}).page(raw)
    assert page is not None, "the pods' shape does not fit the bench's pages"
    return page


def pods_resource() -> CompiledResource:
    return compile_resources(Options(resources=["pods"]))[0]


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(best, median) seconds over ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t = time.process_time()
        result = fn()
        times.append(time.process_time() - t)
    return min(times), median(times), result


def bench_size(n: int, repeat: int, profile: bool) -> dict[str, Any]:
    compiled = pods_resource()
    store = MetricsStore(compiled)
    writer = [ResourceWriter(compiled, [store])]
    gc.collect()
    rss_before = self_rss()

    # Pass 1: timed parse + render + store fill, one page at a time (dicts dropped per page).
    parse_s = render_s = fill_s = 0.0
    page_bytes = 0
    replacement = store.replacement()
    progress = Progress(f"{n} pods: ingest", n)
    done = 0
    profiler = cProfile.Profile() if profile else None
    for page in list_pages(n):
        page_bytes += len(page)
        t0 = time.process_time()
        items = pod_page(page)["items"]  # what the reflector parses
        t1 = time.process_time()
        if profiler:
            profiler.enable()
        for obj in items:
            compiled.render(obj)
        t2 = time.process_time()
        for obj in items:
            replacement.add(obj)  # renders again and keeps the chunks under the object's key
        t3 = time.process_time()
        if profiler:
            profiler.disable()
        parse_s += t1 - t0
        render_s += t2 - t1
        fill_s += t3 - t2
        done += len(items)
        del items
        progress.update(done)
    replacement.commit()
    progress.close()
    gc.collect()
    rss_delta = self_rss() - rss_before
    if profiler:
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(25)
        stats.sort_stats("tottime").print_stats(25)

    log(f"{n} pods: assembling /metrics")

    def scrape() -> int:
        # What the server does with the pieces, short of writing them to the socket.
        return sum(len(piece) for piece in iter_exposition(writer))
    cold_s, _, _ = best(scrape, 1)
    warm_best, warm_med, size = best(scrape, repeat)
    lines = headers = 0
    for piece in iter_exposition(writer):
        lines += piece.count(b"\n")
        headers += piece.count(b"\n# ") + piece.startswith(b"# ")

    rng = random.Random(1)
    updates = Updates(rng, n)

    def after_updates(k: int, assemble: Callable[[], int]) -> Callable[[], int]:
        def run() -> int:
            for obj in updates.next(k):
                store.upsert(obj)
            return assemble()
        return run
    upd1_best, upd1_med, _ = best(after_updates(1, scrape), repeat)
    upd100_best, upd100_med, _ = best(after_updates(100, scrape), repeat)

    log(f"{n} pods: gzip")

    def gzip_scrape() -> int:
        # What the server sends for Accept-Encoding: gzip (members kept between scrapes).
        return sum(len(piece) for piece in iter_gzip(writer))
    gz_cold, _, gz_size = best(gzip_scrape, 1)
    gz_best, gz_med, _ = best(gzip_scrape, repeat)
    gz_upd_best, gz_upd_med, _ = best(after_updates(100, gzip_scrape), repeat)
    one_best, _, one_size = best(lambda: sum(len(p) for p in gzip_stream(iter_exposition(writer))),
                                 max(1, repeat // 2))

    mb = size / 1e6
    return {
        "pods": n, "list_page_bytes_per_pod": page_bytes / n,
        "parse_us_per_pod": parse_s / n * 1e6, "render_us_per_pod": render_s / n * 1e6,
        "store_add_us_per_pod": fill_s / n * 1e6,
        "ingest_pods_per_s": n / (parse_s + fill_s),
        "body_bytes": size, "sample_lines": lines - headers, "lines_per_pod": (lines - headers) / n,
        "bytes_per_line": size / max(1, lines),
        "assembly_cold_s": cold_s, "assembly_warm_s": warm_best, "assembly_warm_median_s": warm_med,
        "assembly_warm_MBps": mb / warm_best,
        "assembly_after_1_update_s": upd1_best, "assembly_after_100_updates_s": upd100_best,
        "assembly_after_100_updates_median_s": upd100_med, "assembly_after_1_update_median_s": upd1_med,
        "gzip_cold_s": gz_cold, "gzip_warm_s": gz_best, "gzip_warm_median_s": gz_med,
        "gzip_after_100_updates_s": gz_upd_best, "gzip_after_100_updates_median_s": gz_upd_med,
        "gzip_cold_MBps": mb / gz_cold, "gzip_bytes": gz_size, "gzip_ratio": size / gz_size,
        "gzip_one_member_s": one_best, "gzip_one_member_bytes": one_size,
        "body_bytes_per_pod": size / n, "rss_delta_bytes_per_pod": rss_delta / n,
    }


class Updates:
    """Pods of the store as a watch would send them again: each update restarts a container (a
    new resourceVersion and restart count), so it changes what the pod renders, as churn does."""

    def __init__(self, rng: random.Random, n: int) -> None:
        self.pods = list(pods(200, rng.randrange(0, max(1, n - 200))))
        self.rng = rng
        self.count = 0

    def next(self, k: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(k):
            self.count += 1
            pod = self.rng.choice(self.pods)
            pod["metadata"]["resourceVersion"] = str(10_000_000 + self.count)
            pod["status"]["containerStatuses"][0]["restartCount"] += 1
            out.append(pod)
        return out


def held_per_pod(n: int) -> float:
    """Bytes retained per pod by a filled store and the gzip members of one gzip scrape
    (tracemalloc counts only allocations made here)."""
    compiled = pods_resource()
    gc.collect()
    store = MetricsStore(compiled)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    rep = store.replacement()
    progress = Progress(f"{n} pods: memory", n)
    done = 0
    for page in list_pages(n):
        items = pod_page(page)["items"]
        for obj in items:
            rep.add(obj)
        done += len(items)
        del items
        progress.update(done)
    rep.commit()
    progress.close()
    for _ in iter_gzip([ResourceWriter(compiled, [store])]):
        pass
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return held / n


ROWS: list[tuple[str, str, Callable[[float], str]]] = [
    ("LIST JSON per pod", "list_page_bytes_per_pod", lambda v: f"{v / 1024:.1f} KiB"),
    ("parse (the fields families read) per pod", "parse_us_per_pod", lambda v: f"{v:.1f} us"),
    ("render per pod", "render_us_per_pod", lambda v: f"{v:.1f} us"),
    ("store add (render+keep) per pod", "store_add_us_per_pod", lambda v: f"{v:.1f} us"),
    ("ingest rate (parse+add)", "ingest_pods_per_s", lambda v: f"{v:,.0f} pods/s"),
    ("sample lines per pod", "lines_per_pod", lambda v: f"{v:.1f}"),
    ("bytes per line", "bytes_per_line", lambda v: f"{v:.0f} B"),
    ("body size", "body_bytes", lambda v: f"{v / 1e6:.1f} MB"),
    ("assembly, first scrape", "assembly_cold_s", lambda v: f"{v * 1e3:.1f} ms"),
    ("assembly, repeated (best)", "assembly_warm_s", lambda v: f"{v * 1e3:.1f} ms"),
    ("assembly, repeated (MB/s)", "assembly_warm_MBps", lambda v: f"{v:,.0f} MB/s"),
    ("assembly after 1 update", "assembly_after_1_update_s", lambda v: f"{v * 1e3:.1f} ms"),
    ("assembly after 100 updates", "assembly_after_100_updates_s", lambda v: f"{v * 1e3:.1f} ms"),
    ("gzip, first scrape (cold)", "gzip_cold_s", lambda v: f"{v * 1e3:.1f} ms"),
    ("gzip, cold (MB/s of plain text)", "gzip_cold_MBps", lambda v: f"{v:,.0f} MB/s"),
    ("gzip, repeated (best)", "gzip_warm_s", lambda v: f"{v * 1e3:.1f} ms"),
    ("gzip after 100 updates", "gzip_after_100_updates_s", lambda v: f"{v * 1e3:.1f} ms"),
    ("gzip size / ratio", "gzip_bytes", lambda v: f"{v / 1e6:.1f} MB"),
    ("gzip as one member (best)", "gzip_one_member_s", lambda v: f"{v * 1e3:.1f} ms"),
    ("gzip as one member, size", "gzip_one_member_bytes", lambda v: f"{v / 1e6:.1f} MB"),
    ("plain body per pod", "body_bytes_per_pod", lambda v: f"{v / 1024:.2f} KiB"),
    ("held per pod (tracemalloc)", "held_bytes_per_pod", lambda v: f"{v / 1024:.2f} KiB"),
    ("held / plain body per pod", "held_over_body", lambda v: f"{v:.2f}"),
    ("held per pod (RSS delta)", "rss_delta_bytes_per_pod", lambda v: f"{v / 1024:.2f} KiB"),
]


def render_table(results: list[dict[str, Any]]) -> str:
    rows = []
    for label, key, fmt in ROWS:
        row = [label]
        for r in results:
            cell = fmt(r[key])
            if key == "gzip_bytes":
                cell += f" ({r['gzip_ratio']:.0f}x)"
            row.append(cell)
        rows.append(row)
    return table(["metric", *(f"{r['pods']:,} pods" for r in results)], rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.render", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,50000", help="comma-separated pod counts (default 10000,50000)")
    p.add_argument("--repeat", type=int, default=5, help="repetitions of each scrape assembly (best is reported)")
    p.add_argument("--json", help="also write the results as JSON to this file")
    p.add_argument("--profile", action="store_true", help="cProfile the render pass (printed on stderr)")
    args = p.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    results = []
    for n in sizes:
        log(f"benchmarking {n:,} pods")
        result = bench_size(n, args.repeat, args.profile)
        gc.collect()
        log(f"{n} pods: tracemalloc pass")
        result["held_bytes_per_pod"] = held_per_pod(n)
        result["held_over_body"] = result["held_bytes_per_pod"] / result["body_bytes_per_pod"]
        results.append(result)
        gc.collect()
    print(render_table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
