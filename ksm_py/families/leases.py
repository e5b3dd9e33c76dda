"""coordination.k8s.io/v1 Lease (KSM ``internal/store/lease.go``)."""

from __future__ import annotations

from ..metric import ALPHA
from ._dsl import NAME, NAMESPACE, Body, Resource, Samples
from ._helpers import dig, meta, unix

# Upstream's only identity label is the name; the namespace is a family label placed after the others.
leases = Resource("leases", group="coordination.k8s.io", version="v1", kind="Lease", namespaced=True,
                  identity=[("lease", NAME)], allowlists=False)
family = leases.family


@family("kube_lease_owner", "Information about the Lease's owner.", stability=ALPHA,
        labels=("owner_kind", "owner_name", "namespace", "lease_holder"))
def owner(lease: Body) -> Samples:
    tail = (("namespace", NAMESPACE(lease)), ("lease_holder", dig(lease, "spec", "holderIdentity") or ""))
    owners = meta(lease).get("ownerReferences") or []
    if not owners:
        yield (("owner_kind", ""), ("owner_name", ""), *tail), 1
    for o in owners:
        yield (("owner_kind", o.get("kind") or ""), ("owner_name", o.get("name") or ""), *tail), 1


@family("kube_lease_renew_time", "Kube lease renew time.", stability=ALPHA, labels=("namespace",))
def renew_time(lease: Body) -> Samples:
    ts = dig(lease, "spec", "renewTime")
    if ts:
        yield (("namespace", NAMESPACE(lease)),), unix(ts)
