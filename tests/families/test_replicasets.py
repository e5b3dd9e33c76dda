"""kube_replicaset_* families (upstream replicaset_test.go, plus edge cases)."""

from __future__ import annotations

import pytest

from ksm_py.families import RESOURCES

from ._util import Case, check

HEADERS = """
    # HELP kube_replicaset_created [STABLE] Unix creation timestamp
    # TYPE kube_replicaset_created gauge
    # HELP kube_replicaset_status_replicas [STABLE] The number of replicas per ReplicaSet.
    # TYPE kube_replicaset_status_replicas gauge
    # HELP kube_replicaset_status_fully_labeled_replicas [STABLE] The number of fully labeled replicas per ReplicaSet.
    # TYPE kube_replicaset_status_fully_labeled_replicas gauge
    # HELP kube_replicaset_status_ready_replicas [STABLE] The number of ready replicas per ReplicaSet.
    # TYPE kube_replicaset_status_ready_replicas gauge
    # HELP kube_replicaset_status_terminating_replicas The number of terminating replicas per ReplicaSet.
    # TYPE kube_replicaset_status_terminating_replicas gauge
    # HELP kube_replicaset_status_observed_generation [STABLE] The generation observed by the ReplicaSet controller.
    # TYPE kube_replicaset_status_observed_generation gauge
    # HELP kube_replicaset_spec_replicas [STABLE] Number of desired pods for a ReplicaSet.
    # TYPE kube_replicaset_spec_replicas gauge
    # HELP kube_replicaset_metadata_generation [STABLE] Sequence number representing a specific generation of the desired state.
    # TYPE kube_replicaset_metadata_generation gauge
    # HELP kube_replicaset_owner [STABLE] Information about the ReplicaSet's owner.
    # TYPE kube_replicaset_owner gauge
    # HELP kube_replicaset_annotations Kubernetes annotations converted to Prometheus labels.
    # TYPE kube_replicaset_annotations gauge
    # HELP kube_replicaset_labels [STABLE] Kubernetes labels converted to Prometheus labels.
    # TYPE kube_replicaset_labels gauge
"""

