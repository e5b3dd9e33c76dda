"""kube_statefulset_* families (upstream statefulset_test.go, plus edge cases)."""

from __future__ import annotations

import pytest

from ksm_py.families import RESOURCES

from ._util import Case, check

HEADERS = """
    # HELP kube_statefulset_created [STABLE] Unix creation timestamp
    # TYPE kube_statefulset_created gauge
    # HELP kube_statefulset_status_replicas [STABLE] The number of replicas per StatefulSet.
    # TYPE kube_statefulset_status_replicas gauge
    # HELP kube_statefulset_status_replicas_available [STABLE] The number of available replicas per StatefulSet.
    # TYPE kube_statefulset_status_replicas_available gauge
    # HELP kube_statefulset_status_replicas_current [STABLE] The number of current replicas per StatefulSet.
    # TYPE kube_statefulset_status_replicas_current gauge
    # HELP kube_statefulset_status_replicas_ready [STABLE] The number of ready replicas per StatefulSet.
    # TYPE kube_statefulset_status_replicas_ready gauge
    # HELP kube_statefulset_status_replicas_updated [STABLE] The number of updated replicas per StatefulSet.
    # TYPE kube_statefulset_status_replicas_updated gauge
    # HELP kube_statefulset_status_observed_generation [STABLE] The generation observed by the StatefulSet controller.
    # TYPE kube_statefulset_status_observed_generation gauge
    # HELP kube_statefulset_replicas [STABLE] Number of desired pods for a StatefulSet.
    # TYPE kube_statefulset_replicas gauge
    # HELP kube_statefulset_ordinals_start [STABLE] Start ordinal of the StatefulSet.
    # TYPE kube_statefulset_ordinals_start gauge
    # HELP kube_statefulset_metadata_generation [STABLE] Sequence number representing a specific generation of the desired state for the StatefulSet.
    # TYPE kube_statefulset_metadata_generation gauge
    # HELP kube_statefulset_persistentvolumeclaim_retention_policy [STABLE] Count of retention policy for StatefulSet template PVCs
    # TYPE kube_statefulset_persistentvolumeclaim_retention_policy gauge
    # HELP kube_statefulset_annotations [STABLE] Kubernetes annotations converted to Prometheus labels.
    # TYPE kube_statefulset_annotations gauge
    # HELP kube_statefulset_labels [STABLE] Kubernetes labels converted to Prometheus labels.
    # TYPE kube_statefulset_labels gauge
    # HELP kube_statefulset_status_current_revision [STABLE] Indicates the version of the StatefulSet used to generate Pods in the sequence [0,currentReplicas).
    # TYPE kube_statefulset_status_current_revision gauge
    # HELP kube_statefulset_status_update_revision [STABLE] Indicates the version of the StatefulSet used to generate Pods in the sequence [replicas-updatedReplicas,replicas)
    # TYPE kube_statefulset_status_update_revision gauge
    # HELP kube_statefulset_deletion_timestamp [STABLE] Unix deletion timestamp
    # TYPE kube_statefulset_deletion_timestamp gauge
"""

