"""endpointslices families. Provenance: ksm-py's own cases, a few after upstream internal/store/endpointslice_test.go;
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check, render

HEADERS = """
# HELP kube_endpointslice_info Information about endpointslice.
# TYPE kube_endpointslice_info gauge
# HELP kube_endpointslice_created Unix creation timestamp
# TYPE kube_endpointslice_created gauge
# HELP kube_endpointslice_endpoints_hints Topology routing hints attached to endpoints
# TYPE kube_endpointslice_endpoints_hints gauge
# HELP kube_endpointslice_endpoints Endpoints attached to the endpointslice.
# TYPE kube_endpointslice_endpoints gauge
# HELP kube_endpointslice_ports Ports attached to the endpointslice.
# TYPE kube_endpointslice_ports gauge
# HELP kube_endpointslice_annotations Kubernetes annotations converted to Prometheus labels.
# TYPE kube_endpointslice_annotations gauge
# HELP kube_endpointslice_labels Kubernetes labels converted to Prometheus labels.
# TYPE kube_endpointslice_labels gauge
"""

# Name first, then namespace: upstream's order for this resource.
ID = 'endpointslice="web-abc",namespace="default"'
META = {"name": "web-abc", "namespace": "default"}

CASES = [
    Case(
        id="all-families",
        obj={
            "metadata": {**META, "creationTimestamp": "2017-07-14T02:40:00Z"},
            "addressType": "IPv4",
            "endpoints": [
                {
                    "addresses": ["10.0.0.1", "10.0.0.2"],
                    "conditions": {"ready": True, "serving": True, "terminating": False},
                    "hostname": "web-0",
                    "targetRef": {"kind": "Pod", "name": "web-0", "namespace": "default"},
                    "nodeName": "node-a",
                    "zone": "z1",
                    "hints": {"forZones": [{"name": "z1"}, {"name": "z2"}]},
                },
                # Conditions unset: ready/serving/terminating are "" rather than "false".
                {"addresses": ["10.0.0.3"], "conditions": {}},
            ],
            "ports": [{"name": "http", "protocol": "TCP", "port": 80}],
        },
        want=HEADERS + f"""
kube_endpointslice_info{{{ID},addresstype="IPv4"}} 1
kube_endpointslice_created{{{ID}}} 1.5e+09
kube_endpointslice_endpoints_hints{{{ID},address="10.0.0.1",for_zone="z1"}} 1
kube_endpointslice_endpoints_hints{{{ID},address="10.0.0.1",for_zone="z2"}} 1
kube_endpointslice_endpoints{{{ID},ready="true",serving="true",hostname="web-0",terminating="false",targetref_kind="Pod",targetref_name="web-0",targetref_namespace="default",endpoint_nodename="node-a",endpoint_zone="z1",address="10.0.0.1"}} 1
kube_endpointslice_endpoints{{{ID},ready="true",serving="true",hostname="web-0",terminating="false",targetref_kind="Pod",targetref_name="web-0",targetref_namespace="default",endpoint_nodename="node-a",endpoint_zone="z1",address="10.0.0.2"}} 1
kube_endpointslice_endpoints{{{ID},ready="",serving="",hostname="",terminating="",targetref_kind="",targetref_name="",targetref_namespace="",endpoint_nodename="",endpoint_zone="",address="10.0.0.3"}} 1
kube_endpointslice_ports{{{ID},port_name="http",port_protocol="TCP",port_number="80"}} 1
""",
    ),
    Case(
        id="minimal",
        obj={"metadata": dict(META)},
        want=HEADERS + f'kube_endpointslice_info{{{ID},addresstype=""}} 1\n',
    ),
    Case(
        id="hints-without-address-or-zones",
        obj={"metadata": dict(META), "addressType": "IPv6", "endpoints": [
            {"addresses": [], "hints": {"forZones": [{"name": "z1"}]}},
            {"addresses": ["fd00::1"], "hints": {"forZones": []}},
            {"addresses": ["fd00::2"], "hints": {}},
            {"addresses": ["fd00::3", "fd00::4"], "hints": {"forZones": [{"name": "z3"}]}},
        ]},
        families=["kube_endpointslice_endpoints_hints"],
        want=f"""
# HELP kube_endpointslice_endpoints_hints Topology routing hints attached to endpoints
# TYPE kube_endpointslice_endpoints_hints gauge
kube_endpointslice_endpoints_hints{{{ID},address="fd00::3",for_zone="z3"}} 1
""",
    ),
    Case(
        id="ports-optional-fields",
        obj={"metadata": dict(META), "ports": [{}, {"port": 0}, {"name": "", "protocol": "UDP", "port": 53}]},
        families=["kube_endpointslice_ports"],
        want=f"""
# HELP kube_endpointslice_ports Ports attached to the endpointslice.
# TYPE kube_endpointslice_ports gauge
kube_endpointslice_ports{{{ID},port_name="",port_protocol="",port_number=""}} 1
kube_endpointslice_ports{{{ID},port_name="",port_protocol="",port_number="0"}} 1
kube_endpointslice_ports{{{ID},port_name="",port_protocol="UDP",port_number="53"}} 1
""",
    ),
    Case(
        id="allowlists",
        obj={"metadata": {**META, "labels": {"kubernetes.io/service-name": "web", "fooBar": "x"},
                          "annotations": {"note": "hi \"there\""}}},
        labels_allowlist=["kubernetes.io/*", "fooBar"],
        annotations_allowlist=["*"],
        families=["kube_endpointslice_labels", "kube_endpointslice_annotations"],
        want=f"""
# HELP kube_endpointslice_annotations Kubernetes annotations converted to Prometheus labels.
# TYPE kube_endpointslice_annotations gauge
# HELP kube_endpointslice_labels Kubernetes labels converted to Prometheus labels.
# TYPE kube_endpointslice_labels gauge
kube_endpointslice_annotations{{{ID},annotation_note="hi \\"there\\""}} 1
kube_endpointslice_labels{{{ID},label_foo_bar="x",label_kubernetes_io_service_name="web"}} 1
""",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_endpointslices(case: Case) -> None:
    check("endpointslices", case)


def test_identity_label_order() -> None:
    got = render("endpointslices", [{"metadata": dict(META), "addressType": "FQDN"}])
    assert 'kube_endpointslice_info{endpointslice="web-abc",namespace="default",addresstype="FQDN"} 1\n' in got
