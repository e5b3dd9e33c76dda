"""validatingwebhookconfigurations families. Provenance: ksm-py's own cases, a few after upstream internal/store/validatingwebhookconfiguration_test.go;
parity with the upstream binary is checked by tests/unit/test_golden.py and tests/e2e/test_parity.py."""

from __future__ import annotations

import pytest

from ._util import Case, check, render

RESOURCE = "validatingwebhookconfigurations"
FAMILIES = ["kube_validatingwebhookconfiguration_info", "kube_validatingwebhookconfiguration_created",
            "kube_validatingwebhookconfiguration_metadata_resource_version",
            "kube_validatingwebhookconfiguration_webhook_clientconfig_service"]

HEADERS = """
# HELP kube_validatingwebhookconfiguration_info Information about the ValidatingWebhookConfiguration.
# TYPE kube_validatingwebhookconfiguration_info gauge
# HELP kube_validatingwebhookconfiguration_created Unix creation timestamp.
# TYPE kube_validatingwebhookconfiguration_created gauge
# HELP kube_validatingwebhookconfiguration_metadata_resource_version Resource version representing a specific version of the ValidatingWebhookConfiguration.
# TYPE kube_validatingwebhookconfiguration_metadata_resource_version gauge
# HELP kube_validatingwebhookconfiguration_webhook_clientconfig_service Service used by the apiserver to connect to a validating webhook.
# TYPE kube_validatingwebhookconfiguration_webhook_clientconfig_service gauge
"""

CASES = [
    Case(id="all families, namespace label empty for a cluster-scoped object",
         obj={"metadata": {"name": "hooks", "resourceVersion": "123456", "creationTimestamp": "2017-08-01T06:30:18Z"},
              "webhooks": [
                  {"name": "svc.example.com", "clientConfig": {"service": {"namespace": "sys", "name": "hook-svc",
                                                                        "port": 443}}},
                  {"name": "url.example.com", "clientConfig": {"url": "https://example.com/hook"}},
              ]},
         want=HEADERS + """
         kube_validatingwebhookconfiguration_info{namespace="",validatingwebhookconfiguration="hooks"} 1
         kube_validatingwebhookconfiguration_created{namespace="",validatingwebhookconfiguration="hooks"} 1.501569018e+09
         kube_validatingwebhookconfiguration_metadata_resource_version{namespace="",validatingwebhookconfiguration="hooks"} 123456
         kube_validatingwebhookconfiguration_webhook_clientconfig_service{namespace="",validatingwebhookconfiguration="hooks",webhook_name="svc.example.com",service_name="hook-svc",service_namespace="sys"} 1
         kube_validatingwebhookconfiguration_webhook_clientconfig_service{namespace="",validatingwebhookconfiguration="hooks",webhook_name="url.example.com",service_name="",service_namespace=""} 1
         """),
    Case(id="bare object: no timestamp, non-numeric resourceVersion, no webhooks",
         obj={"metadata": {"name": "empty", "resourceVersion": "abcdef"}},
         want=HEADERS + """
         kube_validatingwebhookconfiguration_info{namespace="",validatingwebhookconfiguration="empty"} 1
         """),
    Case(id="namespace label mirrors metadata.namespace like upstream",
         obj={"metadata": {"name": "odd", "namespace": "ns1"}},
         families=["kube_validatingwebhookconfiguration_info"],
         want="""
         # HELP kube_validatingwebhookconfiguration_info Information about the ValidatingWebhookConfiguration.
         # TYPE kube_validatingwebhookconfiguration_info gauge
         kube_validatingwebhookconfiguration_info{namespace="ns1",validatingwebhookconfiguration="odd"} 1
         """),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_validatingwebhookconfigurations(case: Case) -> None:
    check(RESOURCE, case)


def test_family_order() -> None:
    text = render(RESOURCE, [{"metadata": {"name": "c"}}])
    assert [line.split()[2] for line in text.splitlines() if line.startswith("# HELP")] == FAMILIES
