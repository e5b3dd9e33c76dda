"""Load: 20 concurrent scrapers (plain and gzip) for 60 s under churn; a client reading 1 byte/s."""

from __future__ import annotations

import gzip
import http.client
import os
import socket
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from harness.controlplane import ControlPlane
from tests.chaos._harness import Churn, Report, ground_truth, settle
from tests.conftest import Objects
from tests.e2e._exporter import Exporter, ksm_py

pytestmark = pytest.mark.e2e

SCRAPERS = 20
DURATION = 60.0


def scrape(port: int, path: str = "/metrics", *, gzipped: bool = False, timeout: float = 30) -> bytes:
    """One request on a fresh connection; the decoded body, or an exception if anything is off."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "gzip"} if gzipped else {})
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise AssertionError(f"{path}: HTTP {resp.status}")
        if gzipped:
            if resp.getheader("Content-Encoding") != "gzip":
                raise AssertionError("asked for gzip, got identity")
            body = gzip.decompress(body)
        return body
    finally:
        conn.close()


def vm_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class Scrapers:
    """``n`` threads scraping /metrics back to back (odd ones with gzip) until ``deadline``, and one
    timing /healthz every 0.1 s."""

    def __init__(self, exp: Exporter, n: int, duration: float, marker: bytes = b"\nkube_node_info{") -> None:
        self.exp, self.marker = exp, marker
        self.deadline = time.monotonic() + duration
        self.latencies: list[float] = []
        self.healthz: list[float] = []
        self.failures: list[str] = []
        self.gzip_scrapes = 0
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._scrape, args=(i % 2 == 1,), daemon=True) for i in range(n)]
        self.threads.append(threading.Thread(target=self._healthz, daemon=True))
        for t in self.threads:
            t.start()

    def _scrape(self, gzipped: bool) -> None:
        while time.monotonic() < self.deadline:
            started = time.monotonic()
            try:
                body = scrape(self.exp.port, gzipped=gzipped)
                if not body.endswith(b"\n") or self.marker not in body:
                    raise AssertionError(f"truncated or empty exposition ({len(body)} bytes)")
            except Exception as e:  # noqa: BLE001 - every failure is collected and reported
                with self._lock:
                    self.failures.append(repr(e))
                continue
            with self._lock:
                self.latencies.append(time.monotonic() - started)
                self.gzip_scrapes += gzipped

    def _healthz(self) -> None:
        while time.monotonic() < self.deadline:
            started = time.monotonic()
            try:
                assert scrape(self.exp.port, "/healthz", timeout=10) == b"OK"
                self.healthz.append(time.monotonic() - started)
            except Exception as e:  # noqa: BLE001
                self.failures.append("healthz: " + repr(e))
            time.sleep(0.1)

    def join(self) -> None:
        for t in self.threads:
            t.join(max(1.0, self.deadline - time.monotonic() + 40))


def test_20_concurrent_scrapers_under_churn(local_plane: ControlPlane, objects: Objects,
                                            restricted_kubeconfig_path: Path, spawn: Any,
                                            chaos_report: Report) -> None:
    flags = ["--enable-gzip-encoding"]  # default resources
    exp = ksm_py(spawn, restricted_kubeconfig_path, *flags)
    exp.wait_ready()
    pid = exp.proc.proc.pid
    with Churn(local_plane.rest, objects.namespace, rate=10, duration=DURATION + 10) as churn:
        load = Scrapers(exp, SCRAPERS, DURATION)
        load.join()
    peak_rss_mib = vm_kib(pid, "VmHWM") / 1024
    assert not load.failures, f"{len(load.failures)} failed scrapes, first: {load.failures[:5]}"
    assert load.latencies and load.gzip_scrapes, "no scrape completed"
    healthz_max = max(load.healthz)
    p50 = statistics.median(load.latencies)
    settle(local_plane.rest, objects.namespace)
    faults = (f"{SCRAPERS} scrapers ({SCRAPERS // 2} gzip) x {DURATION:.0f}s: {len(load.latencies)} scrapes, "
              f"0 failed, p50 {p50 * 1000:.0f}ms max {max(load.latencies) * 1000:.0f}ms; /healthz max "
              f"{healthz_max * 1000:.0f}ms; peak RSS {peak_rss_mib:.0f} MiB; {churn.summary()}")
    ground_truth(spawn, restricted_kubeconfig_path, flags, exp, scenario="load: 20 scrapers", faults=faults,
                 report=chaos_report)
    assert healthz_max < 2.0, f"/healthz took {healthz_max:.2f}s under load"


def tcp_wmem_max() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    except (OSError, IndexError, ValueError):
        return 4 << 20


def test_slow_client_cannot_block_other_scrapes(local_plane: ControlPlane, objects: Objects,
                                                restricted_kubeconfig_path: Path, spawn: Any,
                                                chaos_report: Report) -> None:
    """A client reading 1 byte/s from a /metrics response larger than any socket buffer can hold:
    the server must wait on it, and that wait must not hold up anyone else."""
    ns = objects.namespace
    blob = "x" * 100_000
    count = (tcp_wmem_max() + (2 << 20)) // len(blob)
    for i in range(count):
        local_plane.rest.request("POST", f"/api/v1/namespaces/{ns}/configmaps", {
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"big-{i}", "annotations": {"blob": blob}}})
    flags = ["--resources=configmaps,namespaces", "--metric-annotations-allowlist=configmaps=[blob]",
             "--enable-gzip-encoding"]
    exp = ksm_py(spawn, restricted_kubeconfig_path, *flags)
    exp.wait_ready()
    size = len(scrape(exp.port))
    assert size > tcp_wmem_max() + (1 << 20), f"/metrics is only {size} bytes: it would fit in the socket buffers"

    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    slow.settimeout(10)
    slow.connect(("127.0.0.1", exp.port))
    slow.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    load = Scrapers(exp, 4, 10.0, marker=b"\nkube_configmap_annotations{")
    received = b""
    started = time.monotonic()
    while time.monotonic() - started < 10:
        received += slow.recv(1)
        time.sleep(1)
    load.join()
    assert not load.failures, load.failures[:5]
    assert len(load.latencies) >= 4 and max(load.latencies) < 8, load.latencies
    healthz_max = max(load.healthz)
    assert healthz_max < 1.0, f"/healthz took {healthz_max:.2f}s while a client read 1 byte/s"
    # The slow client still gets the whole answer once it reads faster.
    slow.settimeout(30)
    while chunk := slow.recv(1 << 16):
        received += chunk
    slow.close()
    assert received.startswith(b"HTTP/1.1 200") and received.endswith(b"\n") and len(received) > size, len(received)
    faults = (f"1 client reading 1 byte/s for 10s from a {size / 2**20:.1f} MiB /metrics; meanwhile "
              f"{len(load.latencies)} scrapes by 4 others, max {max(load.latencies):.2f}s, "
              f"/healthz max {healthz_max * 1000:.0f}ms")
    ground_truth(spawn, restricted_kubeconfig_path, flags, exp, scenario="slow client", faults=faults,
                 report=chaos_report)
    assert os.path.exists(f"/proc/{exp.proc.proc.pid}"), "ksm-py died"