CASES = [
    Case(
        id="full",
        obj={"metadata": {"name": "rs1", "namespace": "ns1", "generation": 21,
                          "creationTimestamp": "2017-08-01T06:30:18Z",
                          "ownerReferences": [{"kind": "Deployment", "name": "dp-name", "controller": True}]},
             "spec": {"replicas": 5},
             "status": {"replicas": 5, "fullyLabeledReplicas": 10, "readyReplicas": 5, "terminatingReplicas": 2,
                        "observedGeneration": 1}},
        want=HEADERS + """
            kube_replicaset_created{namespace="ns1",replicaset="rs1"} 1.501569018e+09
            kube_replicaset_status_replicas{namespace="ns1",replicaset="rs1"} 5
            kube_replicaset_status_fully_labeled_replicas{namespace="ns1",replicaset="rs1"} 10
            kube_replicaset_status_ready_replicas{namespace="ns1",replicaset="rs1"} 5
            kube_replicaset_status_terminating_replicas{namespace="ns1",replicaset="rs1"} 2
            kube_replicaset_status_observed_generation{namespace="ns1",replicaset="rs1"} 1
            kube_replicaset_spec_replicas{namespace="ns1",replicaset="rs1"} 5
            kube_replicaset_metadata_generation{namespace="ns1",replicaset="rs1"} 21
            kube_replicaset_owner{namespace="ns1",replicaset="rs1",owner_kind="Deployment",owner_name="dp-name",owner_is_controller="true"} 1
        """,
    ),
    Case(
        # Pointer fields explicitly zero are still emitted; absent ones are not.
        id="empty-status-zero-pointers",
        obj={"metadata": {"name": "rs2", "namespace": "ns2"}, "spec": {"replicas": 0},
             "status": {"terminatingReplicas": 0}},
        want=HEADERS + """
            kube_replicaset_status_replicas{namespace="ns2",replicaset="rs2"} 0
            kube_replicaset_status_fully_labeled_replicas{namespace="ns2",replicaset="rs2"} 0
            kube_replicaset_status_ready_replicas{namespace="ns2",replicaset="rs2"} 0
            kube_replicaset_status_terminating_replicas{namespace="ns2",replicaset="rs2"} 0
            kube_replicaset_status_observed_generation{namespace="ns2",replicaset="rs2"} 0
            kube_replicaset_spec_replicas{namespace="ns2",replicaset="rs2"} 0
            kube_replicaset_metadata_generation{namespace="ns2",replicaset="rs2"} 0
            kube_replicaset_owner{namespace="ns2",replicaset="rs2",owner_kind="",owner_name="",owner_is_controller=""} 1
        """,
    ),
    Case(
        id="absent-pointers",
        obj={"metadata": {"name": "rs3", "namespace": "ns3"}},
        families=["kube_replicaset_spec_replicas", "kube_replicaset_status_terminating_replicas",
                  "kube_replicaset_created"],
        want="""
            # HELP kube_replicaset_created [STABLE] Unix creation timestamp
            # TYPE kube_replicaset_created gauge
            # HELP kube_replicaset_spec_replicas [STABLE] Number of desired pods for a ReplicaSet.
            # TYPE kube_replicaset_spec_replicas gauge
            # HELP kube_replicaset_status_terminating_replicas The number of terminating replicas per ReplicaSet.
            # TYPE kube_replicaset_status_terminating_replicas gauge
        """,
    ),
    Case(
        id="several-owners",
        obj={"metadata": {"name": "rs4", "namespace": "ns4",
                          "ownerReferences": [{"kind": "Deployment", "name": "a", "controller": False},
                                              {"kind": "Foo", "name": "b"}]}},
        families=["kube_replicaset_owner"],
        want="""
            # HELP kube_replicaset_owner [STABLE] Information about the ReplicaSet's owner.
            # TYPE kube_replicaset_owner gauge
            kube_replicaset_owner{namespace="ns4",replicaset="rs4",owner_kind="Deployment",owner_name="a",owner_is_controller="false"} 1
            kube_replicaset_owner{namespace="ns4",replicaset="rs4",owner_kind="Foo",owner_name="b",owner_is_controller="false"} 1
        """,
    ),
    Case(
        id="allowlists-sanitised-with-conflict",
        obj={"metadata": {"name": "rs5", "namespace": "ns5",
                          "labels": {"app": "web", "team-name": "a", "team_name": "b", "other": "x"},
                          "annotations": {"example.com/owner": "me", "skip": "y"}}},
        labels_allowlist=["app", "team*"],
        annotations_allowlist=["example.com/owner"],
        families=["kube_replicaset_labels", "kube_replicaset_annotations"],
        want="""
            # HELP kube_replicaset_annotations Kubernetes annotations converted to Prometheus labels.
            # TYPE kube_replicaset_annotations gauge
            # HELP kube_replicaset_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # TYPE kube_replicaset_labels gauge
            kube_replicaset_annotations{namespace="ns5",replicaset="rs5",annotation_example_com_owner="me"} 1
            kube_replicaset_labels{namespace="ns5",replicaset="rs5",label_app="web",label_team_name_conflict1="a",label_team_name_conflict2="b"} 1
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_replicasets(case: Case) -> None:
    check("replicasets", case)


def test_family_order() -> None:
    assert [f.name for f in RESOURCES["replicasets"].families] == [
        "kube_replicaset_created",
        "kube_replicaset_status_replicas",
        "kube_replicaset_status_fully_labeled_replicas",
        "kube_replicaset_status_ready_replicas",
        "kube_replicaset_status_terminating_replicas",
        "kube_replicaset_status_observed_generation",
        "kube_replicaset_spec_replicas",
        "kube_replicaset_metadata_generation",
        "kube_replicaset_owner",
        "kube_replicaset_annotations",
        "kube_replicaset_labels",
    ]
