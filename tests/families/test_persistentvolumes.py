"""kube_persistentvolume_* families (upstream internal/store/persistentvolume_test.go, plus edge cases)."""

from __future__ import annotations

from typing import Any

import pytest

from ksm_py.families import RESOURCES

from ._util import Case, check

HEADERS = """
    # HELP kube_persistentvolume_claim_ref [STABLE] Information about the Persistent Volume Claim Reference.
    # TYPE kube_persistentvolume_claim_ref gauge
    # HELP kube_persistentvolume_annotations Kubernetes annotations converted to Prometheus labels.
    # TYPE kube_persistentvolume_annotations gauge
    # HELP kube_persistentvolume_labels [STABLE] Kubernetes labels converted to Prometheus labels.
    # TYPE kube_persistentvolume_labels gauge
    # HELP kube_persistentvolume_status_phase [STABLE] The phase indicates if a volume is available, bound to a claim, or released by a claim.
    # TYPE kube_persistentvolume_status_phase gauge
    # HELP kube_persistentvolume_info [STABLE] Information about persistentvolume.
    # TYPE kube_persistentvolume_info gauge
    # HELP kube_persistentvolume_capacity_bytes [STABLE] Persistentvolume capacity in bytes.
    # TYPE kube_persistentvolume_capacity_bytes gauge
    # HELP kube_persistentvolume_created Unix creation timestamp
    # TYPE kube_persistentvolume_created gauge
    # HELP kube_persistentvolume_deletion_timestamp Unix deletion timestamp
    # TYPE kube_persistentvolume_deletion_timestamp gauge
    # HELP kube_persistentvolume_volume_mode Volume Mode information for the PersistentVolume.
    # TYPE kube_persistentvolume_volume_mode gauge
    # HELP kube_persistentvolume_access_mode The access mode(s) specified by the persistent volume.
    # TYPE kube_persistentvolume_access_mode gauge
"""

INFO_HEADER = """
    # HELP kube_persistentvolume_info [STABLE] Information about persistentvolume.
    # TYPE kube_persistentvolume_info gauge
"""
CSI_HEADER = """
    # HELP kube_persistentvolume_csi_attributes CSI attributes of the Persistent Volume.
    # TYPE kube_persistentvolume_csi_attributes gauge
"""

_INFO_LABELS = (
    "storageclass", "gce_persistent_disk_name", "ebs_volume_id", "azure_disk_name", "fc_wwids", "fc_lun",
    "fc_target_wwns", "iscsi_target_portal", "iscsi_iqn", "iscsi_lun", "iscsi_initiator_name", "nfs_server",
    "nfs_path", "csi_driver", "csi_volume_handle", "local_path", "local_fs", "host_path", "host_path_type",
    "reclaim_policy",
)


def info_line(name: str, **set_labels: str) -> str:
    """The expected kube_persistentvolume_info line: every label present, "" unless given."""
    assert set(set_labels) <= set(_INFO_LABELS)
    pairs = ",".join(f'{k}="{set_labels.get(k, "")}"' for k in _INFO_LABELS)
    return f'kube_persistentvolume_info{{persistentvolume="{name}",{pairs}}} 1'


