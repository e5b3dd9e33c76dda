"""ingressclasses families. Provenance: ksm-py's own cases (upstream internal/store/ingressclass_test.go is not mirrored);
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check

HEADERS = """
# HELP kube_ingressclass_info Information about ingressclass.
# TYPE kube_ingressclass_info gauge
# HELP kube_ingressclass_created Unix creation timestamp
# TYPE kube_ingressclass_created gauge
# HELP kube_ingressclass_annotations Kubernetes annotations converted to Prometheus labels.
# TYPE kube_ingressclass_annotations gauge
# HELP kube_ingressclass_labels Kubernetes labels converted to Prometheus labels.
# TYPE kube_ingressclass_labels gauge
"""

CASES = [
    Case(
        id="all-families",
        obj={"metadata": {"name": "nginx", "creationTimestamp": "2017-07-14T02:40:00Z"},
             "spec": {"controller": "k8s.io/ingress-nginx"}},
        want=HEADERS + """
kube_ingressclass_info{ingressclass="nginx",controller="k8s.io/ingress-nginx"} 1
kube_ingressclass_created{ingressclass="nginx"} 1.5e+09
""",
    ),
    Case(
        id="no-spec",
        obj={"metadata": {"name": "nginx"}},
        want=HEADERS + 'kube_ingressclass_info{ingressclass="nginx",controller=""} 1\n',
    ),
    Case(
        id="allowlists",
        obj={"metadata": {"name": "nginx", "labels": {"app": "x", "App": "y"},
                          "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}}},
        labels_allowlist=["*"],
        annotations_allowlist=["ingressclass.kubernetes.io/is-default-class"],
        families=["kube_ingressclass_labels", "kube_ingressclass_annotations"],
        want="""
# HELP kube_ingressclass_annotations Kubernetes annotations converted to Prometheus labels.
# TYPE kube_ingressclass_annotations gauge
# HELP kube_ingressclass_labels Kubernetes labels converted to Prometheus labels.
# TYPE kube_ingressclass_labels gauge
kube_ingressclass_annotations{ingressclass="nginx",annotation_ingressclass_kubernetes_io_is_default_class="true"} 1
kube_ingressclass_labels{ingressclass="nginx",label_app_conflict1="y",label_app_conflict2="x"} 1
""",
    ),
    Case(
        id="empty-allowlist",
        obj={"metadata": {"name": "nginx", "labels": {"app": "x"}}},
        labels_allowlist=[],
        families=["kube_ingressclass_labels"],
        want="""
# HELP kube_ingressclass_labels Kubernetes labels converted to Prometheus labels.
# TYPE kube_ingressclass_labels gauge
""",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_ingressclasses(case: Case) -> None:
    check("ingressclasses", case)
