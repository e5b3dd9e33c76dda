"""rolebindings families. Provenance: ksm-py's own cases, a few after upstream internal/store/rolebinding_test.go;
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check, render

RESOURCE = "rolebindings"
FAMILIES = ["kube_rolebinding_annotations", "kube_rolebinding_labels", "kube_rolebinding_info",
            "kube_rolebinding_created", "kube_rolebinding_metadata_resource_version"]

CASES = [
    Case(id="all families, no allowlists",
         obj={"metadata": {"name": "rb", "namespace": "ns1", "resourceVersion": "7",
                           "creationTimestamp": "2017-08-01T06:30:18Z"},
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"}},
         want="""
         # HELP kube_rolebinding_annotations Kubernetes annotations converted to Prometheus labels.
         # TYPE kube_rolebinding_annotations gauge
         # HELP kube_rolebinding_labels Kubernetes labels converted to Prometheus labels.
         # TYPE kube_rolebinding_labels gauge
         # HELP kube_rolebinding_info Information about rolebinding.
         # TYPE kube_rolebinding_info gauge
         kube_rolebinding_info{namespace="ns1",rolebinding="rb",roleref_kind="Role",roleref_name="reader"} 1
         # HELP kube_rolebinding_created Unix creation timestamp
         # TYPE kube_rolebinding_created gauge
         kube_rolebinding_created{namespace="ns1",rolebinding="rb"} 1.501569018e+09
         # HELP kube_rolebinding_metadata_resource_version Resource version representing a specific version of the rolebinding.
         # TYPE kube_rolebinding_metadata_resource_version gauge
         kube_rolebinding_metadata_resource_version{namespace="ns1",rolebinding="rb"} 7
         """),
    Case(id="missing roleRef, timestamp and resourceVersion",
         obj={"metadata": {"name": "rb", "namespace": "ns1"}},
         families=FAMILIES[2:],
         want="""
         # HELP kube_rolebinding_info Information about rolebinding.
         # TYPE kube_rolebinding_info gauge
         kube_rolebinding_info{namespace="ns1",rolebinding="rb",roleref_kind="",roleref_name=""} 1
         # HELP kube_rolebinding_created Unix creation timestamp
         # TYPE kube_rolebinding_created gauge
         # HELP kube_rolebinding_metadata_resource_version Resource version representing a specific version of the rolebinding.
         # TYPE kube_rolebinding_metadata_resource_version gauge
         """),
    Case(id="allowlists with sanitising and conflicts",
         obj={"metadata": {"name": "rb", "namespace": "ns1", "labels": {"x/y": "1", "x.y": "2", "z": "no"},
                           "annotations": {"note": "hi"}},
              "roleRef": {"kind": "Role", "name": "reader"}},
         labels_allowlist=["x*"], annotations_allowlist=["note"],
         families=["kube_rolebinding_labels", "kube_rolebinding_annotations"],
         want="""
         # HELP kube_rolebinding_annotations Kubernetes annotations converted to Prometheus labels.
         # TYPE kube_rolebinding_annotations gauge
         # HELP kube_rolebinding_labels Kubernetes labels converted to Prometheus labels.
         # TYPE kube_rolebinding_labels gauge
         kube_rolebinding_annotations{namespace="ns1",rolebinding="rb",annotation_note="hi"} 1
         kube_rolebinding_labels{namespace="ns1",rolebinding="rb",label_x_y_conflict1="2",label_x_y_conflict2="1"} 1
         """),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rolebindings(case: Case) -> None:
    check(RESOURCE, case)


def test_family_order() -> None:
    text = render(RESOURCE, [{"metadata": {"name": "b", "namespace": "ns"}}])
    assert [line.split()[2] for line in text.splitlines() if line.startswith("# HELP")] == FAMILIES
