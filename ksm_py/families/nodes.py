"""v1 Node (KSM ``internal/store/node.go``)."""

from __future__ import annotations

from typing import Any

from ..metric import ALPHA, STABLE
from ..shape import fields, object_shape
from ._dsl import NAME, Body, Resource, Samples
from ._helpers import (
    annotations_family,
    condition_samples,
    created,
    deletion_timestamp,
    dig,
    labels_family,
    meta,
    quantity_float,
    resource_units,
    sanitize_label_name,
)

nodes = Resource("nodes", group="", version="v1", kind="Node", namespaced=False, identity=[("node", NAME)])
family = nodes.family
# No family reads the images a node holds (often most of its JSON: tens of KiB):
# it is skipped while parsing (tests/families/_util.check).
nodes.reads = object_shape(status=fields("addresses", "allocatable", "capacity", "conditions", "config",
                                          "daemonEndpoints", "declaredFeatures", "features", "nodeInfo", "phase",
                                          "runtimeHandlers", "volumesAttached", "volumesInUse"))

annotations_family(nodes, "node", ALPHA)
family("kube_node_created", "Unix creation timestamp", labels=())(created)
family("kube_node_deletion_timestamp", "Unix deletion timestamp", stability=ALPHA, labels=())(deletion_timestamp)


@family("kube_node_info", "Information about a cluster node.",
        labels=("kernel_version", "os_image", "container_runtime_version", "kubelet_version", "kubeproxy_version",
                "provider_id", "pod_cidr", "system_uuid", "internal_ip"))
def info(n: Body) -> Samples:
    node_info = dig(n, "status", "nodeInfo") or {}
    internal_ip = ""
    # The last InternalIP wins, as in KSM's loop.
    for address in dig(n, "status", "addresses") or []:
        if address.get("type") == "InternalIP":
            internal_ip = address.get("address") or ""
    yield [("kernel_version", node_info.get("kernelVersion") or ""), ("os_image", node_info.get("osImage") or ""),
           ("container_runtime_version", node_info.get("containerRuntimeVersion") or ""),
           ("kubelet_version", node_info.get("kubeletVersion") or ""), ("kubeproxy_version", "deprecated"),
           ("provider_id", dig(n, "spec", "providerID") or ""), ("pod_cidr", dig(n, "spec", "podCIDR") or ""),
           ("system_uuid", node_info.get("systemUUID") or ""), ("internal_ip", internal_ip)], 1


labels_family(nodes, "node", STABLE)

_ROLE_PREFIX = "node-role.kubernetes.io/"


@family("kube_node_role", "The role of a cluster node.", stability=ALPHA, labels=("role",))
def role(n: Body) -> Samples:
    for key in meta(n).get("labels") or {}:
        if key.startswith(_ROLE_PREFIX):
            yield [("role", key[len(_ROLE_PREFIX):])], 1


@family("kube_node_spec_pod_cidrs", "The pod CIDRs of a cluster node.", stability=ALPHA, labels=("pod_cidr",))
def spec_pod_cidrs(n: Body) -> Samples:
    for cidr in dig(n, "spec", "podCIDRs") or []:
        yield [("pod_cidr", cidr or "")], 1


@family("kube_node_spec_taint", "The taint of a cluster node.", labels=("key", "value", "effect"))
def spec_taint(n: Body) -> Samples:
    for t in dig(n, "spec", "taints") or []:
        yield [("key", t.get("key") or ""), ("value", t.get("value") or ""), ("effect", t.get("effect") or "")], 1


@family("kube_node_spec_unschedulable", "Whether a node can schedule new pods.", labels=())
def spec_unschedulable(n: Body) -> Samples:
    yield (), bool(dig(n, "spec", "unschedulable"))


def _resources(resources: dict[str, Any] | None) -> Samples:
    # Unlike container requests/limits, every node resource goes through convertValueToFloat64.
    for name, q in (resources or {}).items():
        for unit in resource_units(name):
            yield [("resource", sanitize_label_name(name)), ("unit", unit)], quantity_float(q)


@family("kube_node_status_allocatable",
        "The allocatable for different resources of a node that are available for scheduling.",
        labels=("resource", "unit"))
def status_allocatable(n: Body) -> Samples:
    return _resources(dig(n, "status", "allocatable"))


@family("kube_node_status_capacity", "The capacity for different resources of a node.", labels=("resource", "unit"))
def status_capacity(n: Body) -> Samples:
    return _resources(dig(n, "status", "capacity"))


@family("kube_node_status_condition", "The condition of a cluster node.", labels=("condition", "status"))
def status_condition(n: Body) -> Samples:
    for c in dig(n, "status", "conditions") or []:
        yield from condition_samples(c.get("status"), [("condition", c.get("type") or "")])


@family("kube_node_status_addresses", "Node address information.", stability=ALPHA, labels=("type", "address"))
def status_addresses(n: Body) -> Samples:
    for a in dig(n, "status", "addresses") or []:
        yield [("type", a.get("type") or ""), ("address", a.get("address") or "")], 1
