"""mutatingadmissionpolicies families. Provenance: ksm-py's own cases (upstream internal/store/mutatingadmissionpolicy_test.go is not mirrored);
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check, render

RESOURCE = "mutatingadmissionpolicies"
FAMILIES = ["kube_mutatingadmissionpolicy_info", "kube_mutatingadmissionpolicy_created"]

HEADERS = """
# HELP kube_mutatingadmissionpolicy_info Information about the MutatingAdmissionPolicy.
# TYPE kube_mutatingadmissionpolicy_info gauge
# HELP kube_mutatingadmissionpolicy_created Unix creation timestamp.
# TYPE kube_mutatingadmissionpolicy_created gauge
"""

CASES = [
    Case(id="all fields set",
         obj={"metadata": {"name": "sidecar", "creationTimestamp": "2017-08-01T06:30:18Z"},
              "spec": {"paramKind": {"apiVersion": "v1", "kind": "ConfigMap"}, "failurePolicy": "Ignore",
                       "reinvocationPolicy": "IfNeeded"}},
         want=HEADERS + """
         kube_mutatingadmissionpolicy_info{namespace="",mutatingadmissionpolicy="sidecar",param_api_version="v1",param_kind="ConfigMap",failure_policy="Ignore",reinvocation_policy="IfNeeded"} 1
         kube_mutatingadmissionpolicy_created{namespace="",mutatingadmissionpolicy="sidecar"} 1.501569018e+09
         """),
    Case(id="empty spec, no timestamp",
         obj={"metadata": {"name": "m"}, "spec": {}},
         want=HEADERS + """
         kube_mutatingadmissionpolicy_info{namespace="",mutatingadmissionpolicy="m",param_api_version="",param_kind="",failure_policy="",reinvocation_policy=""} 1
         """),
    Case(id="paramKind without apiVersion, namespace from metadata",
         obj={"metadata": {"name": "m", "namespace": "ns1"},
              "spec": {"paramKind": {"kind": "Rule"}, "reinvocationPolicy": "Never"}},
         families=["kube_mutatingadmissionpolicy_info"],
         want="""
         # HELP kube_mutatingadmissionpolicy_info Information about the MutatingAdmissionPolicy.
         # TYPE kube_mutatingadmissionpolicy_info gauge
         kube_mutatingadmissionpolicy_info{namespace="ns1",mutatingadmissionpolicy="m",param_api_version="",param_kind="Rule",failure_policy="",reinvocation_policy="Never"} 1
         """),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_mutatingadmissionpolicies(case: Case) -> None:
    check(RESOURCE, case)


def test_family_order() -> None:
    text = render(RESOURCE, [{"metadata": {"name": "m"}}])
    assert [line.split()[2] for line in text.splitlines() if line.startswith("# HELP")] == FAMILIES
