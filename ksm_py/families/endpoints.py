"""v1 Endpoints (KSM ``internal/store/endpoint.go``); deprecated API, not in the default set."""

from __future__ import annotations

from ..metric import ALPHA, STABLE
from ._dsl import NAME, NAMESPACE, Body, Resource, Samples
from ._helpers import created, dig, metadata_families

endpoints = Resource("endpoints", group="", version="v1", kind="Endpoints", namespaced=True,
                     identity=[("namespace", NAMESPACE), ("endpoint", NAME)], default=False)
family = endpoints.family


@family("kube_endpoint_info", "Information about endpoint.", labels=())
def info(_e: Body) -> Samples:
    yield (), 1


family("kube_endpoint_created", "Unix creation timestamp", labels=())(created)
metadata_families(endpoints, "endpoint", labels_stability=STABLE, annotations_stability=ALPHA)


@family("kube_endpoint_address", "Information about Endpoint available and non available addresses.",
        labels=("port_protocol", "port_number", "port_name", "ip", "ready"))
def address(e: Body) -> Samples:
    for subset in dig(e, "subsets") or []:
        ready = subset.get("addresses") or []
        not_ready = subset.get("notReadyAddresses") or []
        for port in subset.get("ports") or []:
            port_labels = (("port_protocol", port.get("protocol") or ""), ("port_number", str(port.get("port") or 0)),
                           ("port_name", port.get("name") or ""))
            for a in ready:
                yield (*port_labels, ("ip", a.get("ip") or ""), ("ready", "true")), 1
            for a in not_ready:
                yield (*port_labels, ("ip", a.get("ip") or ""), ("ready", "false")), 1


@family("kube_endpoint_ports", "Information about the Endpoint ports.", deprecated="v2.14.0",
        labels=("port_name", "port_protocol", "port_number"))
def ports(e: Body) -> Samples:
    for subset in dig(e, "subsets") or []:
        for port in subset.get("ports") or []:
            yield (("port_name", port.get("name") or ""), ("port_protocol", port.get("protocol") or ""),
                   ("port_number", str(port.get("port") or 0))), 1
