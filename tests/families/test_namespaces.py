"""kube_namespace_* families (upstream namespace_test.go, plus edge cases)."""

from __future__ import annotations

import pytest

from ._util import Case, check

HEADERS = """
    # HELP kube_namespace_created [STABLE] Unix creation timestamp
    # TYPE kube_namespace_created gauge
    # HELP kube_namespace_annotations Kubernetes annotations converted to Prometheus labels.
    # TYPE kube_namespace_annotations gauge
    # HELP kube_namespace_labels [STABLE] Kubernetes labels converted to Prometheus labels.
    # TYPE kube_namespace_labels gauge
    # HELP kube_namespace_status_phase [STABLE] kubernetes namespace status phase.
    # TYPE kube_namespace_status_phase gauge
    # HELP kube_namespace_status_condition The condition of a namespace.
    # TYPE kube_namespace_status_condition gauge
"""

CASES = [
    Case(
        id="active-with-created",
        obj={"metadata": {"name": "nsa", "creationTimestamp": "2017-08-01T06:30:18Z"}, "status": {"phase": "Active"}},
        want=HEADERS + """
            kube_namespace_created{namespace="nsa"} 1.501569018e+09
            kube_namespace_status_phase{namespace="nsa",phase="Active"} 1
            kube_namespace_status_phase{namespace="nsa",phase="Terminating"} 0
        """,
    ),
    Case(
        # No phase: both series 0; no creationTimestamp: no created series.
        id="no-phase",
        obj={"metadata": {"name": "nsb"}},
        want=HEADERS + """
            kube_namespace_status_phase{namespace="nsb",phase="Active"} 0
            kube_namespace_status_phase{namespace="nsb",phase="Terminating"} 0
        """,
    ),
    Case(
        id="terminating-with-conditions",
        obj={"metadata": {"name": "nsc"}, "status": {"phase": "Terminating", "conditions": [
            {"type": "NamespaceDeletionDiscoveryFailure", "status": "True"},
            {"type": "NamespaceContentRemaining", "status": "Unknown"}]}},
        want=HEADERS + """
            kube_namespace_status_phase{namespace="nsc",phase="Active"} 0
            kube_namespace_status_phase{namespace="nsc",phase="Terminating"} 1
            kube_namespace_status_condition{namespace="nsc",condition="NamespaceDeletionDiscoveryFailure",status="true"} 1
            kube_namespace_status_condition{namespace="nsc",condition="NamespaceDeletionDiscoveryFailure",status="false"} 0
            kube_namespace_status_condition{namespace="nsc",condition="NamespaceDeletionDiscoveryFailure",status="unknown"} 0
            kube_namespace_status_condition{namespace="nsc",condition="NamespaceContentRemaining",status="true"} 0
            kube_namespace_status_condition{namespace="nsc",condition="NamespaceContentRemaining",status="false"} 0
            kube_namespace_status_condition{namespace="nsc",condition="NamespaceContentRemaining",status="unknown"} 1
        """,
    ),
    Case(
        id="labels-sanitised-with-conflict-and-annotations",
        obj={"metadata": {"name": "nsd", "labels": {"team-name": "a", "team_name": "b", "appName": "x"},
                          "annotations": {"owner.io/contact": 'o"c', "skip": "y"}},
             "status": {"phase": "Active"}},
        labels_allowlist=["*"],
        annotations_allowlist=["owner.io/*"],
        families=["kube_namespace_labels", "kube_namespace_annotations"],
        want="""
            # HELP kube_namespace_annotations Kubernetes annotations converted to Prometheus labels.
            # TYPE kube_namespace_annotations gauge
            # HELP kube_namespace_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # TYPE kube_namespace_labels gauge
            kube_namespace_annotations{namespace="nsd",annotation_owner_io_contact="o\\"c"} 1
            kube_namespace_labels{namespace="nsd",label_app_name="x",label_team_name_conflict1="a",label_team_name_conflict2="b"} 1
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_namespaces(case: Case) -> None:
    check("namespaces", case)
