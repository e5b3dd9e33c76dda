"""admissionregistration.k8s.io/v1 MutatingAdmissionPolicy (KSM ``internal/store/mutatingadmissionpolicy.go``)."""

from __future__ import annotations

from ..metric import ALPHA
from ._admission import CREATED_HELP, admission_resource, policy_labels
from ._dsl import Body, Samples
from ._helpers import created, dig

mutatingadmissionpolicies = admission_resource("mutatingadmissionpolicies", "MutatingAdmissionPolicy")
family = mutatingadmissionpolicies.family


@family("kube_mutatingadmissionpolicy_info", "Information about the MutatingAdmissionPolicy.", stability=ALPHA,
        labels=("param_api_version", "param_kind", "failure_policy", "reinvocation_policy"))
def info(policy: Body) -> Samples:
    yield [*policy_labels(policy), ("reinvocation_policy", dig(policy, "spec", "reinvocationPolicy") or "")], 1


family("kube_mutatingadmissionpolicy_created", CREATED_HELP, stability=ALPHA, labels=())(created)
