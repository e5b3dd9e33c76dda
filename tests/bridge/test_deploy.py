"""deploy/bridge renders to a locked-down bridge Deployment whose arguments the bridge accepts, with the API
key from a mounted Secret and an identity that can only list/watch Events."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
import yaml

from harness.manifests import DEPLOY, KustomizeMissing, kustomize_build
from ksm_py.bridge.cli import build_parser

BRIDGE = DEPLOY / "bridge"


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    try:
        return kustomize_build(BRIDGE)
    except KustomizeMissing as e:
        if os.environ.get("KSM_PY_REQUIRE_E2E"):
            pytest.fail(str(e))
        pytest.skip(str(e))


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def test_cluster_role_file_is_one_role_with_list_watch_on_events_only() -> None:
    (role,) = [d for d in yaml.safe_load_all((BRIDGE / "cluster-role.yaml").read_text()) if d]
    assert role["kind"] == "ClusterRole"
    assert role["rules"] == [{"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["list", "watch"]}]


def test_identity(docs: list[dict[str, Any]]) -> None:
    sa, binding, deploy = one(docs, "ServiceAccount"), one(docs, "ClusterRoleBinding"), one(docs, "Deployment")
    role = one(docs, "ClusterRole")
    assert binding["roleRef"]["name"] == role["metadata"]["name"] != "kube-state-metrics"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"],
                                    "namespace": sa["metadata"]["namespace"]}]
    assert deploy["spec"]["template"]["spec"]["serviceAccountName"] == sa["metadata"]["name"]
    assert sa["automountServiceAccountToken"] is False
    assert deploy["spec"]["replicas"] == 1


def test_locked_down(docs: list[dict[str, Any]]) -> None:
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 65534
    (c,) = pod["containers"]
    sc = c["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 65534
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}


def test_api_key_is_a_mounted_secret_file(docs: list[dict[str, Any]]) -> None:
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    key_file = next(a.split("=", 1)[1] for a in c["args"] if a.startswith("--api-key-file="))
    volume = next(v for v in pod["volumes"] if "secret" in v)
    mount = next(m for m in c["volumeMounts"] if m["name"] == volume["name"])
    assert mount["readOnly"] is True
    assert key_file == f"{mount['mountPath']}/{volume['secret']['items'][0]['path']}"
    # readable by the non-root user: group-readable and owned by its fsGroup
    assert volume["secret"]["defaultMode"] & 0o040 and pod["securityContext"]["fsGroup"] == 65534
    assert not any("STS_API_KEY" == e["name"] for e in c.get("env", []))
    assert not [d for d in docs if d["kind"] == "Secret"], "the key must not ship in a manifest"


def test_args_are_accepted_by_the_bridge(docs: list[dict[str, Any]]) -> None:
    config = one(docs, "ConfigMap")
    (c,) = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert c["args"][0] == "stackstate-bridge"
    env = {e["name"]: e["valueFrom"]["configMapKeyRef"] for e in c["env"]}
    assert {ref["name"] for ref in env.values()} == {config["metadata"]["name"]}  # kustomize's hashed name
    values = {name: config["data"][ref["key"]] for name, ref in env.items()}
    args = [re.sub(r"\$\((\w+)\)", lambda m: values[m.group(1)], a) for a in c["args"][1:]]
    parsed, unknown = build_parser().parse_known_args(args)
    assert unknown == []
    assert parsed.cluster_name == "my-cluster"
    assert parsed.telemetry_port == c["ports"][0]["containerPort"]
    assert parsed.metrics_url.startswith("http://kube-state-metrics.kube-system.svc:8080/")
    probe = c["livenessProbe"]["httpGet"]
    assert (probe["path"], probe["port"]) == ("/healthz", "telemetry")