CASES = [
    Case(
        id="full",
        obj={"metadata": {"name": "ss1", "namespace": "ns1", "generation": 3,
                          "creationTimestamp": "2017-08-01T06:30:18Z",
                          "deletionTimestamp": "2017-08-01T06:31:18Z"},
             "spec": {"replicas": 3, "ordinals": {"start": 2},
                      "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Delete"}},
             "status": {"replicas": 2, "availableReplicas": 1, "currentReplicas": 2, "readyReplicas": 1,
                        "updatedReplicas": 1, "observedGeneration": 1, "currentRevision": "cr1",
                        "updateRevision": "ur1"}},
        want=HEADERS + """
            kube_statefulset_created{namespace="ns1",statefulset="ss1"} 1.501569018e+09
            kube_statefulset_status_replicas{namespace="ns1",statefulset="ss1"} 2
            kube_statefulset_status_replicas_available{namespace="ns1",statefulset="ss1"} 1
            kube_statefulset_status_replicas_current{namespace="ns1",statefulset="ss1"} 2
            kube_statefulset_status_replicas_ready{namespace="ns1",statefulset="ss1"} 1
            kube_statefulset_status_replicas_updated{namespace="ns1",statefulset="ss1"} 1
            kube_statefulset_status_observed_generation{namespace="ns1",statefulset="ss1"} 1
            kube_statefulset_replicas{namespace="ns1",statefulset="ss1"} 3
            kube_statefulset_ordinals_start{namespace="ns1",statefulset="ss1"} 2
            kube_statefulset_metadata_generation{namespace="ns1",statefulset="ss1"} 3
            kube_statefulset_persistentvolumeclaim_retention_policy{namespace="ns1",statefulset="ss1",when_deleted="Retain",when_scaled="Delete"} 1
            kube_statefulset_status_current_revision{namespace="ns1",statefulset="ss1",revision="cr1"} 1
            kube_statefulset_status_update_revision{namespace="ns1",statefulset="ss1",revision="ur1"} 1
            kube_statefulset_deletion_timestamp{namespace="ns1",statefulset="ss1"} 1.501569078e+09
        """,
    ),
    Case(
        # ordinals: {} is a set pointer whose start is the zero value; no replicas/policy/timestamps.
        id="empty-with-empty-ordinals",
        obj={"metadata": {"name": "ss2", "namespace": "ns2"}, "spec": {"ordinals": {}}},
        want=HEADERS + """
            kube_statefulset_status_replicas{namespace="ns2",statefulset="ss2"} 0
            kube_statefulset_status_replicas_available{namespace="ns2",statefulset="ss2"} 0
            kube_statefulset_status_replicas_current{namespace="ns2",statefulset="ss2"} 0
            kube_statefulset_status_replicas_ready{namespace="ns2",statefulset="ss2"} 0
            kube_statefulset_status_replicas_updated{namespace="ns2",statefulset="ss2"} 0
            kube_statefulset_status_observed_generation{namespace="ns2",statefulset="ss2"} 0
            kube_statefulset_ordinals_start{namespace="ns2",statefulset="ss2"} 0
            kube_statefulset_metadata_generation{namespace="ns2",statefulset="ss2"} 0
            kube_statefulset_status_current_revision{namespace="ns2",statefulset="ss2",revision=""} 1
            kube_statefulset_status_update_revision{namespace="ns2",statefulset="ss2",revision=""} 1
        """,
    ),
    Case(
        id="retention-policy-one-side-only",
        obj={"metadata": {"name": "ss3", "namespace": "ns3"},
             "spec": {"replicas": 0, "persistentVolumeClaimRetentionPolicy": {"whenScaled": "Retain"}}},
        families=["kube_statefulset_persistentvolumeclaim_retention_policy", "kube_statefulset_replicas",
                  "kube_statefulset_ordinals_start"],
        want="""
            # HELP kube_statefulset_persistentvolumeclaim_retention_policy [STABLE] Count of retention policy for StatefulSet template PVCs
            # TYPE kube_statefulset_persistentvolumeclaim_retention_policy gauge
            # HELP kube_statefulset_replicas [STABLE] Number of desired pods for a StatefulSet.
            # TYPE kube_statefulset_replicas gauge
            # HELP kube_statefulset_ordinals_start [STABLE] Start ordinal of the StatefulSet.
            # TYPE kube_statefulset_ordinals_start gauge
            kube_statefulset_persistentvolumeclaim_retention_policy{namespace="ns3",statefulset="ss3",when_deleted="",when_scaled="Retain"} 1
            kube_statefulset_replicas{namespace="ns3",statefulset="ss3"} 0
        """,
    ),
    Case(
        id="empty-retention-policy",
        obj={"metadata": {"name": "ss4", "namespace": "ns4"}, "spec": {"persistentVolumeClaimRetentionPolicy": {}}},
        families=["kube_statefulset_persistentvolumeclaim_retention_policy"],
        want="""
            # HELP kube_statefulset_persistentvolumeclaim_retention_policy [STABLE] Count of retention policy for StatefulSet template PVCs
            # TYPE kube_statefulset_persistentvolumeclaim_retention_policy gauge
        """,
    ),
    Case(
        id="allowlists-sanitised-with-conflict",
        obj={"metadata": {"name": "ss5", "namespace": "ns5",
                          "labels": {"app": "db", "camelCase": "c", "tier.a": "1", "tier/a": "2"},
                          "annotations": {"a": "1", "b": "2"}}},
        labels_allowlist=["app", "camelCase", "tier*"],
        annotations_allowlist=["*"],
        families=["kube_statefulset_labels", "kube_statefulset_annotations"],
        want="""
            # HELP kube_statefulset_annotations [STABLE] Kubernetes annotations converted to Prometheus labels.
            # TYPE kube_statefulset_annotations gauge
            # HELP kube_statefulset_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # TYPE kube_statefulset_labels gauge
            kube_statefulset_annotations{namespace="ns5",statefulset="ss5",annotation_a="1",annotation_b="2"} 1
            kube_statefulset_labels{namespace="ns5",statefulset="ss5",label_app="db",label_camel_case="c",label_tier_a_conflict1="1",label_tier_a_conflict2="2"} 1
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_statefulsets(case: Case) -> None:
    check("statefulsets", case)


def test_family_order() -> None:
    assert [f.name for f in RESOURCES["statefulsets"].families] == [
        "kube_statefulset_created",
        "kube_statefulset_status_replicas",
        "kube_statefulset_status_replicas_available",
        "kube_statefulset_status_replicas_current",
        "kube_statefulset_status_replicas_ready",
        "kube_statefulset_status_replicas_updated",
        "kube_statefulset_status_observed_generation",
        "kube_statefulset_replicas",
        "kube_statefulset_ordinals_start",
        "kube_statefulset_metadata_generation",
        "kube_statefulset_persistentvolumeclaim_retention_policy",
        "kube_statefulset_annotations",
        "kube_statefulset_labels",
        "kube_statefulset_status_current_revision",
        "kube_statefulset_status_update_revision",
        "kube_statefulset_deletion_timestamp",
    ]
