"""v1 Service (KSM ``internal/store/service.go``)."""

from __future__ import annotations

from ..metric import ALPHA, STABLE
from ._dsl import NAME, NAMESPACE, UID, Body, Resource, Samples
from ._helpers import created, deletion_timestamp, dig, metadata_families

services = Resource("services", group="", version="v1", kind="Service", namespaced=True,
                    identity=[("namespace", NAMESPACE), ("service", NAME), ("uid", UID)])
family = services.family


@family("kube_service_info", "Information about service.",
        labels=("cluster_ip", "external_name", "load_balancer_ip", "external_traffic_policy"))
def info(s: Body) -> Samples:
    spec = s.get("spec") or {}
    yield (("cluster_ip", spec.get("clusterIP") or ""), ("external_name", spec.get("externalName") or ""),
           ("load_balancer_ip", spec.get("loadBalancerIP") or ""),
           ("external_traffic_policy", spec.get("externalTrafficPolicy") or "")), 1


family("kube_service_created", "Unix creation timestamp", labels=())(created)


@family("kube_service_spec_type", "Type about service.", labels=("type",))
def spec_type(s: Body) -> Samples:
    yield (("type", dig(s, "spec", "type") or ""),), 1


metadata_families(services, "service", labels_stability=STABLE, annotations_stability=ALPHA)


@family("kube_service_spec_external_ip", "Service external ips. One series for each ip", labels=("external_ip",))
def spec_external_ip(s: Body) -> Samples:
    for ip in dig(s, "spec", "externalIPs") or []:
        yield (("external_ip", ip or ""),), 1


@family("kube_service_status_load_balancer_ingress", "Service load balancer ingress status", labels=("ip", "hostname"))
def status_load_balancer_ingress(s: Body) -> Samples:
    for ing in dig(s, "status", "loadBalancer", "ingress") or []:
        yield (("ip", ing.get("ip") or ""), ("hostname", ing.get("hostname") or "")), 1


family("kube_service_deletion_timestamp", "Unix deletion timestamp", stability=ALPHA, labels=())(deletion_timestamp)
