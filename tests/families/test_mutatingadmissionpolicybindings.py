"""mutatingadmissionpolicybindings families. Provenance: ksm-py's own cases (upstream internal/store/mutatingadmissionpolicybinding_test.go is not mirrored);
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check, render

RESOURCE = "mutatingadmissionpolicybindings"
FAMILIES = ["kube_mutatingadmissionpolicybinding_info", "kube_mutatingadmissionpolicybinding_created"]

HEADERS = """
# HELP kube_mutatingadmissionpolicybinding_info Information about the MutatingAdmissionPolicyBinding.
# TYPE kube_mutatingadmissionpolicybinding_info gauge
# HELP kube_mutatingadmissionpolicybinding_created Unix creation timestamp.
# TYPE kube_mutatingadmissionpolicybinding_created gauge
"""

CASES = [
    Case(id="with paramRef",
         obj={"metadata": {"name": "b", "creationTimestamp": "2017-08-01T06:30:18Z"},
              "spec": {"policyName": "sidecar",
                       "paramRef": {"name": "cfg", "namespace": "sys", "parameterNotFoundAction": "Allow"}}},
         want=HEADERS + """
         kube_mutatingadmissionpolicybinding_info{namespace="",mutatingadmissionpolicybinding="b",policy_name="sidecar",param_name="cfg",param_namespace="sys",param_not_found_action="Allow"} 1
         kube_mutatingadmissionpolicybinding_created{namespace="",mutatingadmissionpolicybinding="b"} 1.501569018e+09
         """),
    Case(id="paramRef without parameterNotFoundAction",
         obj={"metadata": {"name": "b"}, "spec": {"policyName": "p", "paramRef": {"name": "cfg"}}},
         want=HEADERS + """
         kube_mutatingadmissionpolicybinding_info{namespace="",mutatingadmissionpolicybinding="b",policy_name="p",param_name="cfg",param_namespace="",param_not_found_action=""} 1
         """),
    Case(id="no spec",
         obj={"metadata": {"name": "b", "namespace": "ns1"}},
         families=["kube_mutatingadmissionpolicybinding_info"],
         want="""
         # HELP kube_mutatingadmissionpolicybinding_info Information about the MutatingAdmissionPolicyBinding.
         # TYPE kube_mutatingadmissionpolicybinding_info gauge
         kube_mutatingadmissionpolicybinding_info{namespace="ns1",mutatingadmissionpolicybinding="b",policy_name="",param_name="",param_namespace="",param_not_found_action=""} 1
         """),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_mutatingadmissionpolicybindings(case: Case) -> None:
    check(RESOURCE, case)


def test_family_order() -> None:
    text = render(RESOURCE, [{"metadata": {"name": "b"}}])
    assert [line.split()[2] for line in text.splitlines() if line.startswith("# HELP")] == FAMILIES
