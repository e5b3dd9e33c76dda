"""v1 LimitRange (KSM ``internal/store/limitrange.go``)."""

from __future__ import annotations

from ._dsl import NAME, NAMESPACE, Body, Resource, Samples
from ._helpers import created, dig, quantity_float

limitranges = Resource("limitranges", group="", version="v1", kind="LimitRange", namespaced=True,
                       identity=[("namespace", NAMESPACE), ("limitrange", NAME)], allowlists=False)
family = limitranges.family

# Field name in a LimitRangeItem, which is also the ``constraint`` label value, in upstream's order.
_CONSTRAINTS = ("min", "max", "default", "defaultRequest", "maxLimitRequestRatio")


@family("kube_limitrange", "Information about limit range.", labels=("resource", "type", "constraint"))
def limitrange(r: Body) -> Samples:
    # Resource names stay raw; within one map upstream's order is random (Go map iteration).
    for item in dig(r, "spec", "limits") or []:
        item_type = item.get("type") or ""
        for constraint in _CONSTRAINTS:
            for name, qty in (item.get(constraint) or {}).items():
                yield (("resource", name), ("type", item_type), ("constraint", constraint)), quantity_float(qty)


family("kube_limitrange_created", "Unix creation timestamp", labels=())(created)
