"""v1 ConfigMap (KSM ``internal/store/configmap.go``)."""

from __future__ import annotations

from ..metric import ALPHA, STABLE
from ..shape import OBJECT_META
from ._dsl import NAME, NAMESPACE, Body, Resource, Samples
from ._helpers import LAST_APPLIED, created, metadata_families, resource_version

# Every family reads metadata only, so ConfigMap contents never need to reach the process.
configmaps = Resource("configmaps", group="", version="v1", kind="ConfigMap", namespaced=True,
                      identity=[("namespace", NAMESPACE), ("configmap", NAME)], metadata_only=True)
family = configmaps.family
configmaps.reads = {"metadata": OBJECT_META}

# Deliberate deviation: never the last-applied-configuration annotation (it holds the data).
metadata_families(configmaps, "configmap", labels_stability=STABLE, annotations_stability=ALPHA,
                  hidden_annotations=(LAST_APPLIED,))


@family("kube_configmap_info", "Information about configmap.", labels=())
def info(_: Body) -> Samples:
    yield (), 1


family("kube_configmap_created", "Unix creation timestamp", labels=())(created)
family("kube_configmap_metadata_resource_version",
       "Resource version representing a specific version of the configmap.", stability=ALPHA,
       labels=())(resource_version)
