"""The 1k preset of ``bench.scale`` end to end: both exporters measured, table and JSON written.

No thresholds on timings: the point is that the benchmark keeps working.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.scale import ROWS
from harness import build

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
METRICS = ("ready_s", "sync_cpu_s", "sync_peak_rss", "healthz_max_s", "steady_rss", "samples", "size_plain",
           "size_gzip", "plain_p50_s", "plain_p99_s", "gzip_p50_s", "gzip_p99_s", "churn_cpu_s", "w2m_p50_s",
           "w2m_p99_s", "rss_after_churn", "peak_rss")


def test_scale_bench_1k_preset(tmp_path: Path) -> None:
    missing = [c.name for c in build.COMPONENTS if not c.is_built()]
    if missing:
        reason = f"not built: {', '.join(missing)} (python -m harness build)"
        if os.environ.get("KSM_PY_REQUIRE_E2E"):
            pytest.fail(reason)
        pytest.skip(reason)
    results = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.scale", "--preset", "1k", "--runs", "1", "--results-dir", str(results),
         "--workdir", str(tmp_path / "cluster")],
        cwd=ROOT, capture_output=True, text=True, timeout=360, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr (tail):\n{proc.stderr[-4000:]}"

    lines = proc.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:4] == ["metric", "ksm-py", "upstream",
                                                                              "ksm-py/upstream"])
    rows = lines[header + 2:header + 2 + len(ROWS)]
    assert any(r.startswith("time to ready") for r in rows), proc.stdout
    for row in rows:
        assert "n/a" not in row, f"a column is empty: {row!r}\n{proc.stdout}"

    files = list(results.glob("1k-*.json"))
    assert len(files) == 1, files
    data = json.loads(files[0].read_text())
    assert data["cluster"]["pods"] == 1000
    for exporter in ("ksm-py", "upstream"):
        values = data["exporters"][exporter]
        for key in METRICS:
            assert isinstance(values.get(key), (int, float)) and values[key] >= 0, (exporter, key, values.get(key))
        assert values["series_by_kind"]["Pod"] == 1000
    # Same flags, same cluster: the same number of samples (the exporters are byte-compatible).
    assert data["exporters"]["ksm-py"]["samples"] == data["exporters"]["upstream"]["samples"]
