"""v1 ResourceQuota (KSM ``internal/store/resourcequota.go``)."""

from __future__ import annotations

from ..metric import ALPHA, STABLE
from ._dsl import NAME, NAMESPACE, Body, Resource, Samples
from ._helpers import created, dig, metadata_families, quantity_float

resourcequotas = Resource("resourcequotas", group="", version="v1", kind="ResourceQuota", namespaced=True,
                          identity=[("namespace", NAMESPACE), ("resourcequota", NAME)])
family = resourcequotas.family

family("kube_resourcequota_created", "Unix creation timestamp", labels=())(created)


@family("kube_resourcequota", "Information about resource quota.", labels=("resource", "type"))
def resourcequota(r: Body) -> Samples:
    # Resource names stay raw (requests.cpu, count/pods); upstream iterates Go maps, so order is random.
    for kind in ("hard", "used"):
        for name, qty in (dig(r, "status", kind) or {}).items():
            yield (("resource", name), ("type", kind)), quantity_float(qty)


metadata_families(resourcequotas, "resourcequota", labels_stability=STABLE, annotations_stability=ALPHA)
