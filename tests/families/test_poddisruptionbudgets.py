"""poddisruptionbudgets families. Provenance: ksm-py's own cases, a few after upstream internal/store/poddisruptionbudget_test.go;
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check

P = "kube_poddisruptionbudget"
HEADERS = f"""
# HELP {P}_annotations Kubernetes annotations converted to Prometheus labels.
# TYPE {P}_annotations gauge
# HELP {P}_labels Kubernetes labels converted to Prometheus labels.
# TYPE {P}_labels gauge
# HELP {P}_created [STABLE] Unix creation timestamp
# TYPE {P}_created gauge
# HELP {P}_status_current_healthy [STABLE] Current number of healthy pods
# TYPE {P}_status_current_healthy gauge
# HELP {P}_status_desired_healthy [STABLE] Minimum desired number of healthy pods
# TYPE {P}_status_desired_healthy gauge
# HELP {P}_status_pod_disruptions_allowed [STABLE] Number of pod disruptions that are currently allowed
# TYPE {P}_status_pod_disruptions_allowed gauge
# HELP {P}_status_expected_pods [STABLE] Total number of pods counted by this disruption budget
# TYPE {P}_status_expected_pods gauge
# HELP {P}_status_observed_generation [STABLE] Most recent generation observed when updating this PDB status
# TYPE {P}_status_observed_generation gauge
# HELP {P}_deletion_timestamp Unix deletion timestamp
# TYPE {P}_deletion_timestamp gauge
"""

ID = 'namespace="ns1",poddisruptionbudget="pdb1"'
META = {"name": "pdb1", "namespace": "ns1"}

CASES = [
    Case(
        id="all-families",
        obj={"metadata": {**META, "creationTimestamp": "2017-07-14T02:40:00Z",
                          "deletionTimestamp": "2017-08-01T06:30:18Z", "generation": 21},
             "spec": {"minAvailable": 2},
             "status": {"currentHealthy": 12, "desiredHealthy": 10, "disruptionsAllowed": 2, "expectedPods": 15,
                        "observedGeneration": 111}},
        want=HEADERS + f"""
{P}_created{{{ID}}} 1.5e+09
{P}_status_current_healthy{{{ID}}} 12
{P}_status_desired_healthy{{{ID}}} 10
{P}_status_pod_disruptions_allowed{{{ID}}} 2
{P}_status_expected_pods{{{ID}}} 15
{P}_status_observed_generation{{{ID}}} 111
{P}_deletion_timestamp{{{ID}}} 1.501569018e+09
""",
    ),
    Case(
        id="empty-status",
        obj={"metadata": dict(META)},
        want=HEADERS + f"""
{P}_status_current_healthy{{{ID}}} 0
{P}_status_desired_healthy{{{ID}}} 0
{P}_status_pod_disruptions_allowed{{{ID}}} 0
{P}_status_expected_pods{{{ID}}} 0
{P}_status_observed_generation{{{ID}}} 0
""",
    ),
    Case(
        id="allowlists",
        obj={"metadata": {**META, "labels": {"app": "db", "app.kubernetes.io/name": "db"},
                          "annotations": {"x": "1"}}},
        labels_allowlist=["app.kubernetes.io/name", "absent"],
        annotations_allowlist=["*"],
        families=[f"{P}_labels", f"{P}_annotations"],
        want=f"""
# HELP {P}_annotations Kubernetes annotations converted to Prometheus labels.
# TYPE {P}_annotations gauge
# HELP {P}_labels Kubernetes labels converted to Prometheus labels.
# TYPE {P}_labels gauge
{P}_annotations{{{ID},annotation_x="1"}} 1
{P}_labels{{{ID},label_app_kubernetes_io_name="db"}} 1
""",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_poddisruptionbudgets(case: Case) -> None:
    check("poddisruptionbudgets", case)
