"""admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration (KSM ``internal/store/validatingwebhookconfiguration.go``)."""

from __future__ import annotations

from ._admission import admission_resource, webhook_configuration_families

validatingwebhookconfigurations = admission_resource("validatingwebhookconfigurations",
                                                     "ValidatingWebhookConfiguration")
webhook_configuration_families(validatingwebhookconfigurations,
                               "Service used by the apiserver to connect to a validating webhook.")
