"""kube_persistentvolumeclaim_* families (upstream persistentvolumeclaim_test.go, plus edge cases)."""

from __future__ import annotations

import pytest

from ksm_py.families import RESOURCES

from ._util import Case, check

# Labels come before annotations for this resource.
HEADERS = """
    # HELP kube_persistentvolumeclaim_labels [STABLE] Kubernetes labels converted to Prometheus labels.
    # TYPE kube_persistentvolumeclaim_labels gauge
    # HELP kube_persistentvolumeclaim_annotations Kubernetes annotations converted to Prometheus labels.
    # TYPE kube_persistentvolumeclaim_annotations gauge
    # HELP kube_persistentvolumeclaim_info [STABLE] Information about persistent volume claim.
    # TYPE kube_persistentvolumeclaim_info gauge
    # HELP kube_persistentvolumeclaim_status_phase [STABLE] The phase the persistent volume claim is currently in.
    # TYPE kube_persistentvolumeclaim_status_phase gauge
    # HELP kube_persistentvolumeclaim_resource_requests_storage_bytes [STABLE] The capacity of storage requested by the persistent volume claim.
    # TYPE kube_persistentvolumeclaim_resource_requests_storage_bytes gauge
    # HELP kube_persistentvolumeclaim_access_mode [STABLE] The access mode(s) specified by the persistent volume claim.
    # TYPE kube_persistentvolumeclaim_access_mode gauge
    # HELP kube_persistentvolumeclaim_status_condition Information about status of different conditions of persistent volume claim.
    # TYPE kube_persistentvolumeclaim_status_condition gauge
    # HELP kube_persistentvolumeclaim_created Unix creation timestamp
    # TYPE kube_persistentvolumeclaim_created gauge
    # HELP kube_persistentvolumeclaim_deletion_timestamp Unix deletion timestamp
    # TYPE kube_persistentvolumeclaim_deletion_timestamp gauge
"""

INFO_HEADER = """
    # HELP kube_persistentvolumeclaim_info [STABLE] Information about persistent volume claim.
    # TYPE kube_persistentvolumeclaim_info gauge
"""

