"""deploy/helm/ksm-py: helm lint, helm template with the default, autosharding and ServiceMonitor
values (and a values file written for the prometheus-community kube-state-metrics chart), and the
default render applied to the local control plane, where ksm-py run with the chart's
ServiceAccount token and arguments syncs every resource of its --resources list."""

from __future__ import annotations

import subprocess
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import build
from harness.controlplane import service_account_kubeconfig, wait_for
from harness.manifests import apply_all, container, delete_all, workloads
from harness.rest import Rest
from ksm_py.cli import build_extensions
from ksm_py.families import RESOURCES
from ksm_py.options import build_parser, options_from_args
from tests.conftest import built
from tests.e2e.test_deploy import Ksm, resolved_args, sar, wait_running
from tests.expo import series

pytestmark = pytest.mark.e2e

CHART = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "ksm-py"
# The collectors of the kube-state-metrics chart's values.yaml (chart 8.x), then ksm-py's two.
KSM_CHART_COLLECTORS = [
    "certificatesigningrequests", "configmaps", "cronjobs", "daemonsets", "deployments", "endpointslices",
    "horizontalpodautoscalers", "ingresses", "jobs", "leases", "limitranges", "mutatingwebhookconfigurations",
    "namespaces", "networkpolicies", "nodes", "persistentvolumeclaims", "persistentvolumes",
    "poddisruptionbudgets", "pods", "replicasets", "replicationcontrollers", "resourcequotas", "secrets",
    "services", "statefulsets", "storageclasses", "validatingwebhookconfigurations", "volumeattachments",
]
DEFAULT_COLLECTORS = [*KSM_CHART_COLLECTORS, "topology", "events"]


def helm_binary() -> str:
    return str(built(build.HELM))


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([helm_binary(), *args], capture_output=True, text=True, timeout=120)


def template(values: dict[str, Any] | None = None, *, release: str = "kube-state-metrics",
             namespace: str = "monitoring", tmp: Path | None = None) -> list[dict[str, Any]]:
    args = ["template", release, str(CHART), "--namespace", namespace]
    if values:
        assert tmp is not None
        f = tmp / f"values-{uuid.uuid4().hex[:6]}.yaml"
        f.write_text(yaml.safe_dump(values))
        args += ["-f", str(f)]
    out = helm(*args)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind} objects"
    return found[0]


def args_of(docs: list[dict[str, Any]]) -> list[str]:
    return list(container(workloads(docs)[0])["args"])


def flag(args: list[str], name: str) -> str | None:
    values = [a.split("=", 1)[1] for a in args if a.startswith(f"--{name}=")]
    assert len(values) <= 1, values
    return values[0] if values else None


def expected_rules(collectors: list[str]) -> dict[str, set[str]]:
    """What ksm-py lists and watches for ``collectors``, by API group: the families' resources and
    what its extensions (topology, events) watch, from the code itself."""
    options = options_from_args(build_parser().parse_args([f"--resources={','.join(collectors)}"]))
    read = {(RESOURCES[r].group, RESOURCES[r].name) for r in options.resources if r in RESOURCES}
    for extension in build_extensions(options):
        read |= {(w.api.group, w.api.plural) for w in extension.watches(options)}
    wanted: dict[str, set[str]] = {}
    for group, plural in read:
        wanted.setdefault(group, set()).add(plural)
    return wanted


