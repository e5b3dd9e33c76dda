"""clusterrolebindings families. Provenance: ksm-py's own cases, a few after upstream internal/store/clusterrolebinding_test.go;
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check, render

RESOURCE = "clusterrolebindings"
FAMILIES = ["kube_clusterrolebinding_annotations", "kube_clusterrolebinding_labels", "kube_clusterrolebinding_info",
            "kube_clusterrolebinding_created", "kube_clusterrolebinding_metadata_resource_version"]

CASES = [
    Case(id="all families, no allowlists",
         obj={"metadata": {"name": "crb", "resourceVersion": "42", "creationTimestamp": "2017-08-01T06:30:18Z"},
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
              "subjects": [{"kind": "User", "name": "jane"}]},
         want="""
         # HELP kube_clusterrolebinding_annotations Kubernetes annotations converted to Prometheus labels.
         # TYPE kube_clusterrolebinding_annotations gauge
         # HELP kube_clusterrolebinding_labels Kubernetes labels converted to Prometheus labels.
         # TYPE kube_clusterrolebinding_labels gauge
         # HELP kube_clusterrolebinding_info Information about clusterrolebinding.
         # TYPE kube_clusterrolebinding_info gauge
         kube_clusterrolebinding_info{clusterrolebinding="crb",roleref_kind="ClusterRole",roleref_name="admin"} 1
         # HELP kube_clusterrolebinding_created Unix creation timestamp
         # TYPE kube_clusterrolebinding_created gauge
         kube_clusterrolebinding_created{clusterrolebinding="crb"} 1.501569018e+09
         # HELP kube_clusterrolebinding_metadata_resource_version Resource version representing a specific version of the clusterrolebinding.
         # TYPE kube_clusterrolebinding_metadata_resource_version gauge
         kube_clusterrolebinding_metadata_resource_version{clusterrolebinding="crb"} 42
         """),
    Case(id="missing roleRef, timestamp and resourceVersion",
         obj={"metadata": {"name": "crb"}},
         families=FAMILIES[2:],
         want="""
         # HELP kube_clusterrolebinding_info Information about clusterrolebinding.
         # TYPE kube_clusterrolebinding_info gauge
         kube_clusterrolebinding_info{clusterrolebinding="crb",roleref_kind="",roleref_name=""} 1
         # HELP kube_clusterrolebinding_created Unix creation timestamp
         # TYPE kube_clusterrolebinding_created gauge
         # HELP kube_clusterrolebinding_metadata_resource_version Resource version representing a specific version of the clusterrolebinding.
         # TYPE kube_clusterrolebinding_metadata_resource_version gauge
         """),
    Case(id="allowlists with sanitising and conflicts",
         obj={"metadata": {"name": "crb", "labels": {"a.b": "1", "a-b": "2", "a_b": "3"},
                           "annotations": {"camelCase": "c"}},
              "roleRef": {"kind": "ClusterRole", "name": "view"}},
         labels_allowlist=["*"], annotations_allowlist=["camelCase"],
         families=["kube_clusterrolebinding_labels", "kube_clusterrolebinding_annotations"],
         want="""
         # HELP kube_clusterrolebinding_annotations Kubernetes annotations converted to Prometheus labels.
         # TYPE kube_clusterrolebinding_annotations gauge
         # HELP kube_clusterrolebinding_labels Kubernetes labels converted to Prometheus labels.
         # TYPE kube_clusterrolebinding_labels gauge
         kube_clusterrolebinding_annotations{clusterrolebinding="crb",annotation_camel_case="c"} 1
         kube_clusterrolebinding_labels{clusterrolebinding="crb",label_a_b_conflict1="2",label_a_b_conflict2="1",label_a_b_conflict3="3"} 1
         """),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_clusterrolebindings(case: Case) -> None:
    check(RESOURCE, case)


def test_family_order() -> None:
    text = render(RESOURCE, [{"metadata": {"name": "b"}}])
    assert [line.split()[2] for line in text.splitlines() if line.startswith("# HELP")] == FAMILIES
