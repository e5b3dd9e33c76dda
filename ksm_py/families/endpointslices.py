"""discovery.k8s.io/v1 EndpointSlice (KSM ``internal/store/endpointslice.go``)."""

from __future__ import annotations

from typing import Any

from ..metric import ALPHA
from ._dsl import NAME, NAMESPACE, Body, Resource, Samples
from ._helpers import LabelSet, created, dig, metadata_families

# Upstream puts the name before the namespace here, unlike every other namespaced resource.
endpointslices = Resource("endpointslices", group="discovery.k8s.io", version="v1", kind="EndpointSlice",
                          namespaced=True, identity=[("endpointslice", NAME), ("namespace", NAMESPACE)])
family = endpointslices.family


def _go_bool(b: Any) -> str:
    """``strconv.FormatBool`` of a ``*bool``, "" when nil."""
    if b is None:
        return ""
    return "true" if b else "false"


def _str_or_empty(v: Any) -> str:
    return "" if v is None else str(v)


@family("kube_endpointslice_info", "Information about endpointslice.", stability=ALPHA, labels=("addresstype",))
def info(s: Body) -> Samples:
    yield (("addresstype", s.get("addressType") or ""),), 1


family("kube_endpointslice_created", "Unix creation timestamp", stability=ALPHA, labels=())(created)


@family("kube_endpointslice_endpoints_hints", "Topology routing hints attached to endpoints", stability=ALPHA,
        labels=("address", "for_zone"))
def endpoints_hints(s: Body) -> Samples:
    for ep in s.get("endpoints") or []:
        zones = dig(ep, "hints", "forZones") or []
        addresses = ep.get("addresses") or []
        # Clients may use only the first address; upstream reports that one.
        if not zones or not addresses:
            continue
        for zone in zones:
            yield (("address", addresses[0] or ""), ("for_zone", zone.get("name") or "")), 1


@family("kube_endpointslice_endpoints", "Endpoints attached to the endpointslice.", stability=ALPHA,
        labels=("ready", "serving", "hostname", "terminating", "targetref_kind", "targetref_name",
                "targetref_namespace", "endpoint_nodename", "endpoint_zone", "address"))
def endpoints(s: Body) -> Samples:
    out = []
    for ep in s.get("endpoints") or []:
        cond = ep.get("conditions") or {}
        ref = ep.get("targetRef") or {}
        common = (
            _go_bool(cond.get("ready")), _go_bool(cond.get("serving")), _str_or_empty(ep.get("hostname")),
            _go_bool(cond.get("terminating")), ref.get("kind") or "", ref.get("name") or "",
            ref.get("namespace") or "", _str_or_empty(ep.get("nodeName")), _str_or_empty(ep.get("zone")),
        )
        for address in ep.get("addresses") or []:
            out.append((_ENDPOINT(*common, address or ""), 1))
    return out


_ENDPOINT = LabelSet("ready", "serving", "hostname", "terminating", "targetref_kind", "targetref_name",
                     "targetref_namespace", "endpoint_nodename", "endpoint_zone", "address")


@family("kube_endpointslice_ports", "Ports attached to the endpointslice.", stability=ALPHA,
        labels=("port_name", "port_protocol", "port_number"))
def ports(s: Body) -> Samples:
    # Every EndpointPort field is a pointer; port may be absent on slices not used for routing.
    return [(_PORT(_str_or_empty(port.get("name")), _str_or_empty(port.get("protocol")),
                   _str_or_empty(port.get("port"))), 1) for port in s.get("ports") or []]


_PORT = LabelSet("port_name", "port_protocol", "port_number")


metadata_families(endpointslices, "endpointslice", labels_stability=ALPHA, annotations_stability=ALPHA)
