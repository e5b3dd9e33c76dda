"""admissionregistration.k8s.io/v1 MutatingAdmissionPolicyBinding
(KSM ``internal/store/mutatingadmissionpolicybinding.go``)."""

from __future__ import annotations

from ..metric import ALPHA
from ._admission import CREATED_HELP, admission_resource, binding_info
from ._helpers import created

mutatingadmissionpolicybindings = admission_resource("mutatingadmissionpolicybindings",
                                                     "MutatingAdmissionPolicyBinding")
family = mutatingadmissionpolicybindings.family
family("kube_mutatingadmissionpolicybinding_info", "Information about the MutatingAdmissionPolicyBinding.",
       stability=ALPHA, labels=("policy_name", "param_name", "param_namespace", "param_not_found_action"))(binding_info)
family("kube_mutatingadmissionpolicybinding_created", CREATED_HELP, stability=ALPHA, labels=())(created)
