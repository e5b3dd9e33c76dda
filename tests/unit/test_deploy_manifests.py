"""deploy/: the shipped ClusterRole is exactly what ksm-py reads, and the kustomize base and overlays
render to locked-down workloads whose arguments ksm-py accepts.

Rendering needs kustomize, built into the cache by ``python -m harness build`` (a few seconds
with a warm Go cache); tests/e2e/test_deploy.py applies the same renderings to a cluster.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.manifests import DEPLOY, VARIANTS, KustomizeMissing, container, kustomize_build, render, workloads
from ksm_py.cli import build_extensions
from ksm_py.customresourcestate import load_config
from ksm_py.families import RESOURCES
from ksm_py.options import ALL_RESOURCES, DEFAULT_RESOURCES, build_parser, options_from_args

CLUSTER_ROLE = DEPLOY / "base" / "cluster-role.yaml"
IMAGE = "ghcr.io/ksm-py/ksm-py:0.1.0"
LABEL = "app.kubernetes.io/name"


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    try:
        return {name: render(name) for name in VARIANTS}
    except KustomizeMissing as e:
        if os.environ.get("KSM_PY_REQUIRE_E2E"):
            pytest.fail(str(e))
        pytest.skip(str(e))


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


# -- the ClusterRole --------------------------------------------------------------------------
def api_resources_read(resources: list[str]) -> set[tuple[str, str]]:
    """(API group, resource) of every list/watch ksm-py runs for these --resources keys: the
    kube-state-metrics families' and those of ksm-py's extensions (events, topology, custom resource state)."""
    # With a Custom Resource State config (even an empty one) ksm-py also watches CRDs.
    options = options_from_args(build_parser().parse_args([f"--resources={','.join(resources)}",
                                                           "--custom-resource-state-config=spec: {resources: []}"]))
    read = {(RESOURCES[r].group, RESOURCES[r].name) for r in options.resources if r in RESOURCES}
    for extension in build_extensions(options, load_config(options)):
        read |= {(w.api.group, w.api.plural) for w in extension.watches(options)}
    return read


def test_cluster_role_grants_list_watch_on_exactly_the_resources_ksm_py_reads() -> None:
    (role,) = [d for d in yaml.safe_load_all(CLUSTER_ROLE.read_text()) if d]
    assert role["kind"] == "ClusterRole" and role["metadata"]["name"] == "kube-state-metrics"
    granted: set[tuple[str, str]] = set()
    for rule in role["rules"]:
        assert sorted(rule["verbs"]) == ["list", "watch"], f"verbs beyond list/watch: {rule}"
        assert set(rule) == {"apiGroups", "resources", "verbs"}, f"resourceNames/nonResourceURLs: {rule}"
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                assert "*" not in group and "*" not in resource and "/" not in resource, rule
                granted.add((group, resource))
    # Not broader than needed, and sufficient: what ksm-py reads with every --resources key enabled
    # (each kube-state-metrics resource's Resource.group/Resource.name, plus the extensions').
    wanted = api_resources_read(list(ALL_RESOURCES))
    assert {(r.group, r.name) for r in RESOURCES.values()} <= wanted
    assert granted - wanted == set(), "granted but never read by ksm-py"
    assert wanted - granted == set(), "read by ksm-py but not granted"
    assert api_resources_read(list(DEFAULT_RESOURCES)) <= granted


# -- every rendering ------------------------------------------------------------------------
def test_base_is_the_drop_in_set_of_the_usual_setup(rendered: dict[str, list[dict[str, Any]]]) -> None:
    docs = rendered["base"]
    assert sorted((d["kind"], d["metadata"]["name"]) for d in docs) == sorted([
        ("ServiceAccount", "kube-state-metrics"), ("ClusterRole", "kube-state-metrics"),
        ("ClusterRoleBinding", "kube-state-metrics"), ("Deployment", "kube-state-metrics"),
        ("Service", "kube-state-metrics")])
    for d in docs:
        if d["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert d["metadata"]["namespace"] == "kube-system", d["kind"]
    # The ClusterRole is the file the tests' restricted identity uses, unchanged.
    assert one(docs, "ClusterRole", "kube-state-metrics") == yaml.safe_load(CLUSTER_ROLE.read_text())
    binding = one(docs, "ClusterRoleBinding", "kube-state-metrics")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": "kube-state-metrics"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "kube-state-metrics",
                                    "namespace": "kube-system"}]
    assert one(docs, "Deployment", "kube-state-metrics")["spec"]["replicas"] == 1
    service = one(docs, "Service", "kube-state-metrics")
    assert service["spec"]["clusterIP"] == "None"
    assert [(p["name"], p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [
        ("http-metrics", 8080, "http-metrics"), ("telemetry", 8081, "telemetry")]


def _port(c: dict[str, Any], ref: Any) -> int:
    if isinstance(ref, int):
        return ref
    return next(int(p["containerPort"]) for p in c["ports"] if p["name"] == ref)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_workloads_are_locked_down_and_probed(rendered: dict[str, list[dict[str, Any]]], variant: str) -> None:
    found = workloads(rendered[variant])
    assert found
    for w in found:
        name = w["metadata"]["name"]
        pod = w["spec"]["template"]["spec"]
        c = container(w)
        assert c["image"] == IMAGE, name
        assert pod["serviceAccountName"] == "kube-state-metrics" and pod["automountServiceAccountToken"] is True
        for ctx in (pod["securityContext"], c["securityContext"]):
            assert ctx["runAsNonRoot"] is True and ctx["runAsUser"] == 65534, name
            assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}, name
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False, name
        assert sc["capabilities"] == {"drop": ["ALL"]} and sc.get("privileged", False) is False, name
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(c["resources"][kind]), f"{name}: {kind}"
        assert {(p["name"], p["containerPort"]) for p in c["ports"]} == {("http-metrics", 8080), ("telemetry", 8081)}
        live, ready = c["livenessProbe"]["httpGet"], c["readinessProbe"]["httpGet"]
        assert live["path"] in ("/livez", "/healthz") and _port(c, live["port"]) == 8080, name
        assert ready["path"] == "/readyz" and _port(c, ready["port"]) == 8081, name
        # A /tmp for libraries despite the read-only root filesystem.
        assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"]


SAMPLE_ENV = {"metadata.name": "kube-state-metrics-0", "metadata.namespace": "kube-system",
              "spec.nodeName": "node-a"}


def resolved_args(c: dict[str, Any]) -> list[str]:
    """The container's args with $(VAR) expanded from its env, as the kubelet does."""
    env: dict[str, str] = {}
    for e in c.get("env", []):
        env[e["name"]] = e["value"] if "value" in e else SAMPLE_ENV[e["valueFrom"]["fieldRef"]["fieldPath"]]
    args = [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a) for a in c["args"]]
    assert not any("$(" in a for a in args), args
    return args


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_workload_args_are_flags_ksm_py_accepts(rendered: dict[str, list[dict[str, Any]]], variant: str) -> None:
    for w in workloads(rendered[variant]):
        c = container(w)
        args = build_parser().parse_args(resolved_args(c))
        options = options_from_args(args)
        assert (options.host, options.port) == ("0.0.0.0", 8080)
        assert (options.telemetry_host, options.telemetry_port) == ("0.0.0.0", 8081)


