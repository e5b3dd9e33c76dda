"""serviceaccounts families. Provenance: ksm-py's own cases (upstream internal/store/serviceaccount_test.go is not mirrored);
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check, render

RESOURCE = "serviceaccounts"
FAMILIES = ["kube_serviceaccount_info", "kube_serviceaccount_created", "kube_serviceaccount_deleted",
            "kube_serviceaccount_secret", "kube_serviceaccount_image_pull_secret",
            "kube_serviceaccount_annotations", "kube_serviceaccount_labels"]

HEADERS = """
# HELP kube_serviceaccount_info Information about a service account
# TYPE kube_serviceaccount_info gauge
# HELP kube_serviceaccount_created Unix creation timestamp
# TYPE kube_serviceaccount_created gauge
# HELP kube_serviceaccount_deleted Unix deletion timestamp
# TYPE kube_serviceaccount_deleted gauge
# HELP kube_serviceaccount_secret Secret being referenced by a service account
# TYPE kube_serviceaccount_secret gauge
# HELP kube_serviceaccount_image_pull_secret Secret being referenced by a service account for the purpose of pulling images
# TYPE kube_serviceaccount_image_pull_secret gauge
# HELP kube_serviceaccount_annotations Kubernetes annotations converted to Prometheus labels.
# TYPE kube_serviceaccount_annotations gauge
# HELP kube_serviceaccount_labels Kubernetes labels converted to Prometheus labels.
# TYPE kube_serviceaccount_labels gauge
"""

CASES = [
    Case(id="all families",
         obj={"metadata": {"name": "sa", "namespace": "ns1", "uid": "u1", "creationTimestamp": "2017-07-14T02:40:00Z",
                           "deletionTimestamp": "2065-01-24T05:20:00Z"},
              "secrets": [{"name": "tok-1"}, {"name": "tok-2", "namespace": "ns1"}],
              "imagePullSecrets": [{"name": "registry"}],
              "automountServiceAccountToken": False},
         want=HEADERS + """
         kube_serviceaccount_info{namespace="ns1",serviceaccount="sa",uid="u1",automount_token="false"} 1
         kube_serviceaccount_created{namespace="ns1",serviceaccount="sa",uid="u1"} 1.5e+09
         kube_serviceaccount_deleted{namespace="ns1",serviceaccount="sa",uid="u1"} 3e+09
         kube_serviceaccount_secret{namespace="ns1",serviceaccount="sa",uid="u1",name="tok-1"} 1
         kube_serviceaccount_secret{namespace="ns1",serviceaccount="sa",uid="u1",name="tok-2"} 1
         kube_serviceaccount_image_pull_secret{namespace="ns1",serviceaccount="sa",uid="u1",name="registry"} 1
         """),
    Case(id="bare object: automount unset, no timestamps, no secrets",
         obj={"metadata": {"name": "default", "namespace": "ns2", "uid": "u2"}},
         want=HEADERS + """
         kube_serviceaccount_info{namespace="ns2",serviceaccount="default",uid="u2",automount_token=""} 1
         """),
    Case(id="automount true",
         obj={"metadata": {"name": "sa", "namespace": "ns", "uid": "u"}, "automountServiceAccountToken": True},
         families=["kube_serviceaccount_info"],
         want="""
         # HELP kube_serviceaccount_info Information about a service account
         # TYPE kube_serviceaccount_info gauge
         kube_serviceaccount_info{namespace="ns",serviceaccount="sa",uid="u",automount_token="true"} 1
         """),
    Case(id="allowlists with sanitising and conflicts",
         obj={"metadata": {"name": "sa", "namespace": "ns", "uid": "u",
                           "labels": {"app.kubernetes.io/name": "web", "app_kubernetes_io_name": "dup", "other": "x"},
                           "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/r"}}},
         labels_allowlist=["app*"], annotations_allowlist=["eks.amazonaws.com/role-arn"],
         families=["kube_serviceaccount_labels", "kube_serviceaccount_annotations"],
         want="""
         # HELP kube_serviceaccount_annotations Kubernetes annotations converted to Prometheus labels.
         # TYPE kube_serviceaccount_annotations gauge
         # HELP kube_serviceaccount_labels Kubernetes labels converted to Prometheus labels.
         # TYPE kube_serviceaccount_labels gauge
         kube_serviceaccount_annotations{namespace="ns",serviceaccount="sa",uid="u",annotation_eks_amazonaws_com_role_arn="arn:aws:iam::1:role/r"} 1
         kube_serviceaccount_labels{namespace="ns",serviceaccount="sa",uid="u",label_app_kubernetes_io_name_conflict1="web",label_app_kubernetes_io_name_conflict2="dup"} 1
         """),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_serviceaccounts(case: Case) -> None:
    check(RESOURCE, case)


def test_family_order() -> None:
    text = render(RESOURCE, [{"metadata": {"name": "sa", "namespace": "ns", "uid": "u"}}])
    assert [line.split()[2] for line in text.splitlines() if line.startswith("# HELP")] == FAMILIES
