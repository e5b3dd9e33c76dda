"""horizontalpodautoscalers families. Provenance: ksm-py's own cases, a few after upstream internal/store/horizontalpodautoscaler_test.go;
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check, render

P = "kube_horizontalpodautoscaler"
HEADERS = f"""
# HELP {P}_info Information about this autoscaler.
# TYPE {P}_info gauge
# HELP {P}_metadata_generation [STABLE] The generation observed by the HorizontalPodAutoscaler controller.
# TYPE {P}_metadata_generation gauge
# HELP {P}_spec_max_replicas [STABLE] Upper limit for the number of pods that can be set by the autoscaler; cannot be smaller than MinReplicas.
# TYPE {P}_spec_max_replicas gauge
# HELP {P}_spec_min_replicas [STABLE] Lower limit for the number of pods that can be set by the autoscaler, default 1.
# TYPE {P}_spec_min_replicas gauge
# HELP {P}_spec_target_metric The metric specifications used by this autoscaler when calculating the desired replica count.
# TYPE {P}_spec_target_metric gauge
# HELP {P}_spec_behavior_scale_down_tolerance The tolerance on the ratio between the current and desired metric value below which no scale down occurs.
# TYPE {P}_spec_behavior_scale_down_tolerance gauge
# HELP {P}_spec_behavior_scale_up_tolerance The tolerance on the ratio between the current and desired metric value below which no scale up occurs.
# TYPE {P}_spec_behavior_scale_up_tolerance gauge
# HELP {P}_status_target_metric [STABLE] The current metric status used by this autoscaler when calculating the desired replica count.
# TYPE {P}_status_target_metric gauge
# HELP {P}_status_current_replicas [STABLE] Current number of replicas of pods managed by this autoscaler.
# TYPE {P}_status_current_replicas gauge
# HELP {P}_status_desired_replicas [STABLE] Desired number of replicas of pods managed by this autoscaler.
# TYPE {P}_status_desired_replicas gauge
# HELP {P}_annotations Kubernetes annotations converted to Prometheus labels.
# TYPE {P}_annotations gauge
# HELP {P}_labels [STABLE] Kubernetes labels converted to Prometheus labels.
# TYPE {P}_labels gauge
# HELP {P}_status_condition [STABLE] The condition of this autoscaler.
# TYPE {P}_status_condition gauge
# HELP {P}_created Unix creation timestamp
# TYPE {P}_created gauge
# HELP {P}_deletion_timestamp Unix deletion timestamp
# TYPE {P}_deletion_timestamp gauge
"""

ID = 'namespace="ns1",horizontalpodautoscaler="web"'
META = {"name": "web", "namespace": "ns1"}


def _header(*families: str) -> str:
    lines = HEADERS.strip().splitlines()
    return "\n".join(line for line in lines if any(f"{P}_{f} " in line for f in families)) + "\n"


CASES = [
    Case(
        id="all-families",
        obj={
            "metadata": {**META, "generation": 2, "creationTimestamp": "2017-07-14T02:40:00Z",
                         "deletionTimestamp": "2017-08-01T06:30:18Z"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 2, "maxReplicas": 10,
                "metrics": [
                    {"type": "Resource", "resource": {"name": "cpu", "target": {
                        "type": "Utilization", "averageUtilization": 80}}},
                    {"type": "Resource", "resource": {"name": "memory", "target": {
                        "type": "AverageValue", "averageValue": "1.5Gi"}}},
                    {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {
                        "type": "AverageValue", "averageValue": "250m"}}},
                    {"type": "Object", "object": {"metric": {"name": "requests"}, "describedObject": {
                        "kind": "Service", "name": "web"}, "target": {"type": "Value", "value": "10k"}}},
                    {"type": "External", "external": {"metric": {"name": "queue"}, "target": {
                        "type": "Value", "value": "30", "averageValue": "3"}}},
                    {"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app",
                                                                        "target": {"averageUtilization": 60}}},
                ],
                "behavior": {"scaleUp": {"tolerance": "0.3"}, "scaleDown": {"tolerance": "50m"}},
            },
            "status": {
                "currentReplicas": 3, "desiredReplicas": 4,
                "currentMetrics": [
                    {"type": "Resource", "resource": {"name": "cpu", "current": {
                        "averageUtilization": 75, "averageValue": "300m"}}},
                    {"type": "ContainerResource", "containerResource": {"name": "memory", "container": "app",
                                                                        "current": {"averageValue": "64Mi"}}},
                ],
                "conditions": [{"type": "AbleToScale", "status": "True"},
                               {"type": "ScalingLimited", "status": "False"}],
            },
        },
        want=HEADERS + f"""
{P}_info{{{ID},scaletargetref_api_version="apps/v1",scaletargetref_kind="Deployment",scaletargetref_name="web"}} 1
{P}_metadata_generation{{{ID}}} 2
{P}_spec_max_replicas{{{ID}}} 10
{P}_spec_min_replicas{{{ID}}} 2
{P}_spec_target_metric{{{ID},metric_name="cpu",metric_target_type="utilization",container=""}} 80
{P}_spec_target_metric{{{ID},metric_name="memory",metric_target_type="average",container=""}} 1.610612736e+09
{P}_spec_target_metric{{{ID},metric_name="qps",metric_target_type="average",container=""}} 0.25
{P}_spec_target_metric{{{ID},metric_name="requests",metric_target_type="value",container=""}} 10000
{P}_spec_target_metric{{{ID},metric_name="queue",metric_target_type="value",container=""}} 30
{P}_spec_target_metric{{{ID},metric_name="queue",metric_target_type="average",container=""}} 3
{P}_spec_target_metric{{{ID},metric_name="cpu",metric_target_type="utilization",container="app"}} 60
{P}_spec_behavior_scale_down_tolerance{{{ID}}} 0.05
{P}_spec_behavior_scale_up_tolerance{{{ID}}} 0.30000000000000004
{P}_status_target_metric{{{ID},metric_name="cpu",metric_target_type="utilization",container=""}} 75
{P}_status_target_metric{{{ID},metric_name="cpu",metric_target_type="average",container=""}} 0.3
{P}_status_target_metric{{{ID},metric_name="memory",metric_target_type="average",container="app"}} 6.7108864e+07
{P}_status_current_replicas{{{ID}}} 3
{P}_status_desired_replicas{{{ID}}} 4
{P}_status_condition{{{ID},condition="AbleToScale",status="true"}} 1
{P}_status_condition{{{ID},condition="AbleToScale",status="false"}} 0
{P}_status_condition{{{ID},condition="AbleToScale",status="unknown"}} 0
{P}_status_condition{{{ID},condition="ScalingLimited",status="true"}} 0
{P}_status_condition{{{ID},condition="ScalingLimited",status="false"}} 1
{P}_status_condition{{{ID},condition="ScalingLimited",status="unknown"}} 0
{P}_created{{{ID}}} 1.5e+09
{P}_deletion_timestamp{{{ID}}} 1.501569018e+09
""",
    ),
    Case(
        # minReplicas defaults to 1; no apiVersion label; zero-valued replicas still emitted.
        id="minimal",
        obj={"metadata": dict(META), "spec": {"scaleTargetRef": {"kind": "StatefulSet", "name": "db"}}},
        want=HEADERS + f"""
{P}_info{{{ID},scaletargetref_kind="StatefulSet",scaletargetref_name="db"}} 1
{P}_metadata_generation{{{ID}}} 0
{P}_spec_max_replicas{{{ID}}} 0
{P}_spec_min_replicas{{{ID}}} 1
{P}_status_current_replicas{{{ID}}} 0
{P}_status_desired_replicas{{{ID}}} 0
""",
    ),
    Case(
        id="min-replicas-zero-is-set",
        obj={"metadata": dict(META), "spec": {"minReplicas": 0}},
        families=[f"{P}_spec_min_replicas"],
        want=_header("spec_min_replicas") + f"{P}_spec_min_replicas{{{ID}}} 0\n",
    ),
    Case(
        # Unknown types and status entries whose source is missing are skipped; a tolerance of 0 is set.
        id="skipped-metrics-and-zero-tolerance",
        obj={"metadata": dict(META),
             "spec": {"metrics": [{"type": "Bogus", "resource": {"name": "cpu", "target": {"value": "1"}}}],
                      "behavior": {"scaleDown": {"tolerance": "0"}, "scaleUp": {}}},
             "status": {"currentMetrics": [{"type": "Resource"}, {"type": "External"},
                                           {"type": "Pods", "pods": {"metric": {"name": "m"}, "current": {}}}]}},
        families=[f"{P}_spec_target_metric", f"{P}_status_target_metric", f"{P}_spec_behavior"],
        want=_header("spec_target_metric", "status_target_metric", "spec_behavior_scale_down_tolerance",
                     "spec_behavior_scale_up_tolerance") + f"{P}_spec_behavior_scale_down_tolerance{{{ID}}} 0\n",
    ),
    Case(
        id="allowlists",
        obj={"metadata": {**META, "labels": {"app.kubernetes.io/part-of": "shop", "app.kubernetes.io/part_of": "x"},
                          "annotations": {"app.k8s.io/owner": "@foo"}}},
        labels_allowlist=["app.kubernetes.io/*"],
        annotations_allowlist=["app.k8s.io/owner"],
        families=[f"{P}_labels", f"{P}_annotations"],
        want=_header("labels", "annotations") + f"""
{P}_annotations{{{ID},annotation_app_k8s_io_owner="@foo"}} 1
{P}_labels{{{ID},label_app_kubernetes_io_part_of_conflict1="shop",label_app_kubernetes_io_part_of_conflict2="x"}} 1
""",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_horizontalpodautoscalers(case: Case) -> None:
    check("horizontalpodautoscalers", case)


def test_info_api_version_label_comes_first() -> None:
    got = render("horizontalpodautoscalers", [
        {"metadata": dict(META), "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "D", "name": "n"}}}])
    assert (f'{P}_info{{{ID},scaletargetref_api_version="apps/v1",scaletargetref_kind="D",'
            'scaletargetref_name="n"} 1\n') in got
