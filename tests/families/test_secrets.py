"""kube_secret_* families (upstream internal/store/secret_test.go, plus edge cases)."""

from __future__ import annotations

from typing import Any

import pytest

from ksm_py.families import RESOURCES

from ._util import Case, check, render

HEADERS = """
    # HELP kube_secret_info [STABLE] Information about secret.
    # TYPE kube_secret_info gauge
    # HELP kube_secret_type [STABLE] Type about secret.
    # TYPE kube_secret_type gauge
    # HELP kube_secret_annotations Kubernetes annotations converted to Prometheus labels.
    # TYPE kube_secret_annotations gauge
    # HELP kube_secret_labels [STABLE] Kubernetes labels converted to Prometheus labels.
    # TYPE kube_secret_labels gauge
    # HELP kube_secret_created [STABLE] Unix creation timestamp
    # TYPE kube_secret_created gauge
    # HELP kube_secret_metadata_resource_version Resource version representing a specific version of secret.
    # TYPE kube_secret_metadata_resource_version gauge
    # HELP kube_secret_owner Information about the Secret's owner.
    # TYPE kube_secret_owner gauge
"""

CASES = [
    Case(
        id="all-families-with-owners",
        obj={"metadata": {"name": "tls", "namespace": "ns1", "creationTimestamp": "2017-08-01T06:30:18Z",
                          "resourceVersion": "42",
                          "ownerReferences": [{"kind": "Certificate", "name": "c1", "controller": True},
                                              {"kind": "ConfigMap", "name": "c2"},
                                              {"kind": "Foo", "name": "c3", "controller": False}]},
             "type": "kubernetes.io/tls", "data": {"tls.crt": "Zm9v"}},
        want=HEADERS + """
            kube_secret_info{namespace="ns1",secret="tls"} 1
            kube_secret_type{namespace="ns1",secret="tls",type="kubernetes.io/tls"} 1
            kube_secret_created{namespace="ns1",secret="tls"} 1.501569018e+09
            kube_secret_metadata_resource_version{namespace="ns1",secret="tls"} 42
            kube_secret_owner{namespace="ns1",secret="tls",owner_kind="Certificate",owner_name="c1",owner_is_controller="true"} 1
            kube_secret_owner{namespace="ns1",secret="tls",owner_kind="ConfigMap",owner_name="c2",owner_is_controller="false"} 1
            kube_secret_owner{namespace="ns1",secret="tls",owner_kind="Foo",owner_name="c3",owner_is_controller="false"} 1
        """,
    ),
    Case(
        id="no-owner-no-type-unparsable-resource-version",
        obj={"metadata": {"name": "s2", "namespace": "ns2", "resourceVersion": "rv-10"}},
        want=HEADERS + """
            kube_secret_info{namespace="ns2",secret="s2"} 1
            kube_secret_type{namespace="ns2",secret="s2",type=""} 1
            kube_secret_owner{namespace="ns2",secret="s2",owner_kind="",owner_name="",owner_is_controller=""} 1
        """,
    ),
    Case(
        # KSM parses the resourceVersion with strconv.ParseFloat, so a fraction is kept.
        id="fractional-resource-version",
        obj={"metadata": {"name": "s4", "namespace": "ns4", "resourceVersion": "10.5"}},
        families=["kube_secret_metadata_resource_version"],
        want="""
            # HELP kube_secret_metadata_resource_version Resource version representing a specific version of secret.
            # TYPE kube_secret_metadata_resource_version gauge
            kube_secret_metadata_resource_version{namespace="ns4",secret="s4"} 10.5
        """,
    ),
    Case(
        id="allowlists-wildcard-with-conflict",
        obj={"metadata": {"name": "s3", "namespace": "ns3",
                          "labels": {"a.b": "dot", "a-b": "dash", "zone": "eu"},
                          "annotations": {"team": "infra", "kubectl.kubernetes.io/last-applied": "{}"}},
             "type": "Opaque"},
        labels_allowlist=["*"],
        annotations_allowlist=["team"],
        families=["kube_secret_labels", "kube_secret_annotations"],
        want="""
            # HELP kube_secret_annotations Kubernetes annotations converted to Prometheus labels.
            # TYPE kube_secret_annotations gauge
            # HELP kube_secret_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # TYPE kube_secret_labels gauge
            kube_secret_annotations{namespace="ns3",secret="s3",annotation_team="infra"} 1
            kube_secret_labels{namespace="ns3",secret="s3",label_a_b_conflict1="dash",label_a_b_conflict2="dot",label_zone="eu"} 1
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_secrets(case: Case) -> None:
    check("secrets", case)


class _Guarded(dict[str, Any]):
    """A Secret whose payload must never be read."""

    def __getitem__(self, key: str) -> Any:
        if key in ("data", "stringData"):
            raise AssertionError(f"secret {key} was read")
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        if key in ("data", "stringData"):
            raise AssertionError(f"secret {key} was read")
        return super().get(key, default)


def test_secret_payload_is_never_read() -> None:
    obj = _Guarded(metadata={"name": "s", "namespace": "ns", "uid": "u"}, type="Opaque",
                   data={"k": "dg=="}, stringData={"k": "v"})
    out = render("secrets", [obj], labels_allowlist=["*"], annotations_allowlist=["*"])
    # A family that read the payload would have failed and dropped its series.
    assert out.count("\nkube_secret_") == 5


def test_secrets_keep_full_objects() -> None:
    # kube_secret_type needs the top-level type field, which PartialObjectMetadata lacks.
    assert not RESOURCES["secrets"].metadata_only


def test_a_secrets_data_is_skipped_while_parsing() -> None:
    import orjson

    from ksm_py.shape import Decoders

    secret = {"metadata": {"name": "s", "namespace": "n", "uid": "u", "managedFields": [{"manager": "m"}]},
              "type": "Opaque", "data": {"password": "c2VjcmV0"}, "stringData": {"token": "t"}, "immutable": True}
    page = Decoders(RESOURCES["secrets"].reads or {}).page(orjson.dumps({"items": [secret]}))
    assert page is not None
    assert page["items"] == [{"metadata": {"name": "s", "namespace": "n", "uid": "u"}, "type": "Opaque"}]


def test_family_order() -> None:
    assert [f.name for f in RESOURCES["secrets"].families] == [
        "kube_secret_info",
        "kube_secret_type",
        "kube_secret_annotations",
        "kube_secret_labels",
        "kube_secret_created",
        "kube_secret_metadata_resource_version",
        "kube_secret_owner",
    ]
