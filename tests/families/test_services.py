"""services families. Provenance: ksm-py's own cases (upstream internal/store/service_test.go is not mirrored);
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check

HEADERS = """
# HELP kube_service_info [STABLE] Information about service.
# TYPE kube_service_info gauge
# HELP kube_service_created [STABLE] Unix creation timestamp
# TYPE kube_service_created gauge
# HELP kube_service_spec_type [STABLE] Type about service.
# TYPE kube_service_spec_type gauge
# HELP kube_service_annotations Kubernetes annotations converted to Prometheus labels.
# TYPE kube_service_annotations gauge
# HELP kube_service_labels [STABLE] Kubernetes labels converted to Prometheus labels.
# TYPE kube_service_labels gauge
# HELP kube_service_spec_external_ip [STABLE] Service external ips. One series for each ip
# TYPE kube_service_spec_external_ip gauge
# HELP kube_service_status_load_balancer_ingress [STABLE] Service load balancer ingress status
# TYPE kube_service_status_load_balancer_ingress gauge
# HELP kube_service_deletion_timestamp Unix deletion timestamp
# TYPE kube_service_deletion_timestamp gauge
"""

META = {"name": "web", "namespace": "default", "uid": "u1"}
ID = 'namespace="default",service="web",uid="u1"'

CASES = [
    Case(
        id="all-families",
        obj={
            "metadata": {**META, "creationTimestamp": "2017-07-14T02:40:00Z",
                         "deletionTimestamp": "2017-08-01T06:30:18Z", "labels": {"app": "web"}},
            "spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.1", "loadBalancerIP": "1.2.3.4",
                     "externalTrafficPolicy": "Local", "externalIPs": ["5.6.7.8", "9.9.9.9"]},
            "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}, {"hostname": "lb.example.com"}]}},
        },
        want=HEADERS + f"""
kube_service_info{{{ID},cluster_ip="10.0.0.1",external_name="",load_balancer_ip="1.2.3.4",external_traffic_policy="Local"}} 1
kube_service_created{{{ID}}} 1.5e+09
kube_service_spec_type{{{ID},type="LoadBalancer"}} 1
kube_service_spec_external_ip{{{ID},external_ip="5.6.7.8"}} 1
kube_service_spec_external_ip{{{ID},external_ip="9.9.9.9"}} 1
kube_service_status_load_balancer_ingress{{{ID},ip="1.2.3.4",hostname=""}} 1
kube_service_status_load_balancer_ingress{{{ID},ip="",hostname="lb.example.com"}} 1
kube_service_deletion_timestamp{{{ID}}} 1.501569018e+09
""",
    ),
    Case(
        id="empty-spec",
        obj={"metadata": dict(META)},
        want=HEADERS + f"""
kube_service_info{{{ID},cluster_ip="",external_name="",load_balancer_ip="",external_traffic_policy=""}} 1
kube_service_spec_type{{{ID},type=""}} 1
""",
    ),
    Case(
        id="external-name",
        obj={"metadata": dict(META), "spec": {"type": "ExternalName", "externalName": "db.example.com"}},
        families=["kube_service_info", "kube_service_spec_type"],
        want=f"""
# HELP kube_service_info [STABLE] Information about service.
# TYPE kube_service_info gauge
# HELP kube_service_spec_type [STABLE] Type about service.
# TYPE kube_service_spec_type gauge
kube_service_info{{{ID},cluster_ip="",external_name="db.example.com",load_balancer_ip="",external_traffic_policy=""}} 1
kube_service_spec_type{{{ID},type="ExternalName"}} 1
""",
    ),
    Case(
        id="allowlists",
        obj={"metadata": {**META, "labels": {"app.kubernetes.io/name": "web", "foo-bar": "a", "foo_bar": "b",
                                             "camelCase": "c"},
                          "annotations": {"team": "x", "team-owner": "y", "other": "z"}}},
        labels_allowlist=["*"],
        annotations_allowlist=["team*"],
        families=["kube_service_labels", "kube_service_annotations"],
        want=f"""
# HELP kube_service_annotations Kubernetes annotations converted to Prometheus labels.
# TYPE kube_service_annotations gauge
# HELP kube_service_labels [STABLE] Kubernetes labels converted to Prometheus labels.
# TYPE kube_service_labels gauge
kube_service_annotations{{{ID},annotation_team="x",annotation_team_owner="y"}} 1
kube_service_labels{{{ID},label_app_kubernetes_io_name="web",label_camel_case="c",label_foo_bar_conflict1="a",label_foo_bar_conflict2="b"}} 1
""",
    ),
    Case(
        id="allowlist-no-match",
        obj={"metadata": {**META, "labels": {"app": "web"}}},
        labels_allowlist=["missing"],
        families=["kube_service_labels"],
        want=f"""
# HELP kube_service_labels [STABLE] Kubernetes labels converted to Prometheus labels.
# TYPE kube_service_labels gauge
kube_service_labels{{{ID}}} 1
""",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_services(case: Case) -> None:
    check("services", case)
