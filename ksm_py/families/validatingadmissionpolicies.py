"""admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy (KSM ``internal/store/validatingadmissionpolicy.go``)."""

from __future__ import annotations

from ..metric import ALPHA
from ._admission import CREATED_HELP, admission_resource, policy_labels
from ._dsl import Body, Samples
from ._helpers import created

validatingadmissionpolicies = admission_resource("validatingadmissionpolicies", "ValidatingAdmissionPolicy")
family = validatingadmissionpolicies.family


@family("kube_validatingadmissionpolicy_info", "Information about the ValidatingAdmissionPolicy.", stability=ALPHA,
        labels=("param_api_version", "param_kind", "failure_policy"))
def info(policy: Body) -> Samples:
    yield policy_labels(policy), 1


family("kube_validatingadmissionpolicy_created", CREATED_HELP, stability=ALPHA, labels=())(created)
