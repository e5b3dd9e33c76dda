"""admissionregistration.k8s.io/v1 MutatingWebhookConfiguration (KSM ``internal/store/mutatingwebhookconfiguration.go``)."""

from __future__ import annotations

from ._admission import admission_resource, webhook_configuration_families

mutatingwebhookconfigurations = admission_resource("mutatingwebhookconfigurations", "MutatingWebhookConfiguration")
webhook_configuration_families(mutatingwebhookconfigurations,
                               "Service used by the apiserver to connect to a mutating webhook.")
