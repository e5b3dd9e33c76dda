"""v1 ServiceAccount (KSM ``internal/store/serviceaccount.go``)."""

from __future__ import annotations

from ..metric import ALPHA
from ._dsl import NAME, NAMESPACE, UID, Body, Resource, Samples
from ._helpers import annotations_family, created, deletion_timestamp, labels_family

serviceaccounts = Resource("serviceaccounts", group="", version="v1", kind="ServiceAccount", namespaced=True,
                           identity=[("namespace", NAMESPACE), ("serviceaccount", NAME), ("uid", UID)],
                           default=False)
family = serviceaccounts.family


@family("kube_serviceaccount_info", "Information about a service account", stability=ALPHA, labels=("automount_token",))
def info(sa: Body) -> Samples:
    # A *bool: unset is "" rather than "false", so the API default stays distinguishable.
    automount = sa.get("automountServiceAccountToken")
    yield {"automount_token": "" if automount is None else ("true" if automount else "false")}, 1


family("kube_serviceaccount_created", "Unix creation timestamp", stability=ALPHA, labels=())(created)
family("kube_serviceaccount_deleted", "Unix deletion timestamp", stability=ALPHA, labels=())(deletion_timestamp)


@family("kube_serviceaccount_secret", "Secret being referenced by a service account", stability=ALPHA, labels=("name",))
def secret(sa: Body) -> Samples:
    for s in sa.get("secrets") or []:
        yield {"name": s.get("name") or ""}, 1


@family("kube_serviceaccount_image_pull_secret",
        "Secret being referenced by a service account for the purpose of pulling images", stability=ALPHA,
        labels=("name",))
def image_pull_secret(sa: Body) -> Samples:
    for s in sa.get("imagePullSecrets") or []:
        yield {"name": s.get("name") or ""}, 1


# Unlike most resources, annotations and labels come last here.
annotations_family(serviceaccounts, "serviceaccount", ALPHA)
labels_family(serviceaccounts, "serviceaccount", ALPHA)
