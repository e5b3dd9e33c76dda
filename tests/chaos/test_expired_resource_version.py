"""Expired resourceVersions: 410 Gone on a watch, and an expired continue token in a paginated LIST.

Either way the reflector lists again from scratch and *replaces* its stores, so objects deleted in
between disappear.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from harness.controlplane import ControlPlane, wait_for
from harness.proxy import FaultProxy
from tests.chaos._harness import CHURN_RESOURCES, Recorder, Report, ground_truth, metric_sum, settle
from tests.conftest import Objects
from tests.e2e._exporter import deployment, ksm_py, proxied_kubeconfig
from tests.expo import series

pytestmark = pytest.mark.e2e


def configmap(ns: str, name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns},
            "data": {"k": name}}


def test_410_on_watch_relists_and_replaces(local_plane: ControlPlane, objects: Objects,
                                           restricted_kubeconfig_path: Path, spawn: Any, tmp_path: Path,
                                           chaos_report: Report) -> None:
    """ksm-py is cut off, the cluster changes, etcd is compacted and kube-apiserver restarted (its
    new watch cache starts at the current revision): resuming the watch answers 410 Gone."""
    ns = objects.namespace
    rest = local_plane.rest
    flags = [f"--resources={CHURN_RESOURCES}"]
    for i in range(6):
        rest.apply(configmap(ns, f"cm-{i}"))
    objects.create(deployment("web", 2))
    proxy = FaultProxy(local_plane.ports["apiserver"])
    try:
        exp = ksm_py(spawn, proxied_kubeconfig(restricted_kubeconfig_path, proxy, tmp_path / "p.kubeconfig"), *flags)
        exp.wait_ready()
        wait_for("ksm-py sees the configmaps", lambda: len(series(
            exp.metrics(), prefix="kube_configmap_info{", where=[("namespace", ns)])) == 6 + 1, 60)  # + kube-root-ca.crt

        proxy.refuse()
        for i in range(3):
            rest.delete(configmap(ns, f"cm-{i}"))
        rest.apply({**configmap(ns, "cm-3"), "metadata": {"name": "cm-3", "namespace": ns, "labels": {"v": "2"}}})
        rest.apply(configmap(ns, "cm-new"))
        objects.api("apps/v1", "Deployment").patch(name="web", namespace=ns, body={"spec": {"replicas": 1}},
                                                   content_type="application/merge-patch+json")
        settle(rest, ns)
        local_plane.compact_etcd()
        local_plane.restart_apiserver(hard=True)
        proxy.accept()
        recorder = Recorder(exp)

        def relisted() -> bool:
            return metric_sum(exp.telemetry(), "ksm_py_watch_closed_total", resource="configmaps", reason="expired") >= 1
        wait_for("ksm-py got 410 Gone on configmaps and counted the expired stream", relisted, 60,
                 on_timeout=lambda: exp.proc.tail(30))
        ground_truth(spawn, restricted_kubeconfig_path, flags, exp, scenario="410 Gone on watch",
                     faults="cut off + 3 deletes, 2 updates, 1 create + etcd compaction + apiserver restart",
                     report=chaos_report, recorder=recorder)
        assert "resourceVersion" in exp.proc.tail(400) and "expired, listing again" in exp.proc.tail(400)
        text = exp.metrics()
        assert not [k for k in series(text, prefix="kube_configmap_info{", where=[("namespace", ns)])
                    if any(f'configmap="cm-{i}"' in k for i in range(3))]
    finally:
        proxy.close()


CONFIGMAPS = 150
PAGE = 5


def test_expired_continue_token_mid_list_relists_from_scratch(local_plane: ControlPlane, objects: Objects,
                                                              restricted_kubeconfig_path: Path, spawn: Any,
                                                              tmp_path: Path, chaos_report: Report) -> None:
    """A LIST of pages of 5 (KSM_PY_LIST_PAGE_SIZE), slowed down by the fault proxy, while etcd is
    compacted (and the compaction announced, like the apiserver's own compactor does, so the
    watch cache drops its list snapshots): the next page's continue token answers 410."""
    ns = objects.namespace
    rest = local_plane.rest
    for i in range(CONFIGMAPS):
        rest.request("POST", f"/api/v1/namespaces/{ns}/configmaps", configmap(ns, f"cm-{i}"))
    flags = ["--resources=configmaps"]
    proxy = FaultProxy(local_plane.ports["apiserver"])
    proxy.delay = 0.4  # per forwarded chunk: a page takes about a second
    compactions = 0
    deleted: list[str] = []
    try:
        exp = ksm_py(spawn, proxied_kubeconfig(restricted_kubeconfig_path, proxy, tmp_path / "p.kubeconfig"), *flags,
                     env={"KSM_PY_LIST_PAGE_SIZE": str(PAGE)})

        def list_failed() -> bool:
            return metric_sum(exp.telemetry(), "kube_state_metrics_list_total", resource="configmaps",
                              result="error") >= 1
        # Keep writing and compacting until one of ksm-py's continue tokens is too old (the watch
        # cache drops its snapshots within ~15 s of a compaction); delete a few objects meanwhile.
        deadline = time.monotonic() + 120
        while not list_failed():
            assert exp.readyz() == 503, "the list finished before any continue token expired"
            assert time.monotonic() < deadline, "no expired continue token within 120s:\n" + exp.proc.tail(30)
            name = f"cm-{len(deleted) * 7 % CONFIGMAPS}"
            if name not in deleted:
                rest.delete(configmap(ns, name))
                deleted.append(name)
            local_plane.compact_etcd()
            compactions += 1
            time.sleep(2)
        proxy.delay = 0
        recorder = Recorder(exp)
        exp.wait_ready(timeout=60)
        telemetry = exp.telemetry()
        assert metric_sum(telemetry, "ksm_py_api_errors_total", resource="configmaps", status="410") >= 1
        assert metric_sum(telemetry, "kube_state_metrics_list_total", resource="configmaps", result="success") >= 1
        ground_truth(spawn, restricted_kubeconfig_path, flags, exp, scenario="expired continue token",
                     faults=f"LIST in pages of {PAGE} slowed by the proxy; {compactions} etcd compactions, "
                            f"{len(deleted)} deletes mid-list",
                     report=chaos_report, recorder=recorder)
        text = exp.metrics()
        assert not [n for n in deleted if series(text, where=[("namespace", ns), ("configmap", n)])]
        assert len(series(text, prefix="kube_configmap_info{", where=[("namespace", ns)])) == \
            CONFIGMAPS - len(deleted) + 1  # + kube-root-ca.crt
    finally:
        proxy.close()
