"""limitranges families. Provenance: ksm-py's own cases (upstream internal/store/limitrange_test.go is not mirrored);
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check

HEADERS = """
# HELP kube_limitrange [STABLE] Information about limit range.
# TYPE kube_limitrange gauge
# HELP kube_limitrange_created [STABLE] Unix creation timestamp
# TYPE kube_limitrange_created gauge
"""

ID = 'namespace="ns1",limitrange="limits"'
META = {"name": "limits", "namespace": "ns1"}

CASES = [
    Case(
        id="all-families",
        obj={"metadata": {**META, "creationTimestamp": "2017-07-14T02:40:00Z"},
             "spec": {"limits": [
                 {"type": "Container", "min": {"cpu": "100m"}, "max": {"cpu": "2", "memory": "1Gi"},
                  "default": {"ephemeral-storage": "1G"}, "defaultRequest": {"cpu": "250m"},
                  "maxLimitRequestRatio": {"cpu": "4"}},
                 {"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"}},
                 # No type: the label is empty.
                 {"max": {"example.com/dongle": "3"}},
             ]}},
        want=HEADERS + f"""
kube_limitrange{{{ID},resource="cpu",type="Container",constraint="min"}} 0.1
kube_limitrange{{{ID},resource="cpu",type="Container",constraint="max"}} 2
kube_limitrange{{{ID},resource="memory",type="Container",constraint="max"}} 1.073741824e+09
kube_limitrange{{{ID},resource="ephemeral-storage",type="Container",constraint="default"}} 1e+09
kube_limitrange{{{ID},resource="cpu",type="Container",constraint="defaultRequest"}} 0.25
kube_limitrange{{{ID},resource="cpu",type="Container",constraint="maxLimitRequestRatio"}} 4
kube_limitrange{{{ID},resource="storage",type="PersistentVolumeClaim",constraint="min"}} 1.073741824e+09
kube_limitrange{{{ID},resource="example.com/dongle",type="",constraint="max"}} 3
kube_limitrange_created{{{ID}}} 1.5e+09
""",
    ),
    Case(
        id="no-limits",
        obj={"metadata": dict(META), "spec": {"limits": [{"type": "Pod"}]}},
        want=HEADERS,
    ),
    Case(
        # LimitRanges take no allowlists: the flag has no effect and there is no _labels family.
        id="allowlist-ignored",
        obj={"metadata": {**META, "labels": {"a": "b"}}},
        labels_allowlist=["*"],
        want=HEADERS,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_limitranges(case: Case) -> None:
    check("limitranges", case)
