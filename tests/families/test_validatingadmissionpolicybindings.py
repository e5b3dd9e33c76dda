"""validatingadmissionpolicybindings families. Provenance: ksm-py's own cases (upstream internal/store/validatingadmissionpolicybinding_test.go is not mirrored);
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check, render

RESOURCE = "validatingadmissionpolicybindings"
FAMILIES = ["kube_validatingadmissionpolicybinding_info", "kube_validatingadmissionpolicybinding_created",
            "kube_validatingadmissionpolicybinding_validation_action"]

HEADERS = """
# HELP kube_validatingadmissionpolicybinding_info Information about the ValidatingAdmissionPolicyBinding.
# TYPE kube_validatingadmissionpolicybinding_info gauge
# HELP kube_validatingadmissionpolicybinding_created Unix creation timestamp.
# TYPE kube_validatingadmissionpolicybinding_created gauge
# HELP kube_validatingadmissionpolicybinding_validation_action Validation actions for the ValidatingAdmissionPolicyBinding.
# TYPE kube_validatingadmissionpolicybinding_validation_action gauge
"""

CASES = [
    Case(id="with paramRef and actions",
         obj={"metadata": {"name": "b", "creationTimestamp": "2017-08-01T06:30:18Z"},
              "spec": {"policyName": "limit",
                       "paramRef": {"name": "cfg", "namespace": "sys", "parameterNotFoundAction": "Deny"},
                       "validationActions": ["Deny", "Audit", "Warn"]}},
         want=HEADERS + """
         kube_validatingadmissionpolicybinding_info{namespace="",validatingadmissionpolicybinding="b",policy_name="limit",param_name="cfg",param_namespace="sys",param_not_found_action="Deny"} 1
         kube_validatingadmissionpolicybinding_created{namespace="",validatingadmissionpolicybinding="b"} 1.501569018e+09
         kube_validatingadmissionpolicybinding_validation_action{namespace="",validatingadmissionpolicybinding="b",action="Deny"} 1
         kube_validatingadmissionpolicybinding_validation_action{namespace="",validatingadmissionpolicybinding="b",action="Audit"} 1
         kube_validatingadmissionpolicybinding_validation_action{namespace="",validatingadmissionpolicybinding="b",action="Warn"} 1
         """),
    Case(id="no paramRef, no actions, no timestamp",
         obj={"metadata": {"name": "b"}, "spec": {"policyName": "limit"}},
         want=HEADERS + """
         kube_validatingadmissionpolicybinding_info{namespace="",validatingadmissionpolicybinding="b",policy_name="limit",param_name="",param_namespace="",param_not_found_action=""} 1
         """),
    Case(id="no spec, namespace from metadata",
         obj={"metadata": {"name": "b", "namespace": "ns2"}},
         families=["kube_validatingadmissionpolicybinding_info"],
         want="""
         # HELP kube_validatingadmissionpolicybinding_info Information about the ValidatingAdmissionPolicyBinding.
         # TYPE kube_validatingadmissionpolicybinding_info gauge
         kube_validatingadmissionpolicybinding_info{namespace="ns2",validatingadmissionpolicybinding="b",policy_name="",param_name="",param_namespace="",param_not_found_action=""} 1
         """),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_validatingadmissionpolicybindings(case: Case) -> None:
    check(RESOURCE, case)


def test_family_order() -> None:
    text = render(RESOURCE, [{"metadata": {"name": "b"}}])
    assert [line.split()[2] for line in text.splitlines() if line.startswith("# HELP")] == FAMILIES
