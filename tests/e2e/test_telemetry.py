"""The telemetry port next to kube-state-metrics v2.20.0's, on the same control plane: every family
upstream exposes (its Go runtime's ``go_*`` aside) is in ksm-py's with the same TYPE and label
names, with default flags and with a Custom Resource State configuration; the CRD informer
counters count the same CRD events."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.controlplane import wait_for
from tests.e2e._exporter import Exporter, ksm_py, upstream

pytestmark = pytest.mark.e2e

GROUP = "telemetry.example.com"
CRS_CONFIG = f"""kind: CustomResourceStateMetrics
spec:
  resources:
  - groupVersionKind: {{group: {GROUP}, version: v1, kind: Gizmo}}
    metrics:
    - name: size
      help: a gizmo's size
      each: {{type: Gauge, gauge: {{path: [spec, size]}}}}
"""
CRD_COUNTERS = ("kube_state_metrics_custom_resource_state_add_events_total",
                "kube_state_metrics_custom_resource_state_update_events_total",
                "kube_state_metrics_custom_resource_state_delete_events_total",
                "kube_state_metrics_custom_resource_state_cache")
# Process metrics both write with client libraries' standard names; the ones ksm-py has must be upstream's.
PROCESS = {"process_cpu_seconds_total", "process_max_fds", "process_open_fds", "process_resident_memory_bytes",
           "process_start_time_seconds", "process_virtual_memory_bytes"}


def shape(text: str) -> dict[str, tuple[str, frozenset[frozenset[str]]]]:
    """{family as written in # TYPE: (type, the label-name sets of its series)}."""
    out: dict[str, tuple[str, frozenset[frozenset[str]]]] = {}
    for fam in text_string_to_metric_families(text):
        name = fam.name + "_total" if fam.type == "counter" else fam.name
        out[name] = (fam.type, frozenset(frozenset(s.labels) for s in fam.samples))
    return out


def values(text: str, names: tuple[str, ...]) -> dict[str, float]:
    found = {s.name: s.value for fam in text_string_to_metric_families(text) for s in fam.samples}
    return {n: found[n] for n in names}


def side_by_side(exporters: tuple[Exporter, Exporter]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both telemetry pages after one scrape of each main port (http_request_duration_seconds)."""
    for e in exporters:
        e.metrics()
    theirs, ours = (shape(e.telemetry()) for e in exporters)
    return theirs, ours


def assert_covers(theirs: dict[str, Any], ours: dict[str, Any]) -> None:
    runtime = {n for n in theirs if n.startswith(("go_", "process_"))}
    assert {n for n in theirs if n.startswith("process_")} >= PROCESS, sorted(runtime)
    assert {n for n in ours if n.startswith("process_")} == PROCESS
    missing = {n: theirs[n] for n in sorted(set(theirs) - set(ours) - runtime)}
    assert not missing, f"upstream families ksm-py lacks: {missing}"
    for name in sorted(set(theirs) - runtime):
        assert ours[name] == theirs[name], f"{name}: upstream {theirs[name]}, ksm-py {ours[name]}"


def test_telemetry_covers_upstreams_with_default_flags(cluster: Any, restricted_kubeconfig_path: Path,
                                                       spawn: Any) -> None:
    theirs_exp = upstream(spawn, restricted_kubeconfig_path)
    ours_exp = ksm_py(spawn, restricted_kubeconfig_path)
    ours_exp.wait_ready(90)
    wait_for("upstream's watches counted", lambda: "kube_state_metrics_watch_total{" in theirs_exp.telemetry(), 60)
    theirs, ours = side_by_side((theirs_exp, ours_exp))
    assert_covers(theirs, ours)
    # The ones always there upstream, named here so that a change on either side is seen.
    for name in ("kube_state_metrics_build_info", "http_request_duration_seconds", *CRD_COUNTERS,
                 "kube_state_metrics_watch_total", "kube_state_metrics_shard_ordinal",
                 "kube_state_metrics_total_shards"):
        assert name in theirs and name in ours, name
    # No CRD watch without a configuration: the CRD counters stay at 0 on both sides.
    assert values(ours_exp.telemetry(), CRD_COUNTERS) == values(theirs_exp.telemetry(), CRD_COUNTERS) == dict.fromkeys(
        CRD_COUNTERS, 0)


@pytest.fixture
def gizmos(cluster: Any, dyn: Any) -> Iterator[Any]:
    """A CRD served and established, with one custom resource; deleted afterwards."""
    crds = dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    name = f"gizmos.{GROUP}"
    crds.create(body={
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": name},
        "spec": {"group": GROUP, "scope": "Namespaced",
                 "names": {"kind": "Gizmo", "plural": "gizmos", "singular": "gizmo", "listKind": "GizmoList"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                     "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}})
    try:
        def established() -> bool:
            conditions = crds.get(name=name).to_dict().get("status", {}).get("conditions") or []
            return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)
        wait_for("CRD established", established, 60)
        wait_for("gizmo created", lambda: dyn.resources.get(api_version=f"{GROUP}/v1", kind="Gizmo").create(
            namespace="default", body={"apiVersion": f"{GROUP}/v1", "kind": "Gizmo", "metadata": {"name": "g1"},
                                       "spec": {"size": 3}}), 30)
        yield crds
    finally:
        with contextlib.suppress(Exception):
            crds.delete(name=name)


def test_telemetry_covers_upstreams_with_custom_resource_state(cluster: Any, gizmos: Any, spawn: Any,
                                                               tmp_path: Path) -> None:
    config = tmp_path / "crs.yaml"
    config.write_text(CRS_CONFIG)
    flags = ("--resources=namespaces", f"--custom-resource-state-config-file={config}")
    theirs_exp = upstream(spawn, cluster.admin_kubeconfig, *flags)
    ours_exp = ksm_py(spawn, cluster.admin_kubeconfig, *flags)
    pair = (theirs_exp, ours_exp)
    wait_for("the gizmo's metric in both", lambda: all("kube_customresource_size{" in e.metrics() for e in pair), 90)

    # A CRD update and a CRD added then deleted, while both watch: the same counts on both sides.
    other = "doohickeys." + GROUP
    gizmos.patch(body={"metadata": {"labels": {"touched": "yes"}}}, name=f"gizmos.{GROUP}",
                 content_type="application/merge-patch+json")
    gizmos.create(body={
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": other},
        "spec": {"group": GROUP, "scope": "Cluster", "names": {"kind": "Doohickey", "plural": "doohickeys"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                     "type": "object"}}}]}})
    wait_for("doohickeys established", lambda: any(
        c["type"] == "Established" and c["status"] == "True"
        for c in gizmos.get(name=other).to_dict().get("status", {}).get("conditions") or []), 60)
    gizmos.delete(name=other)

    def counted_alike() -> dict[str, float] | None:
        a, b = (values(e.telemetry(), CRD_COUNTERS) for e in pair)
        return b if a == b and a["kube_state_metrics_custom_resource_state_delete_events_total"] >= 1 else None
    try:
        counts = wait_for("the same CRD event counts", counted_alike, 60)
    except TimeoutError:
        pytest.fail(f"upstream {values(theirs_exp.telemetry(), CRD_COUNTERS)}, "
                    f"ksm-py {values(ours_exp.telemetry(), CRD_COUNTERS)}")
    assert counts["kube_state_metrics_custom_resource_state_update_events_total"] >= 1
    # Every CRD of the cluster is counted, not only the configured one; one was deleted.
    assert counts["kube_state_metrics_custom_resource_state_cache"] == (
        counts["kube_state_metrics_custom_resource_state_add_events_total"] - 1)

    theirs, ours = side_by_side(pair)
    assert_covers(theirs, ours)
    assert {"kube_state_metrics_config_hash", "kube_state_metrics_last_config_reload_successful"} <= set(theirs)
