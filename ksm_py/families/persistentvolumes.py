"""v1 PersistentVolume (KSM ``internal/store/persistentvolume.go``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..metric import ALPHA, STABLE
from ._dsl import NAME, Body, Resource, Samples
from ._helpers import created, deletion_timestamp, dig, metadata_families, quantity_value

persistentvolumes = Resource("persistentvolumes", group="", version="v1", kind="PersistentVolume",
                             namespaced=False, identity=[("persistentvolume", NAME)])
family = persistentvolumes.family


@family("kube_persistentvolume_claim_ref", "Information about the Persistent Volume Claim Reference.",
        labels=("name", "claim_namespace"))
def claim_ref(pv: Body) -> Samples:
    ref = dig(pv, "spec", "claimRef")
    if ref is not None:
        yield (("name", ref.get("name") or ""), ("claim_namespace", ref.get("namespace") or "")), 1


metadata_families(persistentvolumes, "persistentvolume", labels_stability=STABLE, annotations_stability=ALPHA)

_PHASES = ("Pending", "Available", "Bound", "Released", "Failed")


@family("kube_persistentvolume_status_phase",
        "The phase indicates if a volume is available, bound to a claim, or released by a claim.", labels=("phase",))
def status_phase(pv: Body) -> Samples:
    phase = dig(pv, "status", "phase")
    if not phase:
        return
    for p in _PHASES:
        yield {"phase": p}, phase == p


_INFO_SOURCE_LABELS = (
    "gce_persistent_disk_name", "ebs_volume_id", "azure_disk_name", "fc_wwids", "fc_lun", "fc_target_wwns",
    "iscsi_target_portal", "iscsi_iqn", "iscsi_lun", "iscsi_initiator_name", "nfs_server", "nfs_path",
    "csi_driver", "csi_volume_handle", "local_path", "local_fs", "host_path", "host_path_type",
)
Source = Mapping[str, Any]


def _optional(v: Any) -> str:
    """A Go pointer field rendered as text: "" when nil."""
    return "" if v is None else str(v)


def _fc(s: Source) -> dict[str, str]:
    return {"fc_lun": _optional(s.get("lun")), "fc_target_wwns": ",".join(s.get("targetWWNs") or []),
            "fc_wwids": ",".join(s.get("wwids") or [])}


def _iscsi(s: Source) -> dict[str, str]:
    return {"iscsi_target_portal": s.get("targetPortal") or "", "iscsi_iqn": s.get("iqn") or "",
            "iscsi_lun": str(s.get("lun") or 0), "iscsi_initiator_name": _optional(s.get("initiatorName"))}


# KSM reads only the first volume source that is set, in this order.
_SOURCES: tuple[tuple[str, Callable[[Source], dict[str, str]]], ...] = (
    ("gcePersistentDisk", lambda s: {"gce_persistent_disk_name": s.get("pdName") or ""}),
    ("awsElasticBlockStore", lambda s: {"ebs_volume_id": s.get("volumeID") or ""}),
    ("azureDisk", lambda s: {"azure_disk_name": s.get("diskName") or ""}),
    ("fc", _fc),
    ("iscsi", _iscsi),
    ("nfs", lambda s: {"nfs_server": s.get("server") or "", "nfs_path": s.get("path") or ""}),
    ("csi", lambda s: {"csi_driver": s.get("driver") or "", "csi_volume_handle": s.get("volumeHandle") or ""}),
    ("local", lambda s: {"local_path": s.get("path") or "", "local_fs": _optional(s.get("fsType"))}),
    ("hostPath", lambda s: {"host_path": s.get("path") or "", "host_path_type": _optional(s.get("type"))}),
)


@family("kube_persistentvolume_info", "Information about persistentvolume.",
        labels=("storageclass", "gce_persistent_disk_name", "ebs_volume_id", "azure_disk_name", "fc_wwids", "fc_lun",
                "fc_target_wwns", "iscsi_target_portal", "iscsi_iqn", "iscsi_lun", "iscsi_initiator_name",
                "nfs_server", "nfs_path", "csi_driver", "csi_volume_handle", "local_path", "local_fs", "host_path",
                "host_path_type", "reclaim_policy"))
def info(pv: Body) -> Samples:
    spec = pv.get("spec") or {}
    values: dict[str, str] = {}
    for key, read in _SOURCES:
        source = spec.get(key)
        if source is not None:
            values = read(source)
            break
    yield [("storageclass", spec.get("storageClassName") or ""),
           *((label, values.get(label, "")) for label in _INFO_SOURCE_LABELS),
           ("reclaim_policy", spec.get("persistentVolumeReclaimPolicy") or "")], 1


@family("kube_persistentvolume_capacity_bytes", "Persistentvolume capacity in bytes.", labels=())
def capacity_bytes(pv: Body) -> Samples:
    storage = dig(pv, "spec", "capacity", "storage")
    yield (), 0 if storage is None else quantity_value(storage)


family("kube_persistentvolume_created", "Unix creation timestamp", stability=ALPHA, labels=())(created)
family("kube_persistentvolume_deletion_timestamp", "Unix deletion timestamp", stability=ALPHA,
       labels=())(deletion_timestamp)


@family("kube_persistentvolume_csi_attributes", "CSI attributes of the Persistent Volume.", stability=ALPHA,
        opt_in=True, labels=("csi_mounter", "csi_map_options"))
def csi_attributes(pv: Body) -> Samples:
    csi = dig(pv, "spec", "csi")
    if csi is None:
        return
    # Attributes the external Ceph CSI driver sets.
    attributes = csi.get("volumeAttributes") or {}
    yield (("csi_mounter", attributes.get("mounter") or ""), ("csi_map_options", attributes.get("mapOptions") or "")), 1


@family("kube_persistentvolume_volume_mode", "Volume Mode information for the PersistentVolume.", stability=ALPHA,
        labels=("volumemode",))
def volume_mode(pv: Body) -> Samples:
    mode = dig(pv, "spec", "volumeMode")
    # Filesystem is what the API assumes when volumeMode is omitted.
    yield {"volumemode": "Filesystem" if mode is None else mode}, 1


@family("kube_persistentvolume_access_mode", "The access mode(s) specified by the persistent volume.",
        stability=ALPHA, labels=("access_mode",))
def access_mode(pv: Body) -> Samples:
    for mode in dig(pv, "spec", "accessModes") or []:
        yield {"access_mode": mode}, 1
