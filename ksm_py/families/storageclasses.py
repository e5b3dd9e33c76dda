"""storage.k8s.io/v1 StorageClass (KSM ``internal/store/storageclass.go``)."""

from __future__ import annotations

from ..metric import ALPHA, STABLE
from ._dsl import NAME, Body, Resource, Samples
from ._helpers import created, metadata_families

storageclasses = Resource("storageclasses", group="storage.k8s.io", version="v1", kind="StorageClass",
                          namespaced=False, identity=[("storageclass", NAME)])
family = storageclasses.family


@family("kube_storageclass_info", "Information about storageclass.",
        labels=("provisioner", "reclaim_policy", "volume_binding_mode"))
def info(s: Body) -> Samples:
    # Both are pointers the API server defaults; KSM fills in the same defaults when nil.
    reclaim = s.get("reclaimPolicy")
    binding = s.get("volumeBindingMode")
    yield (("provisioner", s.get("provisioner") or ""),
           ("reclaim_policy", "Delete" if reclaim is None else reclaim),
           ("volume_binding_mode", "Immediate" if binding is None else binding)), 1


family("kube_storageclass_created", "Unix creation timestamp", labels=())(created)
metadata_families(storageclasses, "storageclass", labels_stability=STABLE, annotations_stability=ALPHA)
