"""Shared shapes of the admissionregistration.k8s.io/v1 kinds (webhook configurations,
admission policies and their bindings).

All are cluster-scoped yet keep a leading ``namespace`` identity label, read from
``metadata.namespace`` as upstream does, so it is "" for any object the API server returns.
None of them supports the labels/annotations allowlists.
"""

from __future__ import annotations

from typing import Any

from ..metric import ALPHA
from ._dsl import NAME, NAMESPACE, Body, Resource, Samples
from ._helpers import created, dig, resource_version

CREATED_HELP = "Unix creation timestamp."


def admission_resource(name: str, kind: str) -> Resource:
    """The resource and its identity labels (``namespace``, then the lowercased kind)."""
    return Resource(name, group="admissionregistration.k8s.io", version="v1", kind=kind, namespaced=False,
                    identity=[("namespace", NAMESPACE), (kind.lower(), NAME)], allowlists=False)


def info(_obj: Body) -> Samples:
    yield (), 1


def webhook_configuration_families(resource: Resource, webhook_help: str) -> None:
    """info, created, metadata_resource_version, webhook_clientconfig_service (all ALPHA)."""
    kind = resource.kind
    label = kind.lower()
    family = resource.family
    family(f"kube_{label}_info", f"Information about the {kind}.", stability=ALPHA, labels=())(info)
    family(f"kube_{label}_created", CREATED_HELP, stability=ALPHA, labels=())(created)
    family(f"kube_{label}_metadata_resource_version",
           f"Resource version representing a specific version of the {kind}.", stability=ALPHA,
           labels=())(resource_version)
    family(f"kube_{label}_webhook_clientconfig_service", webhook_help, stability=ALPHA,
           labels=("webhook_name", "service_name", "service_namespace"))(webhook_clientconfig_service)


def webhook_clientconfig_service(config: Body) -> Samples:
    for webhook in config.get("webhooks") or []:
        # URL-based webhooks have no service: still one series, with empty service labels.
        service = dig(webhook, "clientConfig", "service") or {}
        yield (("webhook_name", webhook.get("name") or ""), ("service_name", service.get("name") or ""),
               ("service_namespace", service.get("namespace") or "")), 1


def policy_labels(policy: Body) -> list[tuple[str, str]]:
    """``param_api_version``, ``param_kind``, ``failure_policy`` of a (Mutating|Validating)AdmissionPolicy."""
    spec: dict[str, Any] = policy.get("spec") or {}
    param_kind = spec.get("paramKind") or {}
    return [("param_api_version", param_kind.get("apiVersion") or ""), ("param_kind", param_kind.get("kind") or ""),
            ("failure_policy", spec.get("failurePolicy") or "")]


def binding_info(binding: Body) -> Samples:
    """``_info`` of a (Mutating|Validating)AdmissionPolicyBinding."""
    spec = binding.get("spec") or {}
    param_ref = spec.get("paramRef") or {}
    yield (("policy_name", spec.get("policyName") or ""), ("param_name", param_ref.get("name") or ""),
           ("param_namespace", param_ref.get("namespace") or ""),
           ("param_not_found_action", param_ref.get("parameterNotFoundAction") or "")), 1
