"""Broken watch streams between ksm-py and the API server: cut mid-event, stalled, delayed.

ksm-py recovers within its backoff bound, and meanwhile its self-metrics tell the truth:
``ksm_py_watch_connected`` drops to 0 while a stream is down, ``ksm_py_last_sync_timestamp_seconds``
stops advancing, ``ksm_py_watch_closed_total{reason="error"|"stalled"}`` and ``ksm_py_api_errors_total``
count the failures. (``kube_state_metrics_watch_total`` counts watch *requests*, as upstream does:
a stream cut after it was established is no failed request.) ``/readyz`` stays 200 (documented: it reports the initial list; the last known
state keeps being served while the API server is away).
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Any

import pytest

from harness.controlplane import ControlPlane, wait_for
from harness.proxy import FaultProxy
from tests.chaos._harness import Churn, Recorder, Report, ground_truth, metric_sum, per_resource, settle, wait_all
from tests.conftest import Objects, http_get
from tests.e2e._exporter import ksm_py, proxied_kubeconfig

pytestmark = pytest.mark.e2e

# Only resources the churn keeps busy: with the short test read timeout a quiet stream would be
# taken for a dead one; in production a stream is stalled only past its own timeoutSeconds (+30 s),
# when the API server must have ended it.
RESOURCES = "pods,deployments,replicasets,configmaps"
READ_TIMEOUT = 5.0
BACKOFF_CAP = 30.0  # ReflectorSettings.backoff_max
CUTS = 5


def all_connected(values: dict[str, float]) -> bool:
    return len(values) == len(RESOURCES.split(",")) and all(v == 1 for v in values.values())


def none_connected(values: dict[str, float]) -> bool:
    return bool(values) and all(v == 0 for v in values.values())


def test_cut_stalled_and_delayed_streams(local_plane: ControlPlane, objects: Objects, restricted_kubeconfig_path: Path,
                                         spawn: Any, tmp_path: Path, chaos_report: Report) -> None:
    seed = int(os.environ.get("KSM_PY_CHAOS_SEED") or time.time())
    rng = random.Random(seed)
    flags = [f"--resources={RESOURCES}"]
    proxy = FaultProxy(local_plane.ports["apiserver"])
    try:
        exp = ksm_py(spawn, proxied_kubeconfig(restricted_kubeconfig_path, proxy, tmp_path / "p.kubeconfig"), *flags,
                     env={"KSM_PY_WATCH_READ_TIMEOUT": str(READ_TIMEOUT)})
        exp.wait_ready()
        with Churn(local_plane.rest, objects.namespace, rate=10, duration=150, seed=seed) as churn:
            wait_all(exp, "all watches connected", all_connected, "ksm_py_watch_connected", 30)

            # 1. Connections reset in the middle of a server answer (a watch event, a TLS record).
            def watch_errors() -> float:
                return metric_sum(exp.telemetry(), "ksm_py_watch_closed_total", reason="error")
            errors_before = watch_errors()
            for _ in range(CUTS):
                time.sleep(rng.uniform(1, 3))
                before_cut = watch_errors()
                assert proxy.cut_mid_stream(timeout=15), "no server bytes to cut within 15s"
                wait_for("the cut counted as a failed watch", lambda: watch_errors() > before_cut, 15)  # noqa: B023
            reconnect_after_cut = wait_all(exp, "watches back after the cuts", all_connected,
                                           "ksm_py_watch_connected", BACKOFF_CAP + 5)
            telemetry = exp.telemetry()
            assert metric_sum(telemetry, "ksm_py_watch_closed_total", reason="error") - errors_before >= CUTS
            assert metric_sum(telemetry, "ksm_py_api_errors_total") >= CUTS

            # 2. Stalled: connections stay open, no byte flows, for longer than the read timeout.
            before = per_resource(exp.telemetry(), "ksm_py_last_sync_timestamp_seconds")
            stall_started = time.time()
            proxy.stalled = True
            detected = wait_all(exp, "every watch reported down during the stall", none_connected,
                                "ksm_py_watch_connected", READ_TIMEOUT + 15)
            telemetry = exp.telemetry()
            assert metric_sum(telemetry, "ksm_py_api_errors_total", status="StreamIdle") >= 1, telemetry
            assert metric_sum(telemetry, "ksm_py_watch_closed_total", reason="stalled") >= 1, telemetry
            assert exp.readyz() == 200, "/readyz flipped although the initial list is done"
            assert http_get(f"http://127.0.0.1:{exp.port}/metrics")[0] == 200, "stale data is still served"
            time.sleep(2)
            during = per_resource(exp.telemetry(), "ksm_py_last_sync_timestamp_seconds")
            assert all(during[r] <= stall_started + 1 for r in during), (before, during, stall_started)
            stall_seconds = time.time() - stall_started
            proxy.stalled = False
            stall_ended = time.time()
            reconnect_after_stall = wait_all(exp, "watches back after the stall", all_connected,
                                             "ksm_py_watch_connected", BACKOFF_CAP + 5)
            after = per_resource(exp.telemetry(), "ksm_py_last_sync_timestamp_seconds")
            assert all(after[r] >= stall_ended for r in after), (after, stall_ended)

            # 3. Delayed: every chunk held back 0.3 s; slow is not broken.
            errors_before = metric_sum(exp.telemetry(), "ksm_py_api_errors_total")
            proxy.delay = 0.3
            delayed_started = time.monotonic()
            while time.monotonic() - delayed_started < 8:
                assert exp.readyz() == 200
                time.sleep(1)
            delay_errors = metric_sum(exp.telemetry(), "ksm_py_api_errors_total") - errors_before
        settle(local_plane.rest, objects.namespace)
        proxy.delay = 0
        recorder = Recorder(exp)
        faults = (f"{CUTS} cuts mid-answer (watches back in {reconnect_after_cut:.1f}s); stall {stall_seconds:.0f}s "
                  f"(detected in {detected:.1f}s, back in {reconnect_after_stall:.1f}s); delay 0.3s/chunk "
                  f"({delay_errors:.0f} errors); {churn.summary()}")
        ground_truth(spawn, restricted_kubeconfig_path, flags, exp, scenario="broken streams", faults=faults,
                     report=chaos_report, recorder=recorder)
    finally:
        proxy.close()
