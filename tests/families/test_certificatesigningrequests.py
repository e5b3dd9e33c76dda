"""kube_certificatesigningrequest_* families (upstream certificatesigningrequest_test.go, plus edge cases)."""

from __future__ import annotations

import base64

import pytest

from ksm_py.families import RESOURCES

from ._util import Case, check

HEADERS = """
    # HELP kube_certificatesigningrequest_annotations Kubernetes annotations converted to Prometheus labels.
    # TYPE kube_certificatesigningrequest_annotations gauge
    # HELP kube_certificatesigningrequest_labels [STABLE] Kubernetes labels converted to Prometheus labels.
    # TYPE kube_certificatesigningrequest_labels gauge
    # HELP kube_certificatesigningrequest_created [STABLE] Unix creation timestamp
    # TYPE kube_certificatesigningrequest_created gauge
    # HELP kube_certificatesigningrequest_condition [STABLE] The number of each certificatesigningrequest condition
    # TYPE kube_certificatesigningrequest_condition gauge
    # HELP kube_certificatesigningrequest_cert_length [STABLE] Length of the issued cert
    # TYPE kube_certificatesigningrequest_cert_length gauge
"""

CASES = [
    Case(
        id="issued-with-repeated-conditions",
        obj={"metadata": {"name": "csr1", "creationTimestamp": "2017-08-01T06:30:18Z"},
             "spec": {"signerName": "kubernetes.io/kube-apiserver-client"},
             "status": {"conditions": [{"type": "Approved", "status": "True"},
                                       {"type": "Approved", "status": "True"},
                                       {"type": "Failed", "status": "True"},
                                       {"type": "Other", "status": "True"}],
                        # The API serialises []byte as base64; the metric counts the decoded bytes.
                        "certificate": base64.b64encode(b"0123456789abcdefghij").decode()}},
        want=HEADERS + """
            kube_certificatesigningrequest_created{certificatesigningrequest="csr1",signer_name="kubernetes.io/kube-apiserver-client"} 1.501569018e+09
            kube_certificatesigningrequest_condition{certificatesigningrequest="csr1",signer_name="kubernetes.io/kube-apiserver-client",condition="approved"} 2
            kube_certificatesigningrequest_condition{certificatesigningrequest="csr1",signer_name="kubernetes.io/kube-apiserver-client",condition="denied"} 0
            kube_certificatesigningrequest_condition{certificatesigningrequest="csr1",signer_name="kubernetes.io/kube-apiserver-client",condition="failed"} 1
            kube_certificatesigningrequest_cert_length{certificatesigningrequest="csr1",signer_name="kubernetes.io/kube-apiserver-client"} 20
        """,
    ),
    Case(
        id="pending-without-signer-or-timestamp",
        obj={"metadata": {"name": "csr2"}},
        want=HEADERS + """
            kube_certificatesigningrequest_condition{certificatesigningrequest="csr2",signer_name="",condition="approved"} 0
            kube_certificatesigningrequest_condition{certificatesigningrequest="csr2",signer_name="",condition="denied"} 0
            kube_certificatesigningrequest_condition{certificatesigningrequest="csr2",signer_name="",condition="failed"} 0
            kube_certificatesigningrequest_cert_length{certificatesigningrequest="csr2",signer_name=""} 0
        """,
    ),
    Case(
        id="denied",
        obj={"metadata": {"name": "csr3"}, "spec": {"signerName": "s"},
             "status": {"conditions": [{"type": "Denied", "status": "True"}]}},
        families=["kube_certificatesigningrequest_condition"],
        want="""
            # HELP kube_certificatesigningrequest_condition [STABLE] The number of each certificatesigningrequest condition
            # TYPE kube_certificatesigningrequest_condition gauge
            kube_certificatesigningrequest_condition{certificatesigningrequest="csr3",signer_name="s",condition="approved"} 0
            kube_certificatesigningrequest_condition{certificatesigningrequest="csr3",signer_name="s",condition="denied"} 1
            kube_certificatesigningrequest_condition{certificatesigningrequest="csr3",signer_name="s",condition="failed"} 0
        """,
    ),
    Case(
        id="allowlists-sanitised-with-conflict",
        obj={"metadata": {"name": "csr4", "labels": {"cert": "test", "cert.x": "a", "cert/x": "b"},
                          "annotations": {"example.com/reason": "ci"}},
             "spec": {"signerName": "s"}},
        labels_allowlist=["cert*"],
        annotations_allowlist=["*"],
        families=["kube_certificatesigningrequest_labels", "kube_certificatesigningrequest_annotations"],
        want="""
            # HELP kube_certificatesigningrequest_annotations Kubernetes annotations converted to Prometheus labels.
            # TYPE kube_certificatesigningrequest_annotations gauge
            # HELP kube_certificatesigningrequest_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # TYPE kube_certificatesigningrequest_labels gauge
            kube_certificatesigningrequest_annotations{certificatesigningrequest="csr4",signer_name="s",annotation_example_com_reason="ci"} 1
            kube_certificatesigningrequest_labels{certificatesigningrequest="csr4",signer_name="s",label_cert="test",label_cert_x_conflict1="a",label_cert_x_conflict2="b"} 1
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_certificatesigningrequests(case: Case) -> None:
    check("certificatesigningrequests", case)


def test_family_order() -> None:
    assert [f.name for f in RESOURCES["certificatesigningrequests"].families] == [
        "kube_certificatesigningrequest_annotations",
        "kube_certificatesigningrequest_labels",
        "kube_certificatesigningrequest_created",
        "kube_certificatesigningrequest_condition",
        "kube_certificatesigningrequest_cert_length",
    ]
