"""kube-apiserver killed with SIGKILL and restarted 10 times at random moments under churn."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Any

import pytest

from harness.controlplane import ControlPlane
from harness.proxy import FaultProxy
from tests.chaos._harness import (
    CHURN_RESOURCES,
    Churn,
    Recorder,
    Report,
    ground_truth,
    metric_sum,
    settle,
    wait_all,
)
from tests.conftest import Objects
from tests.e2e._exporter import ksm_py, proxied_kubeconfig
from tests.expo import series

pytestmark = pytest.mark.e2e

RESTARTS = 10


def all_down(values: dict[str, float]) -> bool:
    return len(values) == len(CHURN_RESOURCES.split(",")) and not any(values.values())


def test_apiserver_kill9_restarts_under_churn(local_plane: ControlPlane, objects: Objects,
                                              restricted_kubeconfig_path: Path, spawn: Any, tmp_path: Path,
                                              chaos_report: Report) -> None:
    """Every other restart ksm-py is also cut off (fault proxy refusing) a little longer and objects are
    deleted meanwhile: they must disappear (relist after 410, or the watch replaying the deletes).
    Random moments come from a seed printed in the results (KSM_PY_CHAOS_SEED replays it)."""
    seed = int(os.environ.get("KSM_PY_CHAOS_SEED") or time.time())
    rng = random.Random(seed)
    ns = objects.namespace
    flags = [f"--resources={CHURN_RESOURCES}"]
    proxy = FaultProxy(local_plane.ports["apiserver"])
    deleted_while_down: list[tuple[str, str]] = []
    try:
        exp = ksm_py(spawn, proxied_kubeconfig(restricted_kubeconfig_path, proxy, tmp_path / "p.kubeconfig"), *flags)
        exp.wait_ready()
        with Churn(local_plane.rest, ns, rate=10, duration=300, seed=seed) as churn:
            time.sleep(2)
            for i in range(RESTARTS):
                time.sleep(rng.uniform(0.3, 2.5))
                if i % 2:
                    proxy.refuse()
                    local_plane.restart_apiserver(hard=True)
                    for kind in ("configmaps", "pods", "deployments"):
                        name = churn.delete_one(kind)
                        if name:
                            deleted_while_down.append((kind, name))
                    # Meanwhile the telemetry tells the truth: every watch down, the last known
                    # state still served, /readyz still 200 (the initial list is done).
                    wait_all(exp, "every watch reported down", all_down, "ksm_py_watch_connected", 15)
                    assert exp.readyz() == 200 and "kube_node_info{" in exp.metrics()
                    time.sleep(rng.uniform(0.2, 1.5))
                    proxy.accept()
                else:
                    local_plane.restart_apiserver(hard=True)
        # Once the churn stopped and the cluster settled, a last short cut-off with deletes, so that
        # the recovery time measured from its end is ksm-py's alone.
        settle(local_plane.rest, ns)
        proxy.refuse()
        for kind in ("configmaps", "pods"):
            name = churn.delete_one(kind)
            if name:
                deleted_while_down.append((kind, name))
        time.sleep(2)
        proxy.accept()
        recorder = Recorder(exp)
        faults = (f"{RESTARTS}x kill -9 kube-apiserver (seed {seed}); {RESTARTS // 2} of them and a last cut-off with "
                  f"ksm-py cut off, {len(deleted_while_down)} deletes meanwhile; {churn.summary()}")
        ground_truth(spawn, restricted_kubeconfig_path, flags, exp, scenario="apiserver kill -9 x10",
                     faults=faults, report=chaos_report, recorder=recorder, timeout=120)
        text = exp.metrics()
        label = {"configmaps": "configmap", "pods": "pod", "deployments": "deployment"}
        stale = [(k, n) for k, n in deleted_while_down if series(text, where=[("namespace", ns), (label[k], n)])]
        assert not stale, f"deleted while ksm-py was cut off, still exported: {stale}"
        telemetry = exp.telemetry()
        assert metric_sum(telemetry, "ksm_py_api_errors_total") > 0, "the outages were not counted"
        assert metric_sum(telemetry, "kube_state_metrics_watch_total", result="error") > 0
    finally:
        proxy.close()
