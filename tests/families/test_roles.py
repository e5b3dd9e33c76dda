"""roles families. Provenance: ksm-py's own cases (upstream internal/store/role_test.go is not mirrored);
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check, render

RESOURCE = "roles"
FAMILIES = ["kube_role_annotations", "kube_role_labels", "kube_role_info", "kube_role_created",
            "kube_role_metadata_resource_version"]

CASES = [
    Case(id="all families, no allowlists",
         obj={"metadata": {"name": "reader", "namespace": "ns1", "resourceVersion": "10596",
                           "creationTimestamp": "2017-08-01T06:30:18Z", "labels": {"app": "x"}}},
         want="""
         # HELP kube_role_annotations Kubernetes annotations converted to Prometheus labels.
         # TYPE kube_role_annotations gauge
         # HELP kube_role_labels Kubernetes labels converted to Prometheus labels.
         # TYPE kube_role_labels gauge
         # HELP kube_role_info Information about role.
         # TYPE kube_role_info gauge
         kube_role_info{namespace="ns1",role="reader"} 1
         # HELP kube_role_created Unix creation timestamp
         # TYPE kube_role_created gauge
         kube_role_created{namespace="ns1",role="reader"} 1.501569018e+09
         # HELP kube_role_metadata_resource_version Resource version representing a specific version of the role.
         # TYPE kube_role_metadata_resource_version gauge
         kube_role_metadata_resource_version{namespace="ns1",role="reader"} 10596
         """),
    Case(id="missing timestamp and unparsable resourceVersion",
         obj={"metadata": {"name": "reader", "namespace": "ns1", "resourceVersion": "abc"}},
         families=["kube_role_created", "kube_role_metadata_resource_version"],
         want="""
         # HELP kube_role_created Unix creation timestamp
         # TYPE kube_role_created gauge
         # HELP kube_role_metadata_resource_version Resource version representing a specific version of the role.
         # TYPE kube_role_metadata_resource_version gauge
         """),
    Case(id="allowlists with sanitising and conflicts",
         obj={"metadata": {"name": "reader", "namespace": "ns1",
                           "labels": {"team.io/Owner": "t", "team_io_Owner": "u", "skip": "me"},
                           "annotations": {"kubernetes.io/description": "d"}}},
         labels_allowlist=["team*"], annotations_allowlist=["*"],
         families=["kube_role_labels", "kube_role_annotations"],
         want="""
         # HELP kube_role_annotations Kubernetes annotations converted to Prometheus labels.
         # TYPE kube_role_annotations gauge
         # HELP kube_role_labels Kubernetes labels converted to Prometheus labels.
         # TYPE kube_role_labels gauge
         kube_role_annotations{namespace="ns1",role="reader",annotation_kubernetes_io_description="d"} 1
         kube_role_labels{namespace="ns1",role="reader",label_team_io_owner_conflict1="t",label_team_io_owner_conflict2="u"} 1
         """),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_roles(case: Case) -> None:
    check(RESOURCE, case)


def test_family_order() -> None:
    text = render(RESOURCE, [{"metadata": {"name": "r", "namespace": "ns"}}])
    assert [line.split()[2] for line in text.splitlines() if line.startswith("# HELP")] == FAMILIES
