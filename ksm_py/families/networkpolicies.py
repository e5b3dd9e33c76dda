"""networking.k8s.io/v1 NetworkPolicy (KSM ``internal/store/networkpolicy.go``)."""

from __future__ import annotations

from ..gocompat.times import ZERO_TIME
from ..metric import ALPHA
from ._dsl import NAME, NAMESPACE, Body, Resource, Samples
from ._helpers import dig, meta, metadata_families, unix

networkpolicies = Resource("networkpolicies", group="networking.k8s.io", version="v1", kind="NetworkPolicy",
                           namespaced=True, identity=[("namespace", NAMESPACE), ("networkpolicy", NAME)])
family = networkpolicies.family

# ``time.Time{}.Unix()``: seconds from 0001-01-01 to the Unix epoch.


@family("kube_networkpolicy_created", "Unix creation timestamp of network policy", stability=ALPHA, labels=())
def created(n: Body) -> Samples:
    # Unlike other resources, upstream has no IsZero check here, so an unset timestamp is the zero time.
    ts = meta(n).get("creationTimestamp")
    yield (), unix(ts) if ts else ZERO_TIME


metadata_families(networkpolicies, "networkpolicy", labels_stability=ALPHA, annotations_stability=ALPHA)


@family("kube_networkpolicy_spec_ingress_rules", "Number of ingress rules on the networkpolicy", stability=ALPHA,
        labels=())
def spec_ingress_rules(n: Body) -> Samples:
    yield (), len(dig(n, "spec", "ingress") or [])


@family("kube_networkpolicy_spec_egress_rules", "Number of egress rules on the networkpolicy", stability=ALPHA,
        labels=())
def spec_egress_rules(n: Body) -> Samples:
    yield (), len(dig(n, "spec", "egress") or [])