def pv(name: str, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": spec}


CASES = [
    Case(
        id="bound-nfs-volume-all-default-families",
        obj={"metadata": {"name": "pv1", "creationTimestamp": "2017-08-01T06:30:18Z",
                          "deletionTimestamp": "2017-08-02T06:30:18Z"},
             "spec": {"claimRef": {"name": "data", "namespace": "db"}, "storageClassName": "nfs",
                      "persistentVolumeReclaimPolicy": "Retain", "capacity": {"storage": "5Gi"},
                      "accessModes": ["ReadWriteMany", "ReadOnlyMany"],
                      "nfs": {"server": "10.0.0.1", "path": "/exports/pv1"}},
             "status": {"phase": "Bound"}},
        want=HEADERS + """
            kube_persistentvolume_claim_ref{persistentvolume="pv1",name="data",claim_namespace="db"} 1
            kube_persistentvolume_status_phase{persistentvolume="pv1",phase="Pending"} 0
            kube_persistentvolume_status_phase{persistentvolume="pv1",phase="Available"} 0
            kube_persistentvolume_status_phase{persistentvolume="pv1",phase="Bound"} 1
            kube_persistentvolume_status_phase{persistentvolume="pv1",phase="Released"} 0
            kube_persistentvolume_status_phase{persistentvolume="pv1",phase="Failed"} 0
        """ + info_line("pv1", storageclass="nfs", nfs_server="10.0.0.1", nfs_path="/exports/pv1",
                        reclaim_policy="Retain") + """
            kube_persistentvolume_capacity_bytes{persistentvolume="pv1"} 5.36870912e+09
            kube_persistentvolume_created{persistentvolume="pv1"} 1.501569018e+09
            kube_persistentvolume_deletion_timestamp{persistentvolume="pv1"} 1.501655418e+09
            kube_persistentvolume_volume_mode{persistentvolume="pv1",volumemode="Filesystem"} 1
            kube_persistentvolume_access_mode{persistentvolume="pv1",access_mode="ReadWriteMany"} 1
            kube_persistentvolume_access_mode{persistentvolume="pv1",access_mode="ReadOnlyMany"} 1
        """,
    ),
    Case(
        id="bare-volume",
        obj={"metadata": {"name": "bare"}},
        want=HEADERS + info_line("bare") + """
            kube_persistentvolume_capacity_bytes{persistentvolume="bare"} 0
            kube_persistentvolume_volume_mode{persistentvolume="bare",volumemode="Filesystem"} 1
        """,
    ),
    Case(
        id="block-volume-mode",
        obj=pv("blk", volumeMode="Block"),
        families=["kube_persistentvolume_volume_mode"],
        want="""
            # HELP kube_persistentvolume_volume_mode Volume Mode information for the PersistentVolume.
            # TYPE kube_persistentvolume_volume_mode gauge
            kube_persistentvolume_volume_mode{persistentvolume="blk",volumemode="Block"} 1
        """,
    ),
    Case(
        id="capacity-rounds-up",
        obj=pv("cap", capacity={"storage": "100m"}),
        families=["kube_persistentvolume_capacity_bytes"],
        want="""
            # HELP kube_persistentvolume_capacity_bytes [STABLE] Persistentvolume capacity in bytes.
            # TYPE kube_persistentvolume_capacity_bytes gauge
            kube_persistentvolume_capacity_bytes{persistentvolume="cap"} 1
        """,
    ),
    Case(
        id="allowlists-sanitised-with-conflict",
        obj={"metadata": {"name": "pv", "labels": {"disk-type": "ssd", "disk.type": "nvme", "zone": "a"},
                          "annotations": {"pv.kubernetes.io/provisioned-by": "csi", "x": "y"}}},
        labels_allowlist=["disk*"],
        annotations_allowlist=["pv.kubernetes.io/*"],
        families=["kube_persistentvolume_labels", "kube_persistentvolume_annotations"],
        want="""
            # HELP kube_persistentvolume_annotations Kubernetes annotations converted to Prometheus labels.
            # TYPE kube_persistentvolume_annotations gauge
            # HELP kube_persistentvolume_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # TYPE kube_persistentvolume_labels gauge
            kube_persistentvolume_annotations{persistentvolume="pv",annotation_pv_kubernetes_io_provisioned_by="csi"} 1
            kube_persistentvolume_labels{persistentvolume="pv",label_disk_type_conflict1="ssd",label_disk_type_conflict2="nvme"} 1
        """,
    ),
]

INFO_CASES = [
    ("gce", pv("v", gcePersistentDisk={"pdName": "disk-1"}), {"gce_persistent_disk_name": "disk-1"}),
    ("ebs", pv("v", awsElasticBlockStore={"volumeID": "aws://eu-west-1a/vol-1"}),
     {"ebs_volume_id": "aws://eu-west-1a/vol-1"}),
    ("azure", pv("v", azureDisk={"diskName": "az", "diskURI": "https://x"}), {"azure_disk_name": "az"}),
    ("fc-with-zero-lun", pv("v", fc={"lun": 0, "targetWWNs": ["0123", "4567"], "wwids": ["a", "b", "c"]}),
     {"fc_lun": "0", "fc_target_wwns": "0123,4567", "fc_wwids": "a,b,c"}),
    ("fc-without-lun", pv("v", fc={"wwids": ["only"]}), {"fc_wwids": "only"}),
    ("iscsi", pv("v", iscsi={"targetPortal": "1.2.3.4:3260", "iqn": "iqn.x", "lun": 7, "initiatorName": "init"}),
     {"iscsi_target_portal": "1.2.3.4:3260", "iscsi_iqn": "iqn.x", "iscsi_lun": "7", "iscsi_initiator_name": "init"}),
    ("iscsi-lun-defaults-to-zero", pv("v", iscsi={"targetPortal": "p", "iqn": "q"}),
     {"iscsi_target_portal": "p", "iscsi_iqn": "q", "iscsi_lun": "0"}),
    ("nfs", pv("v", nfs={"server": "s", "path": "/p"}), {"nfs_server": "s", "nfs_path": "/p"}),
    ("csi", pv("v", csi={"driver": "ebs.csi.aws.com", "volumeHandle": "vol-1"}),
     {"csi_driver": "ebs.csi.aws.com", "csi_volume_handle": "vol-1"}),
    ("local-with-fs", pv("v", local={"path": "/mnt/disk", "fsType": "ext4"}),
     {"local_path": "/mnt/disk", "local_fs": "ext4"}),
    ("local-without-fs", pv("v", local={"path": "/mnt/disk"}), {"local_path": "/mnt/disk"}),
    ("host-path-with-type", pv("v", hostPath={"path": "/data", "type": "DirectoryOrCreate"}),
     {"host_path": "/data", "host_path_type": "DirectoryOrCreate"}),
    ("host-path-without-type", pv("v", hostPath={"path": "/data"}), {"host_path": "/data"}),
    ("empty-source-still-selected", pv("v", gcePersistentDisk={}, nfs={"server": "s"}), {}),
    ("first-source-wins", pv("v", nfs={"server": "s", "path": "/p"}, hostPath={"path": "/h"}, storageClassName="x",
                             persistentVolumeReclaimPolicy="Delete"),
     {"nfs_server": "s", "nfs_path": "/p", "storageclass": "x", "reclaim_policy": "Delete"}),
    ("unsupported-source", pv("v", cephfs={"monitors": ["m"]}), {}),
]

CASES += [
    Case(id=f"info-{name}", obj=obj, families=["kube_persistentvolume_info"],
         want=INFO_HEADER + info_line("v", **labels))
    for name, obj, labels in INFO_CASES
]

OPT_IN = ["kube_persistentvolume_csi_attributes"]
CASES += [
    Case(
        id="csi-attributes-opted-in",
        obj=pv("c", csi={"driver": "rbd.csi.ceph.com", "volumeHandle": "h",
                         "volumeAttributes": {"mounter": "rbd", "mapOptions": "krbd:rxbounce", "pool": "x"}}),
        opt_in=OPT_IN, families=OPT_IN,
        want=CSI_HEADER + """
            kube_persistentvolume_csi_attributes{persistentvolume="c",csi_mounter="rbd",csi_map_options="krbd:rxbounce"} 1
        """,
    ),
    Case(
        id="csi-attributes-absent",
        obj=pv("c", csi={"driver": "d", "volumeHandle": "h"}),
        opt_in=OPT_IN, families=OPT_IN,
        want=CSI_HEADER + """
            kube_persistentvolume_csi_attributes{persistentvolume="c",csi_mounter="",csi_map_options=""} 1
        """,
    ),
    Case(
        id="csi-attributes-not-a-csi-volume",
        obj=pv("n", nfs={"server": "s"}),
        opt_in=OPT_IN, families=OPT_IN,
        want=CSI_HEADER,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_persistentvolumes(case: Case) -> None:
    check("persistentvolumes", case)


def test_csi_attributes_is_opt_in() -> None:
    # Without --metric-opt-in-list the family is absent entirely, header included.
    check("persistentvolumes", Case(obj=pv("c", csi={"volumeAttributes": {"mounter": "rbd"}}),
                                    families=OPT_IN, want=""))


def test_family_order() -> None:
    assert [f.name for f in RESOURCES["persistentvolumes"].families] == [
        "kube_persistentvolume_claim_ref",
        "kube_persistentvolume_annotations",
        "kube_persistentvolume_labels",
        "kube_persistentvolume_status_phase",
        "kube_persistentvolume_info",
        "kube_persistentvolume_capacity_bytes",
        "kube_persistentvolume_created",
        "kube_persistentvolume_deletion_timestamp",
        "kube_persistentvolume_csi_attributes",
        "kube_persistentvolume_volume_mode",
        "kube_persistentvolume_access_mode",
    ]