def test_autosharding_overlay(rendered: dict[str, list[dict[str, Any]]]) -> None:
    docs = rendered["autosharding"]
    assert not by_kind(docs, "Deployment")
    sts = one(docs, "StatefulSet", "kube-state-metrics")
    assert sts["spec"]["serviceName"] == "kube-state-metrics" and sts["spec"]["replicas"] >= 2
    c = container(sts)
    assert {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in c["env"]} == {
        "POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace"}
    assert "--pod=$(POD_NAME)" in c["args"] and "--pod-namespace=$(POD_NAMESPACE)" in c["args"]
    options = options_from_args(build_parser().parse_args(resolved_args(c)))
    assert (options.pod, options.pod_namespace) == ("kube-state-metrics-0", "kube-system")
    # The base's resources but topology (a shard's graph would be partial).
    assert options.resources == [r for r in base_resources(rendered) if r != "topology"]
    # The same pod as the base Deployment but for the flags and the downward API.
    base = copy.deepcopy(one(rendered["base"], "Deployment", "kube-state-metrics")["spec"]["template"])
    mine = copy.deepcopy(sts["spec"]["template"])
    for t in (base, mine):
        t["spec"]["containers"][0].pop("env", None)
        t["spec"]["containers"][0]["args"] = [a for a in t["spec"]["containers"][0]["args"]
                                              if "$(" not in a and not a.startswith("--resources=")]
    assert mine == base
    role = one(docs, "Role", "kube-state-metrics")
    assert role["metadata"]["namespace"] == "kube-system"
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
        {"apiGroups": ["apps"], "resources": ["statefulsets"], "resourceNames": ["kube-state-metrics"],
         "verbs": ["get", "list", "watch"]}]
    binding = one(docs, "RoleBinding", "kube-state-metrics")
    assert binding["roleRef"]["kind"] == "Role" and binding["roleRef"]["name"] == "kube-state-metrics"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "kube-state-metrics",
                                    "namespace": "kube-system"}]


