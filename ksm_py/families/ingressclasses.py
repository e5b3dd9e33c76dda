"""networking.k8s.io/v1 IngressClass (KSM ``internal/store/ingressclass.go``); not in the default set."""

from __future__ import annotations

from ..metric import ALPHA
from ._dsl import NAME, Body, Resource, Samples
from ._helpers import created, dig, metadata_families

ingressclasses = Resource("ingressclasses", group="networking.k8s.io", version="v1", kind="IngressClass",
                          namespaced=False, identity=[("ingressclass", NAME)], default=False)
family = ingressclasses.family


@family("kube_ingressclass_info", "Information about ingressclass.", stability=ALPHA, labels=("controller",))
def info(c: Body) -> Samples:
    yield (("controller", dig(c, "spec", "controller") or ""),), 1


family("kube_ingressclass_created", "Unix creation timestamp", stability=ALPHA, labels=())(created)
metadata_families(ingressclasses, "ingressclass", labels_stability=ALPHA, annotations_stability=ALPHA)