CASES = [
    Case(
        id="bound-claim-all-families",
        obj={"metadata": {"name": "mysql-data", "namespace": "default",
                          "creationTimestamp": "2017-08-01T06:30:18Z", "deletionTimestamp": "2017-08-02T06:30:18Z",
                          "annotations": {"volume.beta.kubernetes.io/storage-class": "rbd"}},
             "spec": {"storageClassName": "ignored-because-of-annotation", "volumeName": "pvc-mysql-data",
                      "volumeMode": "Block", "accessModes": ["ReadWriteOnce", "ReadOnlyMany"],
                      "resources": {"requests": {"storage": "1Gi"}}},
             "status": {"phase": "Bound",
                        "conditions": [{"type": "Resizing", "status": "True"},
                                       {"type": "FileSystemResizePending", "status": "Unknown"}]}},
        want=HEADERS + """
            kube_persistentvolumeclaim_info{namespace="default",persistentvolumeclaim="mysql-data",storageclass="rbd",volumename="pvc-mysql-data",volumemode="Block"} 1
            kube_persistentvolumeclaim_status_phase{namespace="default",persistentvolumeclaim="mysql-data",phase="Lost"} 0
            kube_persistentvolumeclaim_status_phase{namespace="default",persistentvolumeclaim="mysql-data",phase="Bound"} 1
            kube_persistentvolumeclaim_status_phase{namespace="default",persistentvolumeclaim="mysql-data",phase="Pending"} 0
            kube_persistentvolumeclaim_resource_requests_storage_bytes{namespace="default",persistentvolumeclaim="mysql-data"} 1.073741824e+09
            kube_persistentvolumeclaim_access_mode{namespace="default",persistentvolumeclaim="mysql-data",access_mode="ReadWriteOnce"} 1
            kube_persistentvolumeclaim_access_mode{namespace="default",persistentvolumeclaim="mysql-data",access_mode="ReadOnlyMany"} 1
            kube_persistentvolumeclaim_status_condition{namespace="default",persistentvolumeclaim="mysql-data",condition="Resizing",status="true"} 1
            kube_persistentvolumeclaim_status_condition{namespace="default",persistentvolumeclaim="mysql-data",condition="Resizing",status="false"} 0
            kube_persistentvolumeclaim_status_condition{namespace="default",persistentvolumeclaim="mysql-data",condition="Resizing",status="unknown"} 0
            kube_persistentvolumeclaim_status_condition{namespace="default",persistentvolumeclaim="mysql-data",condition="FileSystemResizePending",status="true"} 0
            kube_persistentvolumeclaim_status_condition{namespace="default",persistentvolumeclaim="mysql-data",condition="FileSystemResizePending",status="false"} 0
            kube_persistentvolumeclaim_status_condition{namespace="default",persistentvolumeclaim="mysql-data",condition="FileSystemResizePending",status="unknown"} 1
            kube_persistentvolumeclaim_created{namespace="default",persistentvolumeclaim="mysql-data"} 1.501569018e+09
            kube_persistentvolumeclaim_deletion_timestamp{namespace="default",persistentvolumeclaim="mysql-data"} 1.501655418e+09
        """,
    ),
    Case(
        id="bare-claim-only-info",
        obj={"metadata": {"name": "bare", "namespace": "ns"}},
        want=HEADERS + """
            kube_persistentvolumeclaim_info{namespace="ns",persistentvolumeclaim="bare",storageclass="",volumename="",volumemode=""} 1
        """,
    ),
    Case(
        id="spec-storage-class-without-annotation",
        obj={"metadata": {"name": "c", "namespace": "ns"}, "spec": {"storageClassName": "gp3"},
             "status": {"phase": "Pending"}},
        families=["kube_persistentvolumeclaim_info", "kube_persistentvolumeclaim_status_phase"],
        want=INFO_HEADER + """
            # HELP kube_persistentvolumeclaim_status_phase [STABLE] The phase the persistent volume claim is currently in.
            # TYPE kube_persistentvolumeclaim_status_phase gauge
            kube_persistentvolumeclaim_info{namespace="ns",persistentvolumeclaim="c",storageclass="gp3",volumename="",volumemode=""} 1
            kube_persistentvolumeclaim_status_phase{namespace="ns",persistentvolumeclaim="c",phase="Lost"} 0
            kube_persistentvolumeclaim_status_phase{namespace="ns",persistentvolumeclaim="c",phase="Bound"} 0
            kube_persistentvolumeclaim_status_phase{namespace="ns",persistentvolumeclaim="c",phase="Pending"} 1
        """,
    ),
    Case(
        id="empty-beta-annotation-still-wins",
        obj={"metadata": {"name": "c", "namespace": "ns",
                          "annotations": {"volume.beta.kubernetes.io/storage-class": ""}},
             "spec": {"storageClassName": "gp3", "volumeMode": "Filesystem"}},
        families=["kube_persistentvolumeclaim_info"],
        want=INFO_HEADER + """
            kube_persistentvolumeclaim_info{namespace="ns",persistentvolumeclaim="c",storageclass="",volumename="",volumemode="Filesystem"} 1
        """,
    ),
    Case(
        id="storage-request-rounds-up",
        obj={"metadata": {"name": "c", "namespace": "ns"},
             "spec": {"resources": {"requests": {"storage": "1500m", "cpu": "1"}}}},
        families=["kube_persistentvolumeclaim_resource_requests_storage_bytes"],
        want="""
            # HELP kube_persistentvolumeclaim_resource_requests_storage_bytes [STABLE] The capacity of storage requested by the persistent volume claim.
            # TYPE kube_persistentvolumeclaim_resource_requests_storage_bytes gauge
            kube_persistentvolumeclaim_resource_requests_storage_bytes{namespace="ns",persistentvolumeclaim="c"} 2
        """,
    ),
    Case(
        id="allowlists-sanitised-with-conflict",
        obj={"metadata": {"name": "c", "namespace": "ns",
                          "labels": {"app": "mysql", "app.kubernetes.io/part-of": "db", "app_kubernetes.io/part-of": "x"},
                          "annotations": {"owner": "dba", "skip": "me"}}},
        labels_allowlist=["app*"],
        annotations_allowlist=["owner"],
        families=["kube_persistentvolumeclaim_labels", "kube_persistentvolumeclaim_annotations"],
        want="""
            # HELP kube_persistentvolumeclaim_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # TYPE kube_persistentvolumeclaim_labels gauge
            # HELP kube_persistentvolumeclaim_annotations Kubernetes annotations converted to Prometheus labels.
            # TYPE kube_persistentvolumeclaim_annotations gauge
            kube_persistentvolumeclaim_labels{namespace="ns",persistentvolumeclaim="c",label_app="mysql",label_app_kubernetes_io_part_of_conflict1="db",label_app_kubernetes_io_part_of_conflict2="x"} 1
            kube_persistentvolumeclaim_annotations{namespace="ns",persistentvolumeclaim="c",annotation_owner="dba"} 1
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_persistentvolumeclaims(case: Case) -> None:
    check("persistentvolumeclaims", case)


def test_family_order() -> None:
    assert [f.name for f in RESOURCES["persistentvolumeclaims"].families] == [
        "kube_persistentvolumeclaim_labels", "kube_persistentvolumeclaim_annotations",
        "kube_persistentvolumeclaim_info", "kube_persistentvolumeclaim_status_phase",
        "kube_persistentvolumeclaim_resource_requests_storage_bytes", "kube_persistentvolumeclaim_access_mode",
        "kube_persistentvolumeclaim_status_condition", "kube_persistentvolumeclaim_created",
        "kube_persistentvolumeclaim_deletion_timestamp",
    ]