def rules_by_group(role: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for rule in role["rules"]:
        assert rule["verbs"] == ["list", "watch"], rule
        (group,) = rule["apiGroups"]
        out.setdefault(group, set()).update(rule["resources"])
    return out


# -- helm lint / template ---------------------------------------------------------------------------
def test_helm_lint(tmp_path: Path) -> None:
    for values in ({}, {"autosharding": {"enabled": True}, "replicas": 3},
                   {"prometheus": {"monitor": {"enabled": True}}, "selfMonitor": {"enabled": True}}):
        f = tmp_path / "values.yaml"
        f.write_text(yaml.safe_dump(values))
        out = helm("lint", "--strict", str(CHART), "-f", str(f))
        assert out.returncode == 0 and "1 chart(s) linted, 0 chart(s) failed" in out.stdout, out.stdout + out.stderr


def test_default_render(tmp_path: Path) -> None:
    docs = template(tmp=tmp_path)
    assert sorted(d["kind"] for d in docs) == sorted(
        ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Service", "Deployment"])
    deploy = one(docs, "Deployment")
    assert deploy["metadata"]["name"] == "kube-state-metrics" and deploy["metadata"]["namespace"] == "monitoring"
    pod = deploy["spec"]["template"]["spec"]
    c = container(deploy)
    # The image of the package's version, the same deploy/base runs.
    version = tomllib.loads((CHART.parents[2] / "pyproject.toml").read_text())["project"]["version"]
    assert c["image"] == f"ghcr.io/ksm-py/ksm-py:{version}"
    assert yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"] == version
    args = c["args"]
    # Topology and Events on by default, on top of the kube-state-metrics chart's list.
    assert flag(args, "resources") == ",".join(DEFAULT_COLLECTORS)
    assert flag(args, "port") == "8080" and flag(args, "telemetry-port") == "8081"
    for absent in ("namespaces", "metric-allowlist", "metric-denylist", "metric-labels-allowlist", "pod"):
        assert flag(args, absent) is None, absent
    # Locked down as deploy/base: nobody, read-only root, nothing to escalate.
    assert pod["securityContext"] == {"runAsUser": 65534, "runAsGroup": 65534, "fsGroup": 65534,
                                      "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    assert c["securityContext"] == {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"]}}
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz" and c["readinessProbe"]["httpGet"]["port"] == "metrics"
    assert c["livenessProbe"]["httpGet"]["path"] == "/livez" and c["livenessProbe"]["httpGet"]["port"] == "http"
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http": 8080, "metrics": 8081}
    sa = one(docs, "ServiceAccount")
    assert pod["serviceAccountName"] == sa["metadata"]["name"] == "kube-state-metrics"
    binding = one(docs, "ClusterRoleBinding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "kube-state-metrics", "namespace": "monitoring"}]
    assert binding["roleRef"]["name"] == one(docs, "ClusterRole")["metadata"]["name"]
    # Exactly list/watch on what the --resources list reads (topology's kinds, Events), nothing else.
    role = one(docs, "ClusterRole")
    assert rules_by_group(role) == expected_rules(DEFAULT_COLLECTORS)
    assert rules_by_group(role)["events.k8s.io"] == {"events"}
    service = one(docs, "Service")
    assert [p["name"] for p in service["spec"]["ports"]] == ["http"]
    assert service["spec"]["selector"] == deploy["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/instance": "kube-state-metrics"}
    assert service["metadata"]["annotations"] == {"prometheus.io/scrape": "true"}


def test_every_resource_maps_to_its_api_group(tmp_path: Path) -> None:
    """The chart's group table agrees with ksm-py's resource definitions for every --resources key."""
    everything = sorted(RESOURCES) + ["events"]
    role = one(template({"collectors": everything}, tmp=tmp_path), "ClusterRole")
    assert rules_by_group(role) == expected_rules(everything)
    out = helm("template", "x", str(CHART), "--set", "collectors={pods,widgets}")
    assert out.returncode != 0 and 'unknown resource "widgets"' in out.stderr, out.stderr


def test_autosharding_render(tmp_path: Path) -> None:
    docs = template({"autosharding": {"enabled": True}, "replicas": 3}, tmp=tmp_path)
    sts = one(docs, "StatefulSet")
    assert not [d for d in docs if d["kind"] == "Deployment"]
    assert sts["spec"]["replicas"] == 3 and sts["spec"]["serviceName"] == "kube-state-metrics"
    c = container(sts)
    assert flag(c["args"], "pod") == "$(POD_NAME)" and flag(c["args"], "pod-namespace") == "$(POD_NAMESPACE)"
    assert {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in c["env"]} == {
        "POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace"}
    assert one(docs, "Service")["spec"]["clusterIP"] == "None"
    role = one(docs, "Role")
    assert role["metadata"]["namespace"] == "monitoring"
    # Its own pod and its own StatefulSet only.
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
        {"apiGroups": ["apps"], "resources": ["statefulsets"], "resourceNames": ["kube-state-metrics"],
         "verbs": ["get", "list", "watch"]}]
    binding = one(docs, "RoleBinding")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"][0]["name"] == "kube-state-metrics"


def test_servicemonitor_render(tmp_path: Path) -> None:
    docs = template({"prometheus": {"monitor": {
        "enabled": True, "additionalLabels": {"release": "kps"}, "interval": "30s",
        "http": {"honorLabels": True, "metricRelabelings": [{"action": "labeldrop", "regex": "uid"}]},
        "metrics": {"interval": "1m"}}}, "selfMonitor": {"enabled": True}}, tmp=tmp_path)
    sm = one(docs, "ServiceMonitor")
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    assert sm["metadata"]["labels"]["release"] == "kps" and sm["metadata"]["namespace"] == "monitoring"
    spec = sm["spec"]
    # job="kube-state-metrics", as with the kube-state-metrics chart: its dashboards and alerts keep working.
    assert spec["jobLabel"] == "app.kubernetes.io/name"
    service = one(docs, "Service")
    assert spec["selector"]["matchLabels"] == service["spec"]["selector"]
    assert service["metadata"]["labels"]["app.kubernetes.io/name"] == "kube-state-metrics"
    assert spec["endpoints"] == [
        {"port": "http", "interval": "30s", "honorLabels": True,
         "metricRelabelings": [{"action": "labeldrop", "regex": "uid"}]},
        {"port": "metrics", "interval": "1m"}]
    assert [(p["name"], p["port"]) for p in service["spec"]["ports"]] == [("http", 8080), ("metrics", 8081)]
    assert not [d for d in template(tmp=tmp_path) if d["kind"] == "ServiceMonitor"]


