"""kube_deployment_* families (upstream deployment_test.go, plus edge cases)."""

from __future__ import annotations

import pytest

from ksm_py.families import RESOURCES

from ._util import Case, check

NAMES = [f.name for f in RESOURCES["deployments"].families]


def test_family_order_matches_upstream() -> None:
    assert NAMES == [
        "kube_deployment_owner", "kube_deployment_created", "kube_deployment_status_replicas",
        "kube_deployment_status_replicas_ready", "kube_deployment_status_replicas_available",
        "kube_deployment_status_replicas_unavailable", "kube_deployment_status_replicas_updated",
        "kube_deployment_status_terminating_replicas", "kube_deployment_status_observed_generation",
        "kube_deployment_status_condition", "kube_deployment_spec_replicas", "kube_deployment_spec_paused",
        "kube_deployment_spec_strategy_rollingupdate_max_unavailable",
        "kube_deployment_spec_strategy_rollingupdate_max_surge", "kube_deployment_metadata_generation",
        "kube_deployment_deletion_timestamp", "kube_deployment_annotations", "kube_deployment_labels",
    ]


CASES = [
    Case(
        id="full",
        obj={"metadata": {"name": "d1", "namespace": "ns1", "generation": 21, "creationTimestamp": "2017-08-01T06:30:18Z",
                          "ownerReferences": [{"kind": "Rollout", "name": "r", "controller": True}]},
             "spec": {"replicas": 10, "paused": True, "strategy": {"rollingUpdate": {"maxUnavailable": "25%",
                                                                                      "maxSurge": "25%"}}},
             "status": {"replicas": 15, "readyReplicas": 10, "availableReplicas": 10, "unavailableReplicas": 5,
                        "updatedReplicas": 2, "observedGeneration": 111, "conditions": [
                            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                            {"type": "Progressing", "status": "False", "reason": "SomethingNew"}]}},
        families=[n for n in NAMES if not n.endswith(("_labels", "_annotations"))],
        want="""
            kube_deployment_owner{namespace="ns1",deployment="d1",owner_kind="Rollout",owner_name="r"} 1
            kube_deployment_created{namespace="ns1",deployment="d1"} 1.501569018e+09
            kube_deployment_status_replicas{namespace="ns1",deployment="d1"} 15
            kube_deployment_status_replicas_ready{namespace="ns1",deployment="d1"} 10
            kube_deployment_status_replicas_available{namespace="ns1",deployment="d1"} 10
            kube_deployment_status_replicas_unavailable{namespace="ns1",deployment="d1"} 5
            kube_deployment_status_replicas_updated{namespace="ns1",deployment="d1"} 2
            kube_deployment_status_observed_generation{namespace="ns1",deployment="d1"} 111
            kube_deployment_status_condition{namespace="ns1",deployment="d1",reason="MinimumReplicasAvailable",condition="Available",status="true"} 1
            kube_deployment_status_condition{namespace="ns1",deployment="d1",reason="MinimumReplicasAvailable",condition="Available",status="false"} 0
            kube_deployment_status_condition{namespace="ns1",deployment="d1",reason="MinimumReplicasAvailable",condition="Available",status="unknown"} 0
            kube_deployment_status_condition{namespace="ns1",deployment="d1",reason="unknown",condition="Progressing",status="true"} 0
            kube_deployment_status_condition{namespace="ns1",deployment="d1",reason="unknown",condition="Progressing",status="false"} 1
            kube_deployment_status_condition{namespace="ns1",deployment="d1",reason="unknown",condition="Progressing",status="unknown"} 0
            kube_deployment_spec_replicas{namespace="ns1",deployment="d1"} 10
            kube_deployment_spec_paused{namespace="ns1",deployment="d1"} 1
            kube_deployment_spec_strategy_rollingupdate_max_unavailable{namespace="ns1",deployment="d1"} 2
            kube_deployment_spec_strategy_rollingupdate_max_surge{namespace="ns1",deployment="d1"} 3
            kube_deployment_metadata_generation{namespace="ns1",deployment="d1"} 21
        """,
        headers=False,
    ),
    Case(
        # No owner: one series with empty labels; absent pointers (spec.replicas, terminatingReplicas) omitted,
        # so no rolling-update series either; a deleting deployment reports its deletion timestamp.
        id="minimal-deleting",
        obj={"metadata": {"name": "d2", "namespace": "ns2", "deletionTimestamp": "2017-08-01T06:30:18Z"},
             "spec": {"strategy": {"rollingUpdate": {"maxUnavailable": 1}}}},
        families=["kube_deployment_owner", "kube_deployment_spec_", "kube_deployment_status_replicas",
                  "kube_deployment_deletion_timestamp", "kube_deployment_status_terminating_replicas"],
        want="""
            kube_deployment_owner{namespace="ns2",deployment="d2",owner_kind="",owner_name=""} 1
            kube_deployment_status_replicas{namespace="ns2",deployment="d2"} 0
            kube_deployment_status_replicas_ready{namespace="ns2",deployment="d2"} 0
            kube_deployment_status_replicas_available{namespace="ns2",deployment="d2"} 0
            kube_deployment_status_replicas_unavailable{namespace="ns2",deployment="d2"} 0
            kube_deployment_status_replicas_updated{namespace="ns2",deployment="d2"} 0
            kube_deployment_spec_paused{namespace="ns2",deployment="d2"} 0
            kube_deployment_deletion_timestamp{namespace="ns2",deployment="d2"} 1.501569018e+09
        """,
        headers=False,
    ),
    Case(
        # Integers pass through; percentages round down for maxUnavailable and up for maxSurge.
        id="rolling-update-rounding",
        obj={"metadata": {"name": "d3", "namespace": "ns3"},
             "spec": {"replicas": 3, "strategy": {"rollingUpdate": {"maxUnavailable": "50%", "maxSurge": 2}}},
             "status": {"terminatingReplicas": 0}},
        families=["kube_deployment_spec_strategy", "kube_deployment_status_terminating_replicas"],
        want="""
            kube_deployment_spec_strategy_rollingupdate_max_unavailable{namespace="ns3",deployment="d3"} 1
            kube_deployment_spec_strategy_rollingupdate_max_surge{namespace="ns3",deployment="d3"} 2
            kube_deployment_status_terminating_replicas{namespace="ns3",deployment="d3"} 0
        """,
        headers=False,
    ),
    Case(
        id="labels-and-annotations-allowlists",
        obj={"metadata": {"name": "d4", "namespace": "ns4", "labels": {"app.kubernetes.io/name": "web", "x": "y"},
                          "annotations": {"deployment.kubernetes.io/revision": "3"}}},
        labels_allowlist=["app.kubernetes.io/name"],
        annotations_allowlist=["*"],
        families=["kube_deployment_labels", "kube_deployment_annotations"],
        want="""
            # HELP kube_deployment_annotations Kubernetes annotations converted to Prometheus labels.
            # TYPE kube_deployment_annotations gauge
            # HELP kube_deployment_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # TYPE kube_deployment_labels gauge
            kube_deployment_annotations{namespace="ns4",deployment="d4",annotation_deployment_kubernetes_io_revision="3"} 1
            kube_deployment_labels{namespace="ns4",deployment="d4",label_app_kubernetes_io_name="web"} 1
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_deployments(case: Case) -> None:
    check("deployments", case)
