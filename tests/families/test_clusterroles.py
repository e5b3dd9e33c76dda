"""clusterroles families. Provenance: ksm-py's own cases (upstream internal/store/clusterrole_test.go is not mirrored);
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check, render

RESOURCE = "clusterroles"
FAMILIES = ["kube_clusterrole_annotations", "kube_clusterrole_labels", "kube_clusterrole_info",
            "kube_clusterrole_created", "kube_clusterrole_metadata_resource_version"]

CASES = [
    Case(id="all families, no allowlists",
         obj={"metadata": {"name": "admin", "resourceVersion": "10596", "creationTimestamp": "2017-08-01T06:30:18Z",
                           "labels": {"app": "x"}, "annotations": {"a": "b"}}},
         want="""
         # HELP kube_clusterrole_annotations Kubernetes annotations converted to Prometheus labels.
         # TYPE kube_clusterrole_annotations gauge
         # HELP kube_clusterrole_labels Kubernetes labels converted to Prometheus labels.
         # TYPE kube_clusterrole_labels gauge
         # HELP kube_clusterrole_info Information about cluster role.
         # TYPE kube_clusterrole_info gauge
         kube_clusterrole_info{clusterrole="admin"} 1
         # HELP kube_clusterrole_created Unix creation timestamp
         # TYPE kube_clusterrole_created gauge
         kube_clusterrole_created{clusterrole="admin"} 1.501569018e+09
         # HELP kube_clusterrole_metadata_resource_version Resource version representing a specific version of the cluster role.
         # TYPE kube_clusterrole_metadata_resource_version gauge
         kube_clusterrole_metadata_resource_version{clusterrole="admin"} 10596
         """),
    Case(id="no creation timestamp, non-numeric resourceVersion",
         obj={"metadata": {"name": "view", "resourceVersion": "BBBBB"}},
         families=["kube_clusterrole_created", "kube_clusterrole_metadata_resource_version", "kube_clusterrole_info"],
         want="""
         # HELP kube_clusterrole_info Information about cluster role.
         # TYPE kube_clusterrole_info gauge
         kube_clusterrole_info{clusterrole="view"} 1
         # HELP kube_clusterrole_created Unix creation timestamp
         # TYPE kube_clusterrole_created gauge
         # HELP kube_clusterrole_metadata_resource_version Resource version representing a specific version of the cluster role.
         # TYPE kube_clusterrole_metadata_resource_version gauge
         """),
    Case(id="allowlists with sanitising and conflicts",
         obj={"metadata": {"name": "edit",
                           "labels": {"foo-bar": "dash", "foo_bar": "underscore", "app.kubernetes.io/name": "x",
                                      "excluded": "me"},
                           "annotations": {"app.k8s.io/owner": "@foo", "other": "no"}}},
         labels_allowlist=["foo*", "app.kubernetes.io/name"], annotations_allowlist=["app.k8s.io/owner"],
         families=["kube_clusterrole_labels", "kube_clusterrole_annotations"],
         want="""
         # HELP kube_clusterrole_annotations Kubernetes annotations converted to Prometheus labels.
         # TYPE kube_clusterrole_annotations gauge
         # HELP kube_clusterrole_labels Kubernetes labels converted to Prometheus labels.
         # TYPE kube_clusterrole_labels gauge
         kube_clusterrole_annotations{clusterrole="edit",annotation_app_k8s_io_owner="@foo"} 1
         kube_clusterrole_labels{clusterrole="edit",label_app_kubernetes_io_name="x",label_foo_bar_conflict1="dash",label_foo_bar_conflict2="underscore"} 1
         """),
    Case(id="allowlist entry but no matching keys still gives one series",
         obj={"metadata": {"name": "edit"}}, labels_allowlist=["team"], annotations_allowlist=["*"],
         families=["kube_clusterrole_labels", "kube_clusterrole_annotations"],
         want="""
         # HELP kube_clusterrole_annotations Kubernetes annotations converted to Prometheus labels.
         # TYPE kube_clusterrole_annotations gauge
         # HELP kube_clusterrole_labels Kubernetes labels converted to Prometheus labels.
         # TYPE kube_clusterrole_labels gauge
         kube_clusterrole_annotations{clusterrole="edit"} 1
         kube_clusterrole_labels{clusterrole="edit"} 1
         """),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_clusterroles(case: Case) -> None:
    check(RESOURCE, case)


def test_family_order() -> None:
    text = render(RESOURCE, [{"metadata": {"name": "r"}}])
    assert [line.split()[2] for line in text.splitlines() if line.startswith("# HELP")] == FAMILIES
