"""networkpolicies families. Provenance: ksm-py's own cases (upstream internal/store/networkpolicy_test.go is not mirrored);
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check

HEADERS = """
# HELP kube_networkpolicy_created Unix creation timestamp of network policy
# TYPE kube_networkpolicy_created gauge
# HELP kube_networkpolicy_annotations Kubernetes annotations converted to Prometheus labels.
# TYPE kube_networkpolicy_annotations gauge
# HELP kube_networkpolicy_labels Kubernetes labels converted to Prometheus labels.
# TYPE kube_networkpolicy_labels gauge
# HELP kube_networkpolicy_spec_ingress_rules Number of ingress rules on the networkpolicy
# TYPE kube_networkpolicy_spec_ingress_rules gauge
# HELP kube_networkpolicy_spec_egress_rules Number of egress rules on the networkpolicy
# TYPE kube_networkpolicy_spec_egress_rules gauge
"""

ID = 'namespace="ns1",networkpolicy="deny"'
META = {"name": "deny", "namespace": "ns1"}

CASES = [
    Case(
        id="all-families",
        obj={"metadata": {**META, "creationTimestamp": "2017-07-14T02:40:00Z"},
             "spec": {"ingress": [{}, {"from": [{"podSelector": {}}]}], "egress": [{}],
                      "policyTypes": ["Ingress", "Egress"]}},
        want=HEADERS + f"""
kube_networkpolicy_created{{{ID}}} 1.5e+09
kube_networkpolicy_spec_ingress_rules{{{ID}}} 2
kube_networkpolicy_spec_egress_rules{{{ID}}} 1
""",
    ),
    Case(
        # No IsZero check upstream: an unset creation timestamp is Go's zero time.
        id="no-creation-timestamp-no-rules",
        obj={"metadata": dict(META)},
        want=HEADERS + f"""
kube_networkpolicy_created{{{ID}}} -6.21355968e+10
kube_networkpolicy_spec_ingress_rules{{{ID}}} 0
kube_networkpolicy_spec_egress_rules{{{ID}}} 0
""",
    ),
    Case(
        id="allowlists",
        obj={"metadata": {**META, "labels": {"role": "db"}, "annotations": {"a": "1", "b": "2"}}},
        labels_allowlist=["role"],
        annotations_allowlist=["b"],
        families=["kube_networkpolicy_labels", "kube_networkpolicy_annotations"],
        want=f"""
# HELP kube_networkpolicy_annotations Kubernetes annotations converted to Prometheus labels.
# TYPE kube_networkpolicy_annotations gauge
# HELP kube_networkpolicy_labels Kubernetes labels converted to Prometheus labels.
# TYPE kube_networkpolicy_labels gauge
kube_networkpolicy_annotations{{{ID},annotation_b="2"}} 1
kube_networkpolicy_labels{{{ID},label_role="db"}} 1
""",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_networkpolicies(case: Case) -> None:
    check("networkpolicies", case)
