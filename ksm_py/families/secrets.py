"""v1 Secret (KSM ``internal/store/secret.go``).

Not metadata-only: ``kube_secret_type`` needs the top-level ``type`` field, which
PartialObjectMetadata does not carry. No family reads ``data``/``stringData``.
"""

from __future__ import annotations

from ..metric import ALPHA, STABLE
from ..shape import ANY, OBJECT_META
from ._dsl import NAME, NAMESPACE, Body, Resource, Samples
from ._helpers import LAST_APPLIED, created, metadata_families, owner_samples, resource_version

secrets = Resource("secrets", group="", version="v1", kind="Secret", namespaced=True,
                   identity=[("namespace", NAMESPACE), ("secret", NAME)])
family = secrets.family
# Metadata and the type: a Secret's data never becomes a Python object of the process, it is
# skipped while parsing (tests/families/_util.check).
secrets.reads = {"metadata": OBJECT_META, "type": ANY}


@family("kube_secret_info", "Information about secret.", labels=())
def info(_: Body) -> Samples:
    yield (), 1


@family("kube_secret_type", "Type about secret.", labels=("type",))
def type_(s: Body) -> Samples:
    yield {"type": s.get("type") or ""}, 1


# Deliberate deviation: never the last-applied-configuration annotation (it holds the data).
metadata_families(secrets, "secret", labels_stability=STABLE, annotations_stability=ALPHA,
                  hidden_annotations=(LAST_APPLIED,))
family("kube_secret_created", "Unix creation timestamp", labels=())(created)
family("kube_secret_metadata_resource_version", "Resource version representing a specific version of secret.",
       stability=ALPHA, labels=())(resource_version)


@family("kube_secret_owner", "Information about the Secret's owner.", stability=ALPHA,
        labels=("owner_kind", "owner_name", "owner_is_controller"))
def owner(s: Body) -> Samples:
    return owner_samples(s)