def base_resources(rendered: dict[str, list[dict[str, Any]]]) -> list[str]:
    args = container(one(rendered["base"], "Deployment", "kube-state-metrics"))["args"]
    (resources,) = [a.split("=", 1)[1] for a in args if a.startswith("--resources=")]
    return list(resources.split(","))


def test_base_enables_kube_state_metrics_defaults_plus_events_and_topology(
        rendered: dict[str, list[dict[str, Any]]]) -> None:
    # The bare image serves exactly kube-state-metrics' defaults; ksm-py's own manifests turn the
    # extensions on, and the ClusterRole (checked above) grants what they read.
    assert base_resources(rendered) == sorted([*DEFAULT_RESOURCES, "events", "topology"])
    assert not {"events", "topology"} & set(DEFAULT_RESOURCES)


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def test_daemonset_overlay_splits_pods_from_the_rest(rendered: dict[str, list[dict[str, Any]]]) -> None:
    docs = rendered["daemonset"]
    rest = container(one(docs, "Deployment", "kube-state-metrics"))
    resources = [a.split("=", 1)[1] for a in rest["args"] if a.startswith("--resources=")]
    assert len(resources) == 1
    # Every resource of the base that does not read pods (so not pods, nor the topology extension).
    base = base_resources(rendered)
    assert resources[0].split(",") == [r for r in base if ("", "pods") not in api_resources_read([r])]
    assert "events" in resources[0].split(",")
    assert ("", "pods") not in api_resources_read(resources[0].split(","))
    ds = one(docs, "DaemonSet", "kube-state-metrics-pods")
    c = container(ds)
    assert "--resources=pods" in c["args"] and "--node=$(NODE_NAME)" in c["args"]
    assert c["env"] == [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]
    assert ds["spec"]["template"]["spec"]["tolerations"] == [{"operator": "Exists"}]
    unscheduled = container(one(docs, "Deployment", "kube-state-metrics-unscheduled-pods"))
    assert "--resources=pods" in unscheduled["args"] and "--track-unscheduled-pods" in unscheduled["args"]
    # Each controller selects only its own pods; the one Service selects them all.
    found = workloads(docs)
    assert len(found) == 3
    for w in found:
        for other in found:
            selected = _matches(w["spec"]["selector"]["matchLabels"], other["spec"]["template"]["metadata"]["labels"])
            assert selected == (w is other), (w["metadata"]["name"], other["metadata"]["name"])


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_service_selects_every_workload(rendered: dict[str, list[dict[str, Any]]], variant: str) -> None:
    docs = rendered[variant]
    service = one(docs, "Service", "kube-state-metrics")
    assert service["spec"]["selector"] == {LABEL: "kube-state-metrics"}
    for w in workloads(docs):
        labels = w["spec"]["template"]["metadata"]["labels"]
        assert _matches(service["spec"]["selector"], labels), w["metadata"]["name"]
        assert _matches(w["spec"]["selector"]["matchLabels"], labels), w["metadata"]["name"]


def test_monitoring_namespace_overlay(rendered: dict[str, list[dict[str, Any]]]) -> None:
    docs = rendered["monitoring-namespace"]
    assert docs[0] == {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}}
    base = rendered["base"]
    assert sorted((d["kind"], d["metadata"]["name"]) for d in docs[1:]) == \
        sorted((d["kind"], d["metadata"]["name"]) for d in base)
    for d in docs[1:]:
        if d["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert d["metadata"]["namespace"] == "monitoring", d["kind"]
    assert one(docs, "ClusterRoleBinding", "kube-state-metrics")["subjects"][0]["namespace"] == "monitoring"


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_kustomize_images_entry_points_every_workload_at_your_registry(variant: str, tmp_path: Path) -> None:
    """The README's override: your kustomization with `images:` on top of any shipped one."""
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({
        "resources": [os.path.relpath(VARIANTS[variant], tmp_path)],
        "images": [{"name": IMAGE.split(":")[0], "newName": "registry.example.com/ksm-py", "newTag": "0.1.0-rc1"}]}))
    try:
        docs = kustomize_build(tmp_path)
    except KustomizeMissing as e:
        if os.environ.get("KSM_PY_REQUIRE_E2E"):
            pytest.fail(str(e))
        pytest.skip(str(e))
    images = {c["image"] for w in workloads(docs) for c in w["spec"]["template"]["spec"]["containers"]}
    assert images == {"registry.example.com/ksm-py:0.1.0-rc1"}
