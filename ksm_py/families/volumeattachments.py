"""storage.k8s.io/v1 VolumeAttachment (KSM ``internal/store/volumeattachment.go``)."""

from __future__ import annotations

from ..metric import ALPHA
from ._dsl import NAME, Body, Resource, Samples
from ._helpers import created, dig, meta, prometheus_labels

# KSM exports every label of a VolumeAttachment and ignores --metric-labels-allowlist.
volumeattachments = Resource("volumeattachments", group="storage.k8s.io", version="v1", kind="VolumeAttachment",
                             namespaced=False, identity=[("volumeattachment", NAME)], allowlists=False)
family = volumeattachments.family


def _everything(_: str) -> bool:
    return True


@family("kube_volumeattachment_labels", "Kubernetes labels converted to Prometheus labels.", stability=ALPHA,
        labels=("label_*",))
def labels(va: Body) -> Samples:
    yield prometheus_labels(meta(va).get("labels") or {}, _everything, "label"), 1


@family("kube_volumeattachment_info", "Information about volumeattachment.", stability=ALPHA,
        labels=("attacher", "node"))
def info(va: Body) -> Samples:
    yield (("attacher", dig(va, "spec", "attacher") or ""), ("node", dig(va, "spec", "nodeName") or "")), 1


family("kube_volumeattachment_created", "Unix creation timestamp", stability=ALPHA, labels=())(created)


@family("kube_volumeattachment_spec_source_persistentvolume", "PersistentVolume source reference.", stability=ALPHA,
        labels=("volumename",))
def spec_source_persistentvolume(va: Body) -> Samples:
    name = dig(va, "spec", "source", "persistentVolumeName")
    if name is not None:
        yield {"volumename": name}, 1


@family("kube_volumeattachment_status_attached", "Information about volumeattachment.", stability=ALPHA, labels=())
def status_attached(va: Body) -> Samples:
    yield (), bool(dig(va, "status", "attached"))


@family("kube_volumeattachment_status_attachment_metadata", "volumeattachment metadata.", stability=ALPHA,
        labels=("metadata_*",))
def status_attachment_metadata(va: Body) -> Samples:
    yield prometheus_labels(dig(va, "status", "attachmentMetadata") or {}, _everything, "metadata"), 1
