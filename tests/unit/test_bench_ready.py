"""``bench.scale``'s readiness signals and CPU readings: upstream's "Caches populated" log lines, the
process-group CPU and the rows they fill (the runs themselves are e2e: tests/e2e/test_bench_smoke.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench._util import CLK_TCK, cpu_seconds, group_cpu_seconds, stat_fields
from bench.scale import UPSTREAM_SYNC_VMODULE, CacheSyncLog, Exporter, ReadySignal, klog_time, result_table

# What kube-state-metrics v2.20 with --vmodule=reflector=2 wrote in a run of the bench (shortened).
LOG = (b'I1204 10:32:35.060112   14364 server.go:223] "Used resources" resources=["pods","configmaps","nodes"]\n'
       b'I1204 10:32:35.071002   14364 builder.go:312] "Active resources" activeStoreNames="configmaps,nodes,pods"\n'
       b'I1204 10:32:35.080464   14364 reflector.go:507] "Caches populated" type="*v1.Node" '
       b'reflector="k8s.io/client-go@v0.36.3/tools/cache/reflector.go:343"\n'
       b'I1204 10:32:35.083324   14364 reflector.go:507] "Caches populated" type="*v1.ConfigMap" '
       b'reflector="k8s.io/client-go@v0.36.3/tools/cache/reflector.go:343"\n'
       b'I1204 10:32:35.331312   14364 reflector.go:507] "Caches populated" type="*v1.Pod" '
       b'reflector="k8s.io/client-go@v0.36.3/tools/cache/reflector.go:343"\n')


def _feed(log: CacheSyncLog, data: bytes, chunk: int) -> None:
    for at in range(0, len(data), chunk):
        log.feed(data[at:at + chunk])


def test_cache_sync_log_is_done_when_every_active_resource_is_populated() -> None:
    last = LOG.rfind(b"I1204")
    for chunk in (1, 13, len(LOG)):
        log = CacheSyncLog(year=2026)
        _feed(log, LOG[:last], chunk)
        assert log.active == ["configmaps", "nodes", "pods"]
        assert not log.done() and log.pending() == "2 of 3 resources populated"
        assert log.last_populated() is None
        _feed(log, LOG[last:], chunk)
        assert log.done(), chunk
        assert log.last_populated() == klog_time(LOG[last:], 2026)


def test_a_partial_line_or_a_relist_does_not_count_twice() -> None:
    log = CacheSyncLog(year=2026)
    log.feed(LOG[:LOG.index(b"*v1.Node")])
    assert log.pending() == "0 of 3 resources populated"
    # The Node line arrives without its newline yet: not counted until the line is whole.
    node_end = LOG.index(b"\n", LOG.index(b"*v1.Node"))
    log.feed(LOG[LOG.index(b"*v1.Node"):node_end])
    assert log.populated == {}
    log.feed(b"\n")
    first = log.populated["*v1.Node"]
    log.feed(b'I1204 10:40:00.000000   1 reflector.go:507] "Caches populated" type="*v1.Node" reflector="x"\n')
    assert log.populated == {"*v1.Node": first} and not log.done()


def test_no_signal_before_the_active_resources_line() -> None:
    log = CacheSyncLog(year=2026)
    log.feed(b'I1204 10:32:35.080464   1 reflector.go:507] "Caches populated" type="*v1.Node" reflector="x"\n')
    assert not log.done() and log.pending() == "no 'Active resources' line yet"


def test_klog_time_reads_the_header_in_local_time() -> None:
    t = klog_time(b"I1204 10:32:35.331312   14364 reflector.go:507] x", 2026)
    assert t is not None
    lt = time.localtime(t)
    assert (lt.tm_year, lt.tm_mon, lt.tm_mday, lt.tm_hour, lt.tm_min, lt.tm_sec) == (2026, 12, 4, 10, 32, 35)
    assert abs(t % 1 - 0.331312) < 1e-5
    assert klog_time(b"not a klog line", 2026) is None


def test_upstream_signal_reads_only_this_start_of_the_appended_log(tmp_path: Path) -> None:
    exp = Exporter("upstream", ["kube-state-metrics"], tmp_path / "kubeconfig", tmp_path)
    assert UPSTREAM_SYNC_VMODULE in exp.argv
    assert UPSTREAM_SYNC_VMODULE not in Exporter("ksm-py", ["ksm-py"], tmp_path / "k", tmp_path).argv
    exp.log.write_bytes(LOG)  # an earlier run, complete
    exp.log_offset = exp.log.stat().st_size
    signal = ReadySignal(exp)
    assert not signal.poll()
    with exp.log.open("ab") as f:
        f.write(LOG[:LOG.rfind(b"I1204")])
    assert not signal.poll() and signal.pending() == "2 of 3 resources populated"
    with exp.log.open("ab") as f:
        f.write(LOG[LOG.rfind(b"I1204"):])
    assert signal.poll() and signal.describe() == "log: Caches populated"


def test_a_start_reads_its_log_from_where_the_previous_start_ended(tmp_path: Path) -> None:
    exp = Exporter("upstream", ["true"], tmp_path / "kubeconfig", tmp_path)  # `true` ignores the flags
    exp.log.write_bytes(LOG)
    exp.start()
    try:
        assert exp.log_offset == len(LOG)
        assert not ReadySignal(exp).poll()
        assert exp.proc is not None and exp.proc.wait(10) == 0
    finally:
        exp.stop()


def test_stat_fields_counts_after_the_last_parenthesis() -> None:
    # comm "(a) b)" holds a space and parentheses; pgrp 77; utime 300, stime 100, cutime 40, cstime 10.
    line = "42 ((a) b)) S 1 77 77 0 -1 4194560 10 0 0 0 300 100 40 10 20 0 3 0 100 1000 50"
    assert stat_fields(line) == (77, 400 / CLK_TCK, 50 / CLK_TCK)


def test_group_cpu_counts_a_child_of_the_exporter(tmp_path: Path) -> None:
    # A session leader (like an exporter started by the bench) that starts a child burning some CPU.
    script = ("import subprocess, sys, time\n"
              "c = subprocess.Popen([sys.executable, '-c', 'import time\\nt = time.process_time()\\n"
              "while time.process_time() - t < 0.3: pass\\ntime.sleep(30)'])\n"
              "print(c.pid, flush=True)\ntime.sleep(30)\n")
    leader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert leader.stdout is not None
        child = int(leader.stdout.readline())
        deadline = time.monotonic() + 20
        while cpu_seconds(child) < 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        own, total, others = group_cpu_seconds(leader.pid)
        assert others == 1
        assert abs(own - cpu_seconds(leader.pid)) < 0.1
        assert total >= own + 0.3 - 2 / CLK_TCK
    finally:
        os.killpg(leader.pid, 9)
        leader.wait()


def test_result_table_has_the_control_plane_rows() -> None:
    def values(ready: float, api: float, etcd: float) -> dict[str, float]:
        return {"ready_s": ready, "sync_cpu_s": 1.0, "sync_group_cpu_s": 1.0, "apiserver_sync_cpu_s": api,
                "etcd_sync_cpu_s": etcd}

    runs = [{"exporters": {"ksm-py": values(2.0, 3.0, 0.01), "upstream": values(1.0, 1.5, 0.0)},
             "ratio": {"ready_s": 2.0, "apiserver_sync_cpu_s": 2.0, "sync_group_cpu_s": 1.0, "etcd_sync_cpu_s": None}},
            {"exporters": {"ksm-py": values(2.2, 4.0, 0.0), "upstream": values(1.0, 1.0, 0.0)},
             "ratio": {"ready_s": 2.2, "apiserver_sync_cpu_s": 4.0, "sync_group_cpu_s": 1.0, "etcd_sync_cpu_s": None}}]
    text, ratios = result_table(runs)
    api = next(line for line in text.splitlines() if line.startswith("kube-apiserver CPU during sync (s)"))
    assert "3.50 [3.00-4.00]" in api and "1.25 [1.00-1.50]" in api and "3.00 [2.00-4.00]" in api
    assert ratios["apiserver_sync_cpu_s"] == 3.0
    assert any(line.startswith("CPU for initial sync with children (s)") for line in text.splitlines())
    etcd = next(line for line in text.splitlines() if line.startswith("etcd CPU during sync (s)"))
    # Upstream's etcd CPU below a clock tick in every run: no ratio, but not a missing value either.
    assert etcd.split()[-1] == "-" and "n/a" not in etcd and ratios["etcd_sync_cpu_s"] is None
    peak = next(line for line in text.splitlines() if line.startswith("peak RSS overall"))
    assert peak.split()[-3:] == ["n/a", "n/a", "n/a"]
