"""endpoints families. Provenance: ksm-py's own cases, a few after upstream internal/store/endpoint_test.go;
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check

HEADERS = """
# HELP kube_endpoint_info [STABLE] Information about endpoint.
# TYPE kube_endpoint_info gauge
# HELP kube_endpoint_created [STABLE] Unix creation timestamp
# TYPE kube_endpoint_created gauge
# HELP kube_endpoint_annotations Kubernetes annotations converted to Prometheus labels.
# TYPE kube_endpoint_annotations gauge
# HELP kube_endpoint_labels [STABLE] Kubernetes labels converted to Prometheus labels.
# TYPE kube_endpoint_labels gauge
# HELP kube_endpoint_address [STABLE] Information about Endpoint available and non available addresses.
# TYPE kube_endpoint_address gauge
# HELP kube_endpoint_ports [STABLE] (Deprecated since v2.14.0) Information about the Endpoint ports.
# TYPE kube_endpoint_ports gauge
"""

ID = 'namespace="default",endpoint="web"'

CASES = [
    Case(
        id="all-families",
        obj={
            "metadata": {"name": "web", "namespace": "default", "creationTimestamp": "2017-07-14T02:40:00Z"},
            "subsets": [
                {
                    "addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
                    "notReadyAddresses": [{"ip": "10.0.0.3"}],
                    "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
                },
                # No ports: the addresses produce no kube_endpoint_address series.
                {"addresses": [{"ip": "10.0.0.9"}]},
            ],
        },
        want=HEADERS + f"""
kube_endpoint_info{{{ID}}} 1
kube_endpoint_created{{{ID}}} 1.5e+09
kube_endpoint_address{{{ID},port_protocol="TCP",port_number="8080",port_name="http",ip="10.0.0.1",ready="true"}} 1
kube_endpoint_address{{{ID},port_protocol="TCP",port_number="8080",port_name="http",ip="10.0.0.2",ready="true"}} 1
kube_endpoint_address{{{ID},port_protocol="TCP",port_number="8080",port_name="http",ip="10.0.0.3",ready="false"}} 1
kube_endpoint_address{{{ID},port_protocol="UDP",port_number="53",port_name="",ip="10.0.0.1",ready="true"}} 1
kube_endpoint_address{{{ID},port_protocol="UDP",port_number="53",port_name="",ip="10.0.0.2",ready="true"}} 1
kube_endpoint_address{{{ID},port_protocol="UDP",port_number="53",port_name="",ip="10.0.0.3",ready="false"}} 1
kube_endpoint_ports{{{ID},port_name="http",port_protocol="TCP",port_number="8080"}} 1
kube_endpoint_ports{{{ID},port_name="",port_protocol="UDP",port_number="53"}} 1
""",
    ),
    Case(
        id="no-subsets",
        obj={"metadata": {"name": "web", "namespace": "default"}},
        want=HEADERS + f"kube_endpoint_info{{{ID}}} 1\n",
    ),
    Case(
        id="port-without-number",
        obj={"metadata": {"name": "web", "namespace": "default"},
             "subsets": [{"ports": [{"name": "p"}], "notReadyAddresses": [{"ip": "::1"}]}]},
        families=["kube_endpoint_address", "kube_endpoint_ports"],
        want=f"""
# HELP kube_endpoint_address [STABLE] Information about Endpoint available and non available addresses.
# TYPE kube_endpoint_address gauge
# HELP kube_endpoint_ports [STABLE] (Deprecated since v2.14.0) Information about the Endpoint ports.
# TYPE kube_endpoint_ports gauge
kube_endpoint_address{{{ID},port_protocol="",port_number="0",port_name="p",ip="::1",ready="false"}} 1
kube_endpoint_ports{{{ID},port_name="p",port_protocol="",port_number="0"}} 1
""",
    ),
    Case(
        id="allowlists",
        obj={"metadata": {"name": "web", "namespace": "default",
                          "labels": {"k8s-app": "web", "k8s_app": "dup", "tier": "fe"},
                          "annotations": {"a.b/c": "1", "skip": "2"}}},
        labels_allowlist=["k8s-app", "k8s_app"],
        annotations_allowlist=["a.b/c"],
        families=["kube_endpoint_labels", "kube_endpoint_annotations"],
        want=f"""
# HELP kube_endpoint_annotations Kubernetes annotations converted to Prometheus labels.
# TYPE kube_endpoint_annotations gauge
# HELP kube_endpoint_labels [STABLE] Kubernetes labels converted to Prometheus labels.
# TYPE kube_endpoint_labels gauge
kube_endpoint_annotations{{{ID},annotation_a_b_c="1"}} 1
kube_endpoint_labels{{{ID},label_k8s_app_conflict1="web",label_k8s_app_conflict2="dup"}} 1
""",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_endpoints(case: Case) -> None:
    check("endpoints", case)
