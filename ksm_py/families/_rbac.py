"""Families shared by the four rbac.authorization.k8s.io/v1 kinds (KSM ``internal/store/*role*.go``).

Role, ClusterRole, RoleBinding and ClusterRoleBinding expose the same five families in the
same order; only the ``_info`` labels and two HELP texts differ.
"""

from __future__ import annotations

from ..metric import ALPHA
from ._dsl import Body, FamilyFn, Resource, Samples
from ._helpers import created, metadata_families, resource_version


def info(_obj: Body) -> Samples:
    """``_info`` of Role/ClusterRole: the identity labels only."""
    yield (), 1


def binding_info(binding: Body) -> Samples:
    """``_info`` of RoleBinding/ClusterRoleBinding: what the binding grants."""
    ref = binding.get("roleRef") or {}
    yield (("roleref_kind", ref.get("kind") or ""), ("roleref_name", ref.get("name") or "")), 1


def rbac_families(resource: Resource, kind_label: str, *, info_help: str, info_fn: FamilyFn,
                  resource_version_help: str) -> None:
    """Register annotations, labels, info, created and metadata_resource_version (all ALPHA)."""
    metadata_families(resource, kind_label, labels_stability=ALPHA, annotations_stability=ALPHA)
    family = resource.family
    info_labels = ("roleref_kind", "roleref_name") if info_fn is binding_info else ()
    family(f"kube_{kind_label}_info", info_help, stability=ALPHA, labels=info_labels)(info_fn)
    family(f"kube_{kind_label}_created", "Unix creation timestamp", stability=ALPHA, labels=())(created)
    family(f"kube_{kind_label}_metadata_resource_version", resource_version_help, stability=ALPHA,
           labels=())(resource_version)
