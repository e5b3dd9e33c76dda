"""v1 PersistentVolumeClaim (KSM ``internal/store/persistentvolumeclaim.go``)."""

from __future__ import annotations

from ..metric import ALPHA, STABLE
from ._dsl import NAME, NAMESPACE, Body, Resource, Samples
from ._helpers import (
    annotations_family,
    condition_samples,
    created,
    deletion_timestamp,
    dig,
    labels_family,
    meta,
    quantity_value,
)

persistentvolumeclaims = Resource("persistentvolumeclaims", group="", version="v1", kind="PersistentVolumeClaim",
                                  namespaced=True, identity=[("namespace", NAMESPACE), ("persistentvolumeclaim", NAME)])
family = persistentvolumeclaims.family

# Unlike most resources, labels come before annotations here.
labels_family(persistentvolumeclaims, "persistentvolumeclaim", STABLE)
annotations_family(persistentvolumeclaims, "persistentvolumeclaim", ALPHA)

_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"


def storage_class(pvc: Body) -> str:
    """``getPersistentVolumeClaimClass``: the beta annotation wins, even when empty."""
    annotations = meta(pvc).get("annotations") or {}
    if _BETA_STORAGE_CLASS in annotations:
        return annotations[_BETA_STORAGE_CLASS] or ""
    return dig(pvc, "spec", "storageClassName") or ""


@family("kube_persistentvolumeclaim_info", "Information about persistent volume claim.",
        labels=("storageclass", "volumename", "volumemode"))
def info(pvc: Body) -> Samples:
    yield (("storageclass", storage_class(pvc)), ("volumename", dig(pvc, "spec", "volumeName") or ""),
           ("volumemode", dig(pvc, "spec", "volumeMode") or "")), 1


_PHASES = ("Lost", "Bound", "Pending")


@family("kube_persistentvolumeclaim_status_phase", "The phase the persistent volume claim is currently in.",
        labels=("phase",))
def status_phase(pvc: Body) -> Samples:
    phase = dig(pvc, "status", "phase")
    if not phase:
        return
    for p in _PHASES:
        yield {"phase": p}, phase == p


@family("kube_persistentvolumeclaim_resource_requests_storage_bytes",
        "The capacity of storage requested by the persistent volume claim.", labels=())
def resource_requests_storage_bytes(pvc: Body) -> Samples:
    requests = dig(pvc, "spec", "resources", "requests") or {}
    if "storage" in requests:
        yield (), quantity_value(requests["storage"])


@family("kube_persistentvolumeclaim_access_mode", "The access mode(s) specified by the persistent volume claim.",
        labels=("access_mode",))
def access_mode(pvc: Body) -> Samples:
    for mode in dig(pvc, "spec", "accessModes") or []:
        yield {"access_mode": mode}, 1


@family("kube_persistentvolumeclaim_status_condition",
        "Information about status of different conditions of persistent volume claim.", stability=ALPHA,
        labels=("condition", "status"))
def status_condition(pvc: Body) -> Samples:
    for c in dig(pvc, "status", "conditions") or []:
        yield from condition_samples(c.get("status"), [("condition", c.get("type") or "")])


family("kube_persistentvolumeclaim_created", "Unix creation timestamp", stability=ALPHA, labels=())(created)
family("kube_persistentvolumeclaim_deletion_timestamp", "Unix deletion timestamp", stability=ALPHA,
       labels=())(deletion_timestamp)
