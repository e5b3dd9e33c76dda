"""validatingadmissionpolicies families. Provenance: ksm-py's own cases (upstream internal/store/validatingadmissionpolicy_test.go is not mirrored);
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check, render

RESOURCE = "validatingadmissionpolicies"
FAMILIES = ["kube_validatingadmissionpolicy_info", "kube_validatingadmissionpolicy_created"]

HEADERS = """
# HELP kube_validatingadmissionpolicy_info Information about the ValidatingAdmissionPolicy.
# TYPE kube_validatingadmissionpolicy_info gauge
# HELP kube_validatingadmissionpolicy_created Unix creation timestamp.
# TYPE kube_validatingadmissionpolicy_created gauge
"""

CASES = [
    Case(id="all fields set",
         obj={"metadata": {"name": "replicas-limit", "creationTimestamp": "2017-08-01T06:30:18Z"},
              "spec": {"paramKind": {"apiVersion": "rules.example.com/v1", "kind": "ReplicaLimit"},
                       "failurePolicy": "Fail", "validations": [{"expression": "true"}]}},
         want=HEADERS + """
         kube_validatingadmissionpolicy_info{namespace="",validatingadmissionpolicy="replicas-limit",param_api_version="rules.example.com/v1",param_kind="ReplicaLimit",failure_policy="Fail"} 1
         kube_validatingadmissionpolicy_created{namespace="",validatingadmissionpolicy="replicas-limit"} 1.501569018e+09
         """),
    Case(id="no paramKind, no failurePolicy, no timestamp",
         obj={"metadata": {"name": "p"}, "spec": {}},
         want=HEADERS + """
         kube_validatingadmissionpolicy_info{namespace="",validatingadmissionpolicy="p",param_api_version="",param_kind="",failure_policy=""} 1
         """),
    Case(id="no spec at all, namespace from metadata",
         obj={"metadata": {"name": "p", "namespace": "ns2"}},
         families=["kube_validatingadmissionpolicy_info"],
         want="""
         # HELP kube_validatingadmissionpolicy_info Information about the ValidatingAdmissionPolicy.
         # TYPE kube_validatingadmissionpolicy_info gauge
         kube_validatingadmissionpolicy_info{namespace="ns2",validatingadmissionpolicy="p",param_api_version="",param_kind="",failure_policy=""} 1
         """),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_validatingadmissionpolicies(case: Case) -> None:
    check(RESOURCE, case)


def test_family_order() -> None:
    text = render(RESOURCE, [{"metadata": {"name": "p"}}])
    assert [line.split()[2] for line in text.splitlines() if line.startswith("# HELP")] == FAMILIES
