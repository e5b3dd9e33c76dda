"""kube_storageclass_* families (upstream internal/store/storageclass_test.go, plus edge cases)."""

from __future__ import annotations

import pytest

from ksm_py.families import RESOURCES

from ._util import Case, check

HEADERS = """
    # HELP kube_storageclass_info [STABLE] Information about storageclass.
    # TYPE kube_storageclass_info gauge
    # HELP kube_storageclass_created [STABLE] Unix creation timestamp
    # TYPE kube_storageclass_created gauge
    # HELP kube_storageclass_annotations Kubernetes annotations converted to Prometheus labels.
    # TYPE kube_storageclass_annotations gauge
    # HELP kube_storageclass_labels [STABLE] Kubernetes labels converted to Prometheus labels.
    # TYPE kube_storageclass_labels gauge
"""

CASES = [
    Case(
        id="defaults-when-policies-unset",
        obj={"metadata": {"name": "standard", "creationTimestamp": "2017-08-01T06:30:18Z"},
             "provisioner": "kubernetes.io/rbd"},
        want=HEADERS + """
            kube_storageclass_info{storageclass="standard",provisioner="kubernetes.io/rbd",reclaim_policy="Delete",volume_binding_mode="Immediate"} 1
            kube_storageclass_created{storageclass="standard"} 1.501569018e+09
        """,
    ),
    Case(
        id="explicit-policies",
        obj={"metadata": {"name": "fast"}, "provisioner": "ebs.csi.aws.com", "reclaimPolicy": "Retain",
             "volumeBindingMode": "WaitForFirstConsumer"},
        want=HEADERS + """
            kube_storageclass_info{storageclass="fast",provisioner="ebs.csi.aws.com",reclaim_policy="Retain",volume_binding_mode="WaitForFirstConsumer"} 1
        """,
    ),
    Case(
        id="empty-object",
        obj={"metadata": {"name": "bare"}},
        families=["kube_storageclass_info", "kube_storageclass_created"],
        want="""
            # HELP kube_storageclass_info [STABLE] Information about storageclass.
            # TYPE kube_storageclass_info gauge
            # HELP kube_storageclass_created [STABLE] Unix creation timestamp
            # TYPE kube_storageclass_created gauge
            kube_storageclass_info{storageclass="bare",provisioner="",reclaim_policy="Delete",volume_binding_mode="Immediate"} 1
        """,
    ),
    Case(
        id="allowlists-sanitised-with-conflict",
        obj={"metadata": {"name": "sc", "labels": {"tier.x": "1", "tier/x": "2", "env": "prod"},
                          "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}},
        labels_allowlist=["tier*"],
        annotations_allowlist=["storageclass.kubernetes.io/is-default-class"],
        families=["kube_storageclass_labels", "kube_storageclass_annotations"],
        want="""
            # HELP kube_storageclass_annotations Kubernetes annotations converted to Prometheus labels.
            # TYPE kube_storageclass_annotations gauge
            # HELP kube_storageclass_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # TYPE kube_storageclass_labels gauge
            kube_storageclass_annotations{storageclass="sc",annotation_storageclass_kubernetes_io_is_default_class="true"} 1
            kube_storageclass_labels{storageclass="sc",label_tier_x_conflict1="1",label_tier_x_conflict2="2"} 1
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_storageclasses(case: Case) -> None:
    check("storageclasses", case)


def test_family_order() -> None:
    assert [f.name for f in RESOURCES["storageclasses"].families] == [
        "kube_storageclass_info",
        "kube_storageclass_created",
        "kube_storageclass_annotations",
        "kube_storageclass_labels",
    ]
