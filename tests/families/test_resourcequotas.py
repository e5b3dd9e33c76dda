"""resourcequotas families. Provenance: ksm-py's own cases (upstream internal/store/resourcequota_test.go is not mirrored);
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check

HEADERS = """
# HELP kube_resourcequota_created [STABLE] Unix creation timestamp
# TYPE kube_resourcequota_created gauge
# HELP kube_resourcequota [STABLE] Information about resource quota.
# TYPE kube_resourcequota gauge
# HELP kube_resourcequota_annotations Kubernetes annotations converted to Prometheus labels.
# TYPE kube_resourcequota_annotations gauge
# HELP kube_resourcequota_labels [STABLE] Kubernetes labels converted to Prometheus labels.
# TYPE kube_resourcequota_labels gauge
"""

ID = 'namespace="ns1",resourcequota="quota"'
META = {"name": "quota", "namespace": "ns1"}

CASES = [
    Case(
        id="all-families",
        obj={"metadata": {**META, "creationTimestamp": "2017-07-14T02:40:00Z"},
             "status": {
                 "hard": {"requests.cpu": "4300m", "limits.memory": "2.1G", "count/deployments.apps": "10",
                          "pods": "9", "requests.storage": "100Gi", "nvidia.com/gpu": "1"},
                 "used": {"requests.cpu": "1m", "limits.memory": "500M", "count/deployments.apps": "0",
                          "requests.storage": "1.5Ki"},
             }},
        want=HEADERS + f"""
kube_resourcequota_created{{{ID}}} 1.5e+09
kube_resourcequota{{{ID},resource="requests.cpu",type="hard"}} 4.3
kube_resourcequota{{{ID},resource="limits.memory",type="hard"}} 2.1e+09
kube_resourcequota{{{ID},resource="count/deployments.apps",type="hard"}} 10
kube_resourcequota{{{ID},resource="pods",type="hard"}} 9
kube_resourcequota{{{ID},resource="requests.storage",type="hard"}} 1.073741824e+11
kube_resourcequota{{{ID},resource="nvidia.com/gpu",type="hard"}} 1
kube_resourcequota{{{ID},resource="requests.cpu",type="used"}} 0.001
kube_resourcequota{{{ID},resource="limits.memory",type="used"}} 5e+08
kube_resourcequota{{{ID},resource="count/deployments.apps",type="used"}} 0
kube_resourcequota{{{ID},resource="requests.storage",type="used"}} 1536
""",
    ),
    Case(
        id="empty",
        obj={"metadata": dict(META)},
        want=HEADERS,
    ),
    Case(
        # Sub-milli values round up (MilliValue); values past MaxInt64/1000 switch to Value().
        # The "{" in the filter keeps only kube_resourcequota samples, not the other families.
        id="rounding-and-huge",
        obj={"metadata": dict(META), "status": {"hard": {"a": "1n", "b": "1Ei"}}},
        families=["kube_resourcequota{"],
        want=f"""
kube_resourcequota{{{ID},resource="a",type="hard"}} 0.001
kube_resourcequota{{{ID},resource="b",type="hard"}} 1.152921504606847e+18
""",
    ),
    Case(
        id="allowlists",
        obj={"metadata": {**META, "labels": {"team": "a", "Team": "b", "tier": "c"},
                          "annotations": {"quota/owner": "ops"}}},
        labels_allowlist=["team", "Team"],
        annotations_allowlist=["quota/*"],
        families=["kube_resourcequota_labels", "kube_resourcequota_annotations"],
        want=f"""
# HELP kube_resourcequota_annotations Kubernetes annotations converted to Prometheus labels.
# TYPE kube_resourcequota_annotations gauge
# HELP kube_resourcequota_labels [STABLE] Kubernetes labels converted to Prometheus labels.
# TYPE kube_resourcequota_labels gauge
kube_resourcequota_annotations{{{ID},annotation_quota_owner="ops"}} 1
kube_resourcequota_labels{{{ID},label_team_conflict1="b",label_team_conflict2="a"}} 1
""",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_resourcequotas(case: Case) -> None:
    check("resourcequotas", case)
