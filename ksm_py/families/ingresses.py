"""networking.k8s.io/v1 Ingress (KSM ``internal/store/ingress.go``)."""

from __future__ import annotations

from ..metric import ALPHA, STABLE
from ._dsl import NAME, NAMESPACE, Body, Resource, Samples
from ._helpers import created, dig, meta, metadata_families, resource_version

ingresses = Resource("ingresses", group="networking.k8s.io", version="v1", kind="Ingress", namespaced=True,
                     identity=[("namespace", NAMESPACE), ("ingress", NAME)])
family = ingresses.family


@family("kube_ingress_info", "Information about ingress.", labels=("ingressclass",))
def info(i: Body) -> Samples:
    # The legacy annotation wins over spec.ingressClassName whenever the key exists, even if empty.
    annotations = meta(i).get("annotations") or {}
    if "kubernetes.io/ingress.class" in annotations:
        cls = annotations["kubernetes.io/ingress.class"] or ""
    else:
        name = dig(i, "spec", "ingressClassName")
        cls = "_default" if name is None else name
    yield (("ingressclass", cls),), 1


metadata_families(ingresses, "ingress", labels_stability=STABLE, annotations_stability=ALPHA)
family("kube_ingress_created", "Unix creation timestamp", labels=())(created)
family("kube_ingress_metadata_resource_version", "Resource version representing a specific version of ingress.",
       stability=ALPHA, labels=())(resource_version)


@family("kube_ingress_path", "Ingress host, paths and backend service information.",
        labels=("host", "path", "path_type", "service_name", "service_port", "resource_api_group", "resource_kind",
                "resource_name"))
def path(i: Body) -> Samples:
    for rule in dig(i, "spec", "rules") or []:
        host = rule.get("host") or ""
        for p in dig(rule, "http", "paths") or []:
            head = (("host", host), ("path", p.get("path") or ""), ("path_type", p.get("pathType") or ""))
            service = dig(p, "backend", "service")
            if service is not None:
                # A named port has number 0, reported as "0".
                yield (*head, ("service_name", service.get("name") or ""),
                       ("service_port", str(dig(service, "port", "number") or 0))), 1
            else:
                res = dig(p, "backend", "resource") or {}
                yield (*head, ("resource_api_group", res.get("apiGroup") or ""), ("resource_kind", res.get("kind") or ""),
                       ("resource_name", res.get("name") or "")), 1


@family("kube_ingress_tls", "Ingress TLS host and secret information.", labels=("tls_host", "secret"))
def tls(i: Body) -> Samples:
    for t in dig(i, "spec", "tls") or []:
        for host in t.get("hosts") or []:
            yield (("tls_host", host or ""), ("secret", t.get("secretName") or "")), 1
