"""ingresses families. Provenance: ksm-py's own cases (upstream internal/store/ingress_test.go is not mirrored);
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check

HEADERS = """
# HELP kube_ingress_info [STABLE] Information about ingress.
# TYPE kube_ingress_info gauge
# HELP kube_ingress_annotations Kubernetes annotations converted to Prometheus labels.
# TYPE kube_ingress_annotations gauge
# HELP kube_ingress_labels [STABLE] Kubernetes labels converted to Prometheus labels.
# TYPE kube_ingress_labels gauge
# HELP kube_ingress_created [STABLE] Unix creation timestamp
# TYPE kube_ingress_created gauge
# HELP kube_ingress_metadata_resource_version Resource version representing a specific version of ingress.
# TYPE kube_ingress_metadata_resource_version gauge
# HELP kube_ingress_path [STABLE] Ingress host, paths and backend service information.
# TYPE kube_ingress_path gauge
# HELP kube_ingress_tls [STABLE] Ingress TLS host and secret information.
# TYPE kube_ingress_tls gauge
"""

INFO_HEADER = """
# HELP kube_ingress_info [STABLE] Information about ingress.
# TYPE kube_ingress_info gauge
"""

ID = 'namespace="default",ingress="web"'
META = {"name": "web", "namespace": "default"}

CASES = [
    Case(
        id="all-families",
        obj={
            "metadata": {**META, "creationTimestamp": "2017-07-14T02:40:00Z", "resourceVersion": "123456"},
            "spec": {
                "ingressClassName": "nginx",
                "rules": [
                    {"host": "a.example.com", "http": {"paths": [
                        {"path": "/", "pathType": "Prefix",
                         "backend": {"service": {"name": "web", "port": {"number": 8080}}}},
                        # A named port has number 0.
                        {"path": "/api", "backend": {"service": {"name": "api", "port": {"name": "http"}}}},
                        {"path": "/static", "pathType": "ImplementationSpecific", "backend": {"resource": {
                            "apiGroup": "k8s.example.com", "kind": "StorageBucket", "name": "assets"}}},
                        {"path": "/core", "pathType": "Exact", "backend": {"resource": {
                            "kind": "ConfigMap", "name": "cm"}}},
                    ]}},
                    # A rule without http produces no path series.
                    {"host": "b.example.com"},
                ],
                "tls": [{"hosts": ["a.example.com", "c.example.com"], "secretName": "tls-a"},
                        {"hosts": ["d.example.com"]}],
            },
        },
        want=HEADERS + f"""
kube_ingress_info{{{ID},ingressclass="nginx"}} 1
kube_ingress_created{{{ID}}} 1.5e+09
kube_ingress_metadata_resource_version{{{ID}}} 123456
kube_ingress_path{{{ID},host="a.example.com",path="/",path_type="Prefix",service_name="web",service_port="8080"}} 1
kube_ingress_path{{{ID},host="a.example.com",path="/api",path_type="",service_name="api",service_port="0"}} 1
kube_ingress_path{{{ID},host="a.example.com",path="/static",path_type="ImplementationSpecific",resource_api_group="k8s.example.com",resource_kind="StorageBucket",resource_name="assets"}} 1
kube_ingress_path{{{ID},host="a.example.com",path="/core",path_type="Exact",resource_api_group="",resource_kind="ConfigMap",resource_name="cm"}} 1
kube_ingress_tls{{{ID},tls_host="a.example.com",secret="tls-a"}} 1
kube_ingress_tls{{{ID},tls_host="c.example.com",secret="tls-a"}} 1
kube_ingress_tls{{{ID},tls_host="d.example.com",secret=""}} 1
""",
    ),
    Case(
        id="minimal-default-class",
        obj={"metadata": dict(META)},
        want=HEADERS + f'kube_ingress_info{{{ID},ingressclass="_default"}} 1\n',
    ),
    Case(
        id="annotation-class-wins",
        obj={"metadata": {**META, "annotations": {"kubernetes.io/ingress.class": "traefik"}},
             "spec": {"ingressClassName": "nginx"}},
        families=["kube_ingress_info"],
        want=INFO_HEADER + f'kube_ingress_info{{{ID},ingressclass="traefik"}} 1\n',
    ),
    Case(
        id="empty-annotation-class-still-wins",
        obj={"metadata": {**META, "annotations": {"kubernetes.io/ingress.class": ""}}},
        families=["kube_ingress_info"],
        want=INFO_HEADER + f'kube_ingress_info{{{ID},ingressclass=""}} 1\n',
    ),
    Case(
        id="empty-class-name",
        obj={"metadata": dict(META), "spec": {"ingressClassName": ""}},
        families=["kube_ingress_info"],
        want=INFO_HEADER + f'kube_ingress_info{{{ID},ingressclass=""}} 1\n',
    ),
    Case(
        id="non-numeric-resource-version",
        obj={"metadata": {**META, "resourceVersion": "abc"}},
        families=["kube_ingress_metadata_resource_version"],
        want="""
# HELP kube_ingress_metadata_resource_version Resource version representing a specific version of ingress.
# TYPE kube_ingress_metadata_resource_version gauge
""",
    ),
    Case(
        id="allowlists",
        obj={"metadata": {**META, "labels": {"app": "web", "x/y": "1", "x_y": "2", "x-y": "3"},
                          "annotations": {"kubernetes.io/ingress.class": "nginx"}}},
        labels_allowlist=["x*"],
        annotations_allowlist=["kubernetes.io/ingress.class"],
        families=["kube_ingress_labels", "kube_ingress_annotations"],
        want=f"""
# HELP kube_ingress_annotations Kubernetes annotations converted to Prometheus labels.
# TYPE kube_ingress_annotations gauge
# HELP kube_ingress_labels [STABLE] Kubernetes labels converted to Prometheus labels.
# TYPE kube_ingress_labels gauge
kube_ingress_annotations{{{ID},annotation_kubernetes_io_ingress_class="nginx"}} 1
kube_ingress_labels{{{ID},label_x_y_conflict1="3",label_x_y_conflict2="1",label_x_y_conflict3="2"}} 1
""",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_ingresses(case: Case) -> None:
    check("ingresses", case)
