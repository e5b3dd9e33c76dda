"""kube_daemonset_* families (upstream daemonset_test.go, plus edge cases)."""

from __future__ import annotations

import pytest

from ksm_py.families import RESOURCES

from ._util import Case, check

HEADERS = """
    # HELP kube_daemonset_created [STABLE] Unix creation timestamp
    # TYPE kube_daemonset_created gauge
    # HELP kube_daemonset_status_current_number_scheduled [STABLE] The number of nodes running at least one daemon pod and are supposed to.
    # TYPE kube_daemonset_status_current_number_scheduled gauge
    # HELP kube_daemonset_status_desired_number_scheduled [STABLE] The number of nodes that should be running the daemon pod.
    # TYPE kube_daemonset_status_desired_number_scheduled gauge
    # HELP kube_daemonset_status_number_available [STABLE] The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available
    # TYPE kube_daemonset_status_number_available gauge
    # HELP kube_daemonset_status_number_misscheduled [STABLE] The number of nodes running a daemon pod but are not supposed to.
    # TYPE kube_daemonset_status_number_misscheduled gauge
    # HELP kube_daemonset_status_number_ready [STABLE] The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.
    # TYPE kube_daemonset_status_number_ready gauge
    # HELP kube_daemonset_status_number_unavailable [STABLE] The number of nodes that should be running the daemon pod and have none of the daemon pod running and available
    # TYPE kube_daemonset_status_number_unavailable gauge
    # HELP kube_daemonset_status_observed_generation [STABLE] The most recent generation observed by the daemon set controller.
    # TYPE kube_daemonset_status_observed_generation gauge
    # HELP kube_daemonset_status_updated_number_scheduled [STABLE] The total number of nodes that are running updated daemon pod
    # TYPE kube_daemonset_status_updated_number_scheduled gauge
    # HELP kube_daemonset_metadata_generation [STABLE] Sequence number representing a specific generation of the desired state.
    # TYPE kube_daemonset_metadata_generation gauge
    # HELP kube_daemonset_deletion_timestamp Unix deletion timestamp
    # TYPE kube_daemonset_deletion_timestamp gauge
    # HELP kube_daemonset_annotations Kubernetes annotations converted to Prometheus labels.
    # TYPE kube_daemonset_annotations gauge
    # HELP kube_daemonset_labels [STABLE] Kubernetes labels converted to Prometheus labels.
    # TYPE kube_daemonset_labels gauge
"""

CASES = [
    Case(
        id="full",
        obj={"metadata": {"name": "ds1", "namespace": "ns1", "generation": 21,
                          "creationTimestamp": "2017-08-01T06:30:18Z",
                          "deletionTimestamp": "2017-08-01T06:31:18Z"},
             "status": {"currentNumberScheduled": 15, "desiredNumberScheduled": 5, "numberAvailable": 7,
                        "numberMisscheduled": 10, "numberReady": 5, "numberUnavailable": 3,
                        "observedGeneration": 2, "updatedNumberScheduled": 1}},
        want=HEADERS + """
            kube_daemonset_created{namespace="ns1",daemonset="ds1"} 1.501569018e+09
            kube_daemonset_status_current_number_scheduled{namespace="ns1",daemonset="ds1"} 15
            kube_daemonset_status_desired_number_scheduled{namespace="ns1",daemonset="ds1"} 5
            kube_daemonset_status_number_available{namespace="ns1",daemonset="ds1"} 7
            kube_daemonset_status_number_misscheduled{namespace="ns1",daemonset="ds1"} 10
            kube_daemonset_status_number_ready{namespace="ns1",daemonset="ds1"} 5
            kube_daemonset_status_number_unavailable{namespace="ns1",daemonset="ds1"} 3
            kube_daemonset_status_observed_generation{namespace="ns1",daemonset="ds1"} 2
            kube_daemonset_status_updated_number_scheduled{namespace="ns1",daemonset="ds1"} 1
            kube_daemonset_metadata_generation{namespace="ns1",daemonset="ds1"} 21
            kube_daemonset_deletion_timestamp{namespace="ns1",daemonset="ds1"} 1.501569078e+09
        """,
    ),
    Case(
        id="empty",
        obj={"metadata": {"name": "ds2", "namespace": "ns2"}},
        want=HEADERS + """
            kube_daemonset_status_current_number_scheduled{namespace="ns2",daemonset="ds2"} 0
            kube_daemonset_status_desired_number_scheduled{namespace="ns2",daemonset="ds2"} 0
            kube_daemonset_status_number_available{namespace="ns2",daemonset="ds2"} 0
            kube_daemonset_status_number_misscheduled{namespace="ns2",daemonset="ds2"} 0
            kube_daemonset_status_number_ready{namespace="ns2",daemonset="ds2"} 0
            kube_daemonset_status_number_unavailable{namespace="ns2",daemonset="ds2"} 0
            kube_daemonset_status_observed_generation{namespace="ns2",daemonset="ds2"} 0
            kube_daemonset_status_updated_number_scheduled{namespace="ns2",daemonset="ds2"} 0
            kube_daemonset_metadata_generation{namespace="ns2",daemonset="ds2"} 0
        """,
    ),
    Case(
        id="allowlists-sanitised-with-conflict",
        obj={"metadata": {"name": "ds3", "namespace": "ns3",
                          "labels": {"app.kubernetes.io/name": "agent", "k8s-app": "a", "k8s_app": "b"},
                          "annotations": {"deprecated.daemonset.template.generation": "1", "note": "x"}}},
        labels_allowlist=["*"],
        annotations_allowlist=["deprecated.*"],
        families=["kube_daemonset_labels", "kube_daemonset_annotations"],
        want="""
            # HELP kube_daemonset_annotations Kubernetes annotations converted to Prometheus labels.
            # TYPE kube_daemonset_annotations gauge
            # HELP kube_daemonset_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # TYPE kube_daemonset_labels gauge
            kube_daemonset_annotations{namespace="ns3",daemonset="ds3",annotation_deprecated_daemonset_template_generation="1"} 1
            kube_daemonset_labels{namespace="ns3",daemonset="ds3",label_app_kubernetes_io_name="agent",label_k8s_app_conflict1="a",label_k8s_app_conflict2="b"} 1
        """,
    ),
    Case(
        # An allowlist entry that matches nothing still yields one series with the identity labels.
        id="allowlist-without-matches",
        obj={"metadata": {"name": "ds4", "namespace": "ns4", "labels": {"app": "x"}}},
        labels_allowlist=["missing"],
        families=["kube_daemonset_labels"],
        want="""
            # HELP kube_daemonset_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # TYPE kube_daemonset_labels gauge
            kube_daemonset_labels{namespace="ns4",daemonset="ds4"} 1
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_daemonsets(case: Case) -> None:
    check("daemonsets", case)


def test_family_order() -> None:
    assert [f.name for f in RESOURCES["daemonsets"].families] == [
        "kube_daemonset_created",
        "kube_daemonset_status_current_number_scheduled",
        "kube_daemonset_status_desired_number_scheduled",
        "kube_daemonset_status_number_available",
        "kube_daemonset_status_number_misscheduled",
        "kube_daemonset_status_number_ready",
        "kube_daemonset_status_number_unavailable",
        "kube_daemonset_status_observed_generation",
        "kube_daemonset_status_updated_number_scheduled",
        "kube_daemonset_metadata_generation",
        "kube_daemonset_deletion_timestamp",
        "kube_daemonset_annotations",
        "kube_daemonset_labels",
    ]