def test_kube_state_metrics_chart_values_render_the_same_flags(tmp_path: Path) -> None:
    """A values file written for the prometheus-community chart, unchanged."""
    values: dict[str, Any] = {
        "image": {"registry": "registry.example.com", "repository": "mirror/ksm-py", "tag": "0.1.0-rc1"},
        "replicas": 1,
        "collectorsExclude": ["secrets", "leases"], "collectorsExtra": ["ingressclasses"],
        "metricLabelsAllowlist": ["pods=[app,team]", "namespaces=[*]"],
        "metricAnnotationsAllowList": ["pods=[owner]"],
        "metricDenylist": ["kube_pod_container_status_.*"],
        "namespaces": "team-a,team-b", "namespacesDenylist": "kube-node-lease",
        "extraArgs": ["--enable-gzip-encoding"],
        "resources": {"requests": {"cpu": "50m", "memory": "300Mi"}, "limits": {"memory": "1Gi"}},
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "infra", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["infra"]}]}]}}},
        "podAnnotations": {"a": "b"}, "customLabels": {"team": "sre"},
        "serviceAccount": {"name": "ksm", "annotations": {"eks.amazonaws.com/role-arn": "arn:x"}},
        "customResourceState": {"enabled": True, "config": {"kind": "CustomResourceStateMetrics", "spec": {
            "resources": [{"groupVersionKind": {"group": "example.com", "version": "v1", "kind": "Widget"},
                           "metrics": [{"name": "info", "help": "x", "each": {"type": "Info",
                                                                            "info": {"labelsFromPath": {}}}}]}]}}},
        "rbac": {"extraRules": [{"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["list", "watch"]}]},
    }
    docs = template(values, tmp=tmp_path)
    deploy = one(docs, "Deployment")
    pod = deploy["spec"]["template"]["spec"]
    c = container(deploy)
    args = c["args"]
    assert args[0] == "--enable-gzip-encoding"
    assert c["image"] == "registry.example.com/mirror/ksm-py:0.1.0-rc1"
    collectors = [x for x in DEFAULT_COLLECTORS if x not in ("secrets", "leases")] + ["ingressclasses"]
    assert flag(args, "resources") == ",".join(collectors)
    assert flag(args, "metric-labels-allowlist") == "pods=[app,team],namespaces=[*]"
    assert flag(args, "metric-annotations-allowlist") == "pods=[owner]"
    assert flag(args, "metric-denylist") == "kube_pod_container_status_.*"
    assert flag(args, "namespaces") == "team-a,team-b"
    assert flag(args, "namespaces-denylist") == "kube-node-lease"
    assert flag(args, "custom-resource-state-config-file") == "/etc/customresourcestate/config.yaml"
    assert c["resources"] == values["resources"]
    assert pod["nodeSelector"] == values["nodeSelector"] and pod["tolerations"] == values["tolerations"]
    assert pod["affinity"] == values["affinity"]
    assert pod["serviceAccountName"] == "ksm" and one(docs, "ServiceAccount")["metadata"]["annotations"]
    assert deploy["spec"]["template"]["metadata"]["annotations"] == {"a": "b"}
    assert all(d["metadata"]["labels"]["team"] == "sre" for d in docs)
    cm = one(docs, "ConfigMap")
    assert yaml.safe_load(cm["data"]["config.yaml"]) == values["customResourceState"]["config"]
    assert {"name": "customresourcestate-config", "mountPath": "/etc/customresourcestate", "readOnly": True} \
        in c["volumeMounts"]
    assert {"name": "customresourcestate-config", "configMap": {"name": cm["metadata"]["name"]}} in pod["volumes"]
    rules = rules_by_group(one(docs, "ClusterRole"))
    # topology still reads Secret metadata, so secrets stays although its collector is excluded.
    assert rules["apiextensions.k8s.io"] == {"customresourcedefinitions"}
    assert rules["example.com"] == {"widgets"}
    assert "leases" not in rules.get("coordination.k8s.io", set())
    assert rules["networking.k8s.io"] >= {"ingressclasses"}


def test_keys_the_chart_does_not_implement_fail_the_render() -> None:
    for key, needle in (("kubeRBACProxy.enabled=true", "kubeRBACProxy"),
                        ("authFilter.enabled=true,rbac.useClusterRole=false,namespaces=a", "authFilter needs"),
                        ("metricAllowlist={a},metricDenylist={b}", "mutually exclusive"),
                        ("rbac.useClusterRole=false", "needs namespaces")):
        out = helm("template", "x", str(CHART), "--set", key)
        assert out.returncode != 0 and needle in out.stderr, (key, out.stderr)


def test_auth_filter_render(tmp_path: Path) -> None:
    docs = template({"authFilter": {"enabled": True}}, tmp=tmp_path)
    assert "--auth-filter" in args_of(docs)
    role = one(docs, "ClusterRole")
    creates = [r for r in role["rules"] if r["verbs"] == ["create"]]
    assert creates == [{"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]},
                       {"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"],
                        "verbs": ["create"]}]
    role["rules"] = [r for r in role["rules"] if r not in creates]
    assert rules_by_group(role) == expected_rules(DEFAULT_COLLECTORS)
    default = template(tmp=tmp_path)
    assert "--auth-filter" not in args_of(default)
    assert all(r["verbs"] == ["list", "watch"] for r in one(default, "ClusterRole")["rules"])


def test_namespaced_rbac_render(tmp_path: Path) -> None:
    docs = template({"rbac": {"useClusterRole": False}, "namespaces": ["team-a", "team-b"],
                     "collectors": ["pods", "configmaps"]}, tmp=tmp_path)
    roles = [d for d in docs if d["kind"] == "Role"]
    assert sorted(r["metadata"]["namespace"] for r in roles) == ["team-a", "team-b"]
    assert all(rules_by_group(r) == {"": {"pods", "configmaps"}} for r in roles)
    bindings = [d for d in docs if d["kind"] == "RoleBinding"]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["team-a", "team-b"]
    assert not [d for d in docs if d["kind"].startswith("Cluster")]
    assert flag(args_of(docs), "namespaces") == "team-a,team-b"


# -- the default render on the control plane ---------------------------------------------------------
def test_default_render_applied_syncs_under_the_charts_rbac(cluster: Any, spawn: Any, tmp_path: Path) -> None:
    rest: Rest = cluster.rest
    namespace = f"ksm-py-helm-{uuid.uuid4().hex[:6]}"
    docs = template(release="ksm-py", namespace=namespace)
    namespace_doc = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    try:
        apply_all(rest, [namespace_doc, *docs])  # server-side apply: the API server takes every object
        (deploy,) = workloads(docs)
        (pod,) = wait_running(rest, deploy)
        sa = one(docs, "ServiceAccount")["metadata"]["name"]
        assert sa == "ksm-py-kube-state-metrics"
        user = f"system:serviceaccount:{namespace}:{sa}"
        groups = ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"]
        for verb, resource, group in (("list", "events", "events.k8s.io"), ("watch", "pods", ""),
                                      ("list", "secrets", ""), ("watch", "volumeattachments", "storage.k8s.io")):
            assert sar(rest, user, groups, verb, resource, group=group), (verb, resource)
        for verb, resource, group, name in (("get", "secrets", "", "x"), ("create", "pods", "", ""),
                                            ("list", "clusterroles", "rbac.authorization.k8s.io", ""),
                                            ("list", "events", "", ""), ("update", "nodes", "", "")):
            assert not sar(rest, user, groups, verb, resource, group=group, namespace="default", name=name), \
                (verb, resource)

        kubeconfig = service_account_kubeconfig(rest, cluster.admin_kubeconfig, name=sa, namespace=namespace,
                                                path=tmp_path / "chart.kubeconfig")
        args = resolved_args(container(deploy), pod)
        assert flag(args, "resources") == ",".join(DEFAULT_COLLECTORS)
        ksm = Ksm(spawn, kubeconfig, args, "ksm-py-chart")
        ksm.wait_ready()  # /readyz: every resource of the list has listed under the chart's RBAC
        telemetry = ksm.telemetry()
        assert not [k for k in series(telemetry, prefix="ksm_py_api_errors_total{") if 'status="403"' in k], \
            telemetry
        synced = series(telemetry, prefix="ksm_py_resource_synced{")
        assert synced and set(synced.values()) == {"1"}, synced
        # /readyz does not wait for a forbidden resource: the chart's role must leave none forbidden.
        forbidden = series(telemetry, prefix="ksm_py_resource_forbidden{")
        assert set(forbidden.values()) <= {"0"}, forbidden
        ksm.wait_reports(f'kube_pod_info{{namespace="{namespace}",pod="{pod["metadata"]["name"]}"')
        text = ksm.metrics()
        assert "kube_node_info{" in text
        assert series(text, prefix="kube_topology_component{", where=[("type", "pod"), ("namespace", namespace)])
        assert "# TYPE kube_event_" in text
        ksm.proc.stop()
    finally:
        delete_all(rest, [namespace_doc, *docs])
        wait_for(f"namespace {namespace} gone", lambda: not [
            n for n in rest.get("/api/v1/namespaces")["items"] if n["metadata"]["name"] == namespace], 120)
