"""kube_configmap_* families (upstream internal/store/configmap_test.go, plus edge cases)."""

from __future__ import annotations

import pytest

from ksm_py.families import RESOURCES

from ._util import Case, check

HEADERS = """
    # HELP kube_configmap_annotations Kubernetes annotations converted to Prometheus labels.
    # TYPE kube_configmap_annotations gauge
    # HELP kube_configmap_labels [STABLE] Kubernetes labels converted to Prometheus labels.
    # TYPE kube_configmap_labels gauge
    # HELP kube_configmap_info [STABLE] Information about configmap.
    # TYPE kube_configmap_info gauge
    # HELP kube_configmap_created [STABLE] Unix creation timestamp
    # TYPE kube_configmap_created gauge
    # HELP kube_configmap_metadata_resource_version Resource version representing a specific version of the configmap.
    # TYPE kube_configmap_metadata_resource_version gauge
"""

CASES = [
    Case(
        id="all-families-no-allowlist",
        obj={"metadata": {"name": "cm1", "namespace": "ns1", "creationTimestamp": "2017-08-01T06:30:18Z",
                          "resourceVersion": "123456", "labels": {"app": "x"}},
             "data": {"key": "value"}},
        want=HEADERS + """
            kube_configmap_info{namespace="ns1",configmap="cm1"} 1
            kube_configmap_created{namespace="ns1",configmap="cm1"} 1.501569018e+09
            kube_configmap_metadata_resource_version{namespace="ns1",configmap="cm1"} 123456
        """,
    ),
    Case(
        id="no-created-unparsable-resource-version",
        obj={"metadata": {"name": "cm2", "namespace": "ns2", "resourceVersion": "abc"}},
        want=HEADERS + """
            kube_configmap_info{namespace="ns2",configmap="cm2"} 1
        """,
    ),
    Case(
        id="allowlists-sanitised-with-conflict",
        obj={"metadata": {"name": "cm3", "namespace": "ns3",
                          "labels": {"foo-bar": "dash", "foo_bar": "underscore", "app.kubernetes.io/name": "web",
                                     "ignored": "x"},
                          "annotations": {"camelCase": "v", "other": "w"}}},
        labels_allowlist=["foo*", "app.kubernetes.io/name"],
        annotations_allowlist=["camelCase"],
        families=["kube_configmap_labels", "kube_configmap_annotations"],
        want="""
            # HELP kube_configmap_annotations Kubernetes annotations converted to Prometheus labels.
            # TYPE kube_configmap_annotations gauge
            # HELP kube_configmap_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # TYPE kube_configmap_labels gauge
            kube_configmap_annotations{namespace="ns3",configmap="cm3",annotation_camel_case="v"} 1
            kube_configmap_labels{namespace="ns3",configmap="cm3",label_app_kubernetes_io_name="web",label_foo_bar_conflict1="dash",label_foo_bar_conflict2="underscore"} 1
        """,
    ),
    Case(
        id="allowlist-without-matching-keys",
        obj={"metadata": {"name": "cm4", "namespace": "ns4"}},
        labels_allowlist=["app"],
        families=["kube_configmap_labels"],
        want="""
            # HELP kube_configmap_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # TYPE kube_configmap_labels gauge
            kube_configmap_labels{namespace="ns4",configmap="cm4"} 1
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_configmaps(case: Case) -> None:
    check("configmaps", case)


def test_configmaps_are_metadata_only() -> None:
    assert RESOURCES["configmaps"].metadata_only


def test_family_order() -> None:
    assert [f.name for f in RESOURCES["configmaps"].families] == [
        "kube_configmap_annotations",
        "kube_configmap_labels",
        "kube_configmap_info",
        "kube_configmap_created",
        "kube_configmap_metadata_resource_version",
    ]
