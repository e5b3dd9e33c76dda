"""The bridge's own topology model, independent of where it was read from.

Both sources (the ``kube_topology_*`` series of ``/metrics`` and the ``/topology`` JSON) produce a
``Topology``; ``stackstate.py`` turns it into StackState components and relations.  A component is
keyed by ``(type, namespace, name)`` in ksm-py's vocabulary (StackState type names; namespaces carry
their own name as namespace; containers and pod-scoped volumes are named ``<pod>/<name>``).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple


class Key(NamedTuple):
    type: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.type}/{self.namespace}/{self.name}"


@dataclasses.dataclass
class Component:
    """One component and the facts the StackState identifiers and data are built from.

    Only ``key`` is required; the other fields are filled when the source exposes them (the
    metrics source joins ``kube_<kind>_labels``, ``kube_pod_info``, ``kube_node_info``, ...).
    """

    key: Key
    uid: str = ""
    # Kubernetes labels (with the metrics source: the ``label_*`` names without the prefix).
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    # pod
    phase: str = ""
    node: str = ""
    # container: the runtime's id (``containerd://abc``)
    container_id: str = ""
    # node: status.addresses as (type, address); spec.providerID
    addresses: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    provider_id: str = ""
    # service
    service_type: str = ""
    cluster_ip: str = ""
    external_name: str = ""
    load_balancer_ip: str = ""
    external_ips: list[str] = dataclasses.field(default_factory=list)
    ingress_points: list[str] = dataclasses.field(default_factory=list)

    @property
    def type(self) -> str:
        return self.key.type


class Relation(NamedTuple):
    type: str
    source: Key
    target: Key


@dataclasses.dataclass
class Topology:
    """What one read of the source returned: components by key, relations in source order."""

    components: dict[Key, Component] = dataclasses.field(default_factory=dict)
    relations: list[Relation] = dataclasses.field(default_factory=list)

    def component(self, key: Key, uid: str = "") -> Component:
        """The component with this key, created on first use (a uid fills an empty one)."""
        c = self.components.get(key)
        if c is None:
            c = self.components[key] = Component(key, uid)
        elif uid and not c.uid:
            c.uid = uid
        return c

    def relation(self, type: str, source: Key, target: Key) -> None:
        self.relations.append(Relation(type, source, target))
