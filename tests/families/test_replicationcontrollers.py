"""kube_replicationcontroller_* families (upstream replicationcontroller_test.go, plus edge cases)."""

from __future__ import annotations

import pytest

from ksm_py.families import RESOURCES

from ._util import Case, check

HEADERS = """
    # HELP kube_replicationcontroller_created [STABLE] Unix creation timestamp
    # TYPE kube_replicationcontroller_created gauge
    # HELP kube_replicationcontroller_status_replicas [STABLE] The number of replicas per ReplicationController.
    # TYPE kube_replicationcontroller_status_replicas gauge
    # HELP kube_replicationcontroller_status_fully_labeled_replicas [STABLE] The number of fully labeled replicas per ReplicationController.
    # TYPE kube_replicationcontroller_status_fully_labeled_replicas gauge
    # HELP kube_replicationcontroller_status_ready_replicas [STABLE] The number of ready replicas per ReplicationController.
    # TYPE kube_replicationcontroller_status_ready_replicas gauge
    # HELP kube_replicationcontroller_status_available_replicas [STABLE] The number of available replicas per ReplicationController.
    # TYPE kube_replicationcontroller_status_available_replicas gauge
    # HELP kube_replicationcontroller_status_observed_generation [STABLE] The generation observed by the ReplicationController controller.
    # TYPE kube_replicationcontroller_status_observed_generation gauge
    # HELP kube_replicationcontroller_spec_replicas [STABLE] Number of desired pods for a ReplicationController.
    # TYPE kube_replicationcontroller_spec_replicas gauge
    # HELP kube_replicationcontroller_metadata_generation [STABLE] Sequence number representing a specific generation of the desired state.
    # TYPE kube_replicationcontroller_metadata_generation gauge
    # HELP kube_replicationcontroller_owner Information about the ReplicationController's owner.
    # TYPE kube_replicationcontroller_owner gauge
"""

CASES = [
    Case(
        id="full",
        obj={"metadata": {"name": "rc1", "namespace": "ns1", "generation": 21,
                          "creationTimestamp": "2017-08-01T06:30:18Z",
                          "ownerReferences": [{"kind": "Foo", "name": "bar", "controller": True}]},
             "spec": {"replicas": 5},
             "status": {"replicas": 5, "fullyLabeledReplicas": 10, "readyReplicas": 5, "availableReplicas": 3,
                        "observedGeneration": 1}},
        want=HEADERS + """
            kube_replicationcontroller_created{namespace="ns1",replicationcontroller="rc1"} 1.501569018e+09
            kube_replicationcontroller_status_replicas{namespace="ns1",replicationcontroller="rc1"} 5
            kube_replicationcontroller_status_fully_labeled_replicas{namespace="ns1",replicationcontroller="rc1"} 10
            kube_replicationcontroller_status_ready_replicas{namespace="ns1",replicationcontroller="rc1"} 5
            kube_replicationcontroller_status_available_replicas{namespace="ns1",replicationcontroller="rc1"} 3
            kube_replicationcontroller_status_observed_generation{namespace="ns1",replicationcontroller="rc1"} 1
            kube_replicationcontroller_spec_replicas{namespace="ns1",replicationcontroller="rc1"} 5
            kube_replicationcontroller_metadata_generation{namespace="ns1",replicationcontroller="rc1"} 21
            kube_replicationcontroller_owner{namespace="ns1",replicationcontroller="rc1",owner_kind="Foo",owner_name="bar",owner_is_controller="true"} 1
        """,
    ),
    Case(
        id="empty",
        obj={"metadata": {"name": "rc2", "namespace": "ns2"}},
        want=HEADERS + """
            kube_replicationcontroller_status_replicas{namespace="ns2",replicationcontroller="rc2"} 0
            kube_replicationcontroller_status_fully_labeled_replicas{namespace="ns2",replicationcontroller="rc2"} 0
            kube_replicationcontroller_status_ready_replicas{namespace="ns2",replicationcontroller="rc2"} 0
            kube_replicationcontroller_status_available_replicas{namespace="ns2",replicationcontroller="rc2"} 0
            kube_replicationcontroller_status_observed_generation{namespace="ns2",replicationcontroller="rc2"} 0
            kube_replicationcontroller_metadata_generation{namespace="ns2",replicationcontroller="rc2"} 0
            kube_replicationcontroller_owner{namespace="ns2",replicationcontroller="rc2",owner_kind="",owner_name="",owner_is_controller=""} 1
        """,
    ),
    Case(
        id="zero-replicas-and-owner-without-controller-flag",
        obj={"metadata": {"name": "rc3", "namespace": "ns3", "ownerReferences": [{"kind": "Foo", "name": "bar"}]},
             "spec": {"replicas": 0}},
        families=["kube_replicationcontroller_spec_replicas", "kube_replicationcontroller_owner"],
        want="""
            # HELP kube_replicationcontroller_spec_replicas [STABLE] Number of desired pods for a ReplicationController.
            # TYPE kube_replicationcontroller_spec_replicas gauge
            # HELP kube_replicationcontroller_owner Information about the ReplicationController's owner.
            # TYPE kube_replicationcontroller_owner gauge
            kube_replicationcontroller_spec_replicas{namespace="ns3",replicationcontroller="rc3"} 0
            kube_replicationcontroller_owner{namespace="ns3",replicationcontroller="rc3",owner_kind="Foo",owner_name="bar",owner_is_controller="false"} 1
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_replicationcontrollers(case: Case) -> None:
    check("replicationcontrollers", case)


def test_no_allowlist_families() -> None:
    resource = RESOURCES["replicationcontrollers"]
    assert not resource.supports_allowlists
    assert [f.name for f in resource.families] == [
        "kube_replicationcontroller_created",
        "kube_replicationcontroller_status_replicas",
        "kube_replicationcontroller_status_fully_labeled_replicas",
        "kube_replicationcontroller_status_ready_replicas",
        "kube_replicationcontroller_status_available_replicas",
        "kube_replicationcontroller_status_observed_generation",
        "kube_replicationcontroller_spec_replicas",
        "kube_replicationcontroller_metadata_generation",
        "kube_replicationcontroller_owner",
    ]
