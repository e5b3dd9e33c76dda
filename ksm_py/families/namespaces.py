"""v1 Namespace (KSM ``internal/store/namespace.go``)."""

from __future__ import annotations

from ..metric import ALPHA, STABLE
from ._dsl import NAME, Body, Resource, Samples
from ._helpers import condition_samples, created, dig, metadata_families

namespaces = Resource("namespaces", group="", version="v1", kind="Namespace", namespaced=False,
                      identity=[("namespace", NAME)])

namespaces.family("kube_namespace_created", "Unix creation timestamp", stability=STABLE, labels=())(created)
metadata_families(namespaces, "namespace", labels_stability=STABLE, annotations_stability=ALPHA)


@namespaces.family("kube_namespace_status_phase", "kubernetes namespace status phase.", stability=STABLE,
                   labels=("phase",))
def status_phase(ns: Body) -> Samples:
    phase = dig(ns, "status", "phase")
    yield {"phase": "Active"}, phase == "Active"
    yield {"phase": "Terminating"}, phase == "Terminating"


@namespaces.family("kube_namespace_status_condition", "The condition of a namespace.", stability=ALPHA,
                   labels=("condition", "status"))
def status_condition(ns: Body) -> Samples:
    for c in dig(ns, "status", "conditions") or []:
        yield from condition_samples(c.get("status"), [("condition", c.get("type") or "")])
