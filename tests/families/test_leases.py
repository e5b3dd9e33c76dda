"""leases families. Provenance: ksm-py's own cases (upstream internal/store/lease_test.go is not mirrored);
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check, render

HEADERS = """
# HELP kube_lease_owner Information about the Lease's owner.
# TYPE kube_lease_owner gauge
# HELP kube_lease_renew_time Kube lease renew time.
# TYPE kube_lease_renew_time gauge
"""

CASES = [
    Case(
        id="owners-and-renew-time",
        obj={
            "metadata": {"name": "node-a", "namespace": "kube-node-lease", "ownerReferences": [
                {"apiVersion": "v1", "kind": "Node", "name": "node-a", "uid": "u1"},
                {"apiVersion": "v1", "kind": "Pod", "name": "p", "uid": "u2", "controller": True},
            ]},
            "spec": {"holderIdentity": "node-a", "renewTime": "2017-08-01T06:30:18.123456Z"},
        },
        want=HEADERS + """
kube_lease_owner{lease="node-a",owner_kind="Node",owner_name="node-a",namespace="kube-node-lease",lease_holder="node-a"} 1
kube_lease_owner{lease="node-a",owner_kind="Pod",owner_name="p",namespace="kube-node-lease",lease_holder="node-a"} 1
kube_lease_renew_time{lease="node-a",namespace="kube-node-lease"} 1.501569018e+09
""",
    ),
    Case(
        id="no-owner-no-holder-no-renew",
        obj={"metadata": {"name": "leader", "namespace": "kube-system"}},
        want=HEADERS + """
kube_lease_owner{lease="leader",owner_kind="",owner_name="",namespace="kube-system",lease_holder=""} 1
""",
    ),
    Case(
        # Leases take no allowlists: there is no _labels family and the flag changes nothing.
        id="allowlist-ignored",
        obj={"metadata": {"name": "leader", "namespace": "kube-system", "labels": {"a": "b"}}},
        labels_allowlist=["*"],
        want=HEADERS + """
kube_lease_owner{lease="leader",owner_kind="",owner_name="",namespace="kube-system",lease_holder=""} 1
""",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_leases(case: Case) -> None:
    check("leases", case)


def test_label_order() -> None:
    got = render("leases", [{"metadata": {"name": "l", "namespace": "ns"}, "spec": {"holderIdentity": "h"}}])
    assert 'kube_lease_owner{lease="l",owner_kind="",owner_name="",namespace="ns",lease_holder="h"} 1\n' in got
