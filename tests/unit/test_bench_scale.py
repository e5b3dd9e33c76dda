"""The pure parts of ``bench.scale``'s sharded mode: the per-shard table, the union check and the
series fingerprint (the runs themselves are e2e: tests/e2e/test_bench_smoke.py)."""

from __future__ import annotations

import re
from typing import Any

from bench.scale import (
    ROWS,
    SHARD_AGG,
    LineCounter,
    expected_per_shard,
    series_fingerprint,
    shard_total,
    sharded_table,
    union_check,
)
from ksm_py.sharding import shard_of

BODY = (b'# HELP kube_pod_created Unix creation timestamp\n# TYPE kube_pod_created gauge\n'
        b'kube_pod_created{namespace="a",pod="p 1",uid="u1"} 1.7e+09\n'
        b'kube_pod_created{namespace="a",pod="p2",uid="u2"} 1.7e+09\n'
        b'# HELP kube_node_info Information\n# TYPE kube_node_info gauge\n'
        b'kube_node_info{node="n1"} 1\n')


def _run(shards: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {"exporters": {f"{group}/{i}": values for group, per in shards.items() for i, values in enumerate(per)}}


def test_every_row_says_how_shards_add_up() -> None:
    assert {key for _, key, _ in ROWS} == set(SHARD_AGG)


def test_shard_total_sums_resources_and_takes_the_slowest_time() -> None:
    run = _run({"ksm-py": [{"sync_cpu_s": 1.0, "ready_s": 2.0}, {"sync_cpu_s": 3.0, "ready_s": 5.0}]})
    assert shard_total(run, "ksm-py", 2, "sync_cpu_s") == 4.0
    assert shard_total(run, "ksm-py", 2, "ready_s") == 5.0
    # Only the shard holding the probe ConfigMap has watch-to-metric figures.
    run["exporters"]["ksm-py/1"]["w2m_p99_s"] = 0.2
    assert shard_total(run, "ksm-py", 2, "w2m_p99_s") == 0.2
    assert shard_total(run, "upstream", 2, "w2m_p99_s") is None


def test_sharded_table_has_a_column_per_shard_the_total_and_the_ratio() -> None:
    def shard(cpu: float, rss: int) -> dict[str, Any]:
        return {"sync_cpu_s": cpu, "sync_peak_rss": rss, "ready_s": cpu * 2}

    runs = [_run({"ksm-py": [shard(1.0, 2**20), shard(2.0, 2**20)], "upstream": [shard(2.0, 2**21), shard(3.0, 2**21)]}),
            _run({"ksm-py": [shard(1.5, 2**20), shard(2.5, 2**20)], "upstream": [shard(2.5, 2**21), shard(3.5, 2**21)]})]
    text, ratios = sharded_table(runs, 2)
    lines = text.splitlines()
    assert lines[0].split() == ["metric", "ksm-py", "0/2", "ksm-py", "1/2", "ksm-py", "all",
                                "upstream", "0/2", "upstream", "1/2", "upstream", "all", "ksm-py/upstream", "(all)"]
    cpu = next(line for line in lines if line.startswith("CPU for initial sync (s) [sum]"))
    # shard 0 of ksm-py: median of 1.0 and 1.5; all: sums 3.0 and 4.0; ratio per run 3/5 and 4/6.
    assert "1.25 [1.00-1.50]" in cpu and "3.50 [3.00-4.00]" in cpu and "0.63 [0.60-0.67]" in cpu
    assert ratios["sync_cpu_s"] == (3 / 5 + 4 / 6) / 2
    assert ratios["sync_peak_rss"] == 0.5
    ready = re.split(r"\s{2,}", next(line for line in lines if line.startswith("time to ready (s) [max]")))
    # The slowest shard's time: ksm-py's shard 1 (4.0 and 5.0), upstream's shard 1 (6.0 and 7.0).
    assert ready[1:4] == ["2.50 [2.00-3.00]", "4.50 [4.00-5.00]", "4.50 [4.00-5.00]"]
    assert ready[4:7] == ["4.50 [4.00-5.00]", "6.50 [6.00-7.00]", "6.50 [6.00-7.00]"]
    missing = next(line for line in lines if line.startswith("watch-to-metric p99"))
    assert "n/a" in missing and ratios["w2m_p99_s"] is None


def test_expected_per_shard_uses_the_exporters_assignment() -> None:
    uids = {"Pod": [f"uid-{i}" for i in range(300)], "Node": ["n-0", "n-1"]}
    per = expected_per_shard(uids, 3)
    assert [sum(p["Pod"] for p in per), sum(p["Node"] for p in per)] == [300, 2]
    assert per[shard_of("uid-7", 3)]["Pod"] == sum(1 for i in range(300) if shard_of(f"uid-{i}", 3) == shard_of("uid-7", 3))
    assert all(p["Pod"] > 50 for p in per)  # a spread, not one shard with everything


def _count(body: bytes, chunk: int) -> LineCounter:
    counter = LineCounter([b"kube_pod_created{"], fingerprint=True)
    for at in range(0, len(body), chunk):
        counter.feed(body[at:at + chunk])
    return counter


def test_fingerprint_is_the_same_however_the_body_is_chunked() -> None:
    whole = _count(BODY, len(BODY))
    assert whole.samples == 3 and whole.counts[b"kube_pod_created{"] == 2
    for chunk in (1, 7, 50):
        c = _count(BODY, chunk)
        assert (c.samples, c.fingerprint) == (whole.samples, whole.fingerprint), chunk
    # The value is not part of the series; a label is.
    assert _count(BODY.replace(b"} 1\n", b"} 0\n"), 9).fingerprint == whole.fingerprint
    assert _count(BODY.replace(b'node="n1"', b'node="n2"'), 9).fingerprint != whole.fingerprint


def test_union_check_accepts_a_partition_and_rejects_a_duplicate_or_a_gap() -> None:
    lines = BODY.split(b"\n")
    samples = [line for line in lines if line and not line.startswith(b"#")]
    ref = {"samples": 3, "fingerprint": series_fingerprint(samples)}
    reference = {"ksm-py": ref, "upstream": ref}

    def shards(*parts: list[bytes]) -> list[dict[str, Any]]:
        return [{"samples": len(p), "fingerprint": series_fingerprint(p)} for p in parts]

    good = _run({"ksm-py": shards(samples[:1], samples[1:]), "upstream": shards(samples[:2], samples[2:])})
    result = union_check(good, 2, reference)
    assert result["ksm-py"]["same_series"] and result["upstream"]["same_series"]
    assert result["ksm-py"]["shard_samples"] == [1, 2] and result["ksm-py"]["union_samples"] == 3
    # A series in two shards and another in none: the count still adds up, the fingerprint does not.
    swapped = _run({"ksm-py": shards(samples[:2], samples[1:2]), "upstream": shards(samples[:1], samples[2:])})
    result = union_check(swapped, 2, reference)
    assert not result["ksm-py"]["same_series"] and not result["upstream"]["same_series"]
