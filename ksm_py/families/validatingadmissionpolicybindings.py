"""admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding
(KSM ``internal/store/validatingadmissionpolicybinding.go``)."""

from __future__ import annotations

from ..metric import ALPHA
from ._admission import CREATED_HELP, admission_resource, binding_info
from ._dsl import Body, Samples
from ._helpers import created, dig

validatingadmissionpolicybindings = admission_resource("validatingadmissionpolicybindings",
                                                       "ValidatingAdmissionPolicyBinding")
family = validatingadmissionpolicybindings.family
family("kube_validatingadmissionpolicybinding_info", "Information about the ValidatingAdmissionPolicyBinding.",
       stability=ALPHA, labels=("policy_name", "param_name", "param_namespace", "param_not_found_action"))(binding_info)
family("kube_validatingadmissionpolicybinding_created", CREATED_HELP, stability=ALPHA, labels=())(created)


@family("kube_validatingadmissionpolicybinding_validation_action",
        "Validation actions for the ValidatingAdmissionPolicyBinding.", stability=ALPHA, labels=("action",))
def validation_action(binding: Body) -> Samples:
    for action in dig(binding, "spec", "validationActions") or []:
        yield {"action": action}, 1
