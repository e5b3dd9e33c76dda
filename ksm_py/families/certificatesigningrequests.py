"""certificates.k8s.io/v1 CertificateSigningRequest (KSM ``internal/store/certificatesigningrequest.go``)."""

from __future__ import annotations

import base64

from ..metric import ALPHA, STABLE
from ._dsl import NAME, Body, Resource, Samples
from ._helpers import created, dig, metadata_families


def _signer_name(csr: Body) -> str:
    return dig(csr, "spec", "signerName") or ""


certificatesigningrequests = Resource(
    "certificatesigningrequests", group="certificates.k8s.io", version="v1", kind="CertificateSigningRequest",
    namespaced=False, identity=[("certificatesigningrequest", NAME), ("signer_name", _signer_name)])
family = certificatesigningrequests.family

metadata_families(certificatesigningrequests, "certificatesigningrequest",
                  labels_stability=STABLE, annotations_stability=ALPHA)
family("kube_certificatesigningrequest_created", "Unix creation timestamp", labels=())(created)

_CONDITIONS = (("approved", "Approved"), ("denied", "Denied"), ("failed", "Failed"))


@family("kube_certificatesigningrequest_condition", "The number of each certificatesigningrequest condition",
        labels=("condition",))
def condition(csr: Body) -> Samples:
    types = [c.get("type") for c in dig(csr, "status", "conditions") or []]
    for label, kind in _CONDITIONS:
        yield {"condition": label}, types.count(kind)


@family("kube_certificatesigningrequest_cert_length", "Length of the issued cert", labels=())
def cert_length(csr: Body) -> Samples:
    # status.certificate is []byte, base64 in JSON: KSM counts the decoded bytes.
    yield (), len(base64.b64decode(dig(csr, "status", "certificate") or "", validate=True))
