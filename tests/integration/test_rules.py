"""deploy/prometheus: the rules pass promtool, every alert is unit-tested firing and not firing, and
they only use series ksm-py exposes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest

from ksm_py.families import RESOURCES
from ksm_py.telemetry import ReflectorStateCollector, Telemetry

PROM = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = PROM / "rules.yml"
RULES_TEST = PROM / "rules_test.yml"
CONFIG = PROM / "prometheus.yml"


def promtool() -> str:
    exe = shutil.which("promtool")
    if exe is None:
        pytest.fail("promtool is missing (Debian package prometheus; .ci/run installs it)")
    return exe


def rules() -> list[dict[str, Any]]:
    return [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]


def alerts() -> list[dict[str, Any]]:
    return [r for r in rules() if "alert" in r]


def test_promtool_check_rules() -> None:
    out = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(rules())} rules found" in out.stdout


def test_promtool_test_rules() -> None:
    out = subprocess.run([promtool(), "test", "rules", str(RULES_TEST)], capture_output=True, text=True,
                         timeout=120, cwd=PROM)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout


def test_every_alert_has_for_severity_and_a_description_with_labels() -> None:
    assert len(alerts()) >= 10
    for alert in alerts():
        name = alert["alert"]
        assert re.fullmatch(r"\d+[smh]", alert.get("for", "")), f"{name}: needs a for: duration"
        assert alert["labels"]["severity"] in {"warning", "critical"}, name
        assert alert["annotations"]["summary"], name
        assert "{{ $labels." in alert["annotations"]["description"], f"{name}: description should name the object"


def test_the_alerts_users_expect_are_there() -> None:
    exprs = {a["alert"]: a["expr"] for a in alerts()}
    expected = {
        "KubePodCrashLooping": "kube_pod_container_status_restarts_total",
        "KubePodNotReady": "kube_pod_status_phase",
        "KubeContainerWaiting": "kube_pod_container_status_waiting_reason",
        "KubeDeploymentReplicasMismatch": "kube_deployment_status_replicas_available",
        "KubeJobFailed": "kube_job_failed",
        "KubeNodeNotReady": "kube_node_status_condition",
        "KubePersistentVolumeClaimPending": "kube_persistentvolumeclaim_status_phase",
        "KsmPyDown": "up{",
        "KsmPyAbsent": "absent(up{",
        "KsmPyResourceNotSynced": "ksm_py_resource_synced",
    }
    for name, needle in expected.items():
        assert name in exprs, f"missing alert {name}"
        assert needle in exprs[name], f"{name} should use {needle}"
    assert 'CrashLoopBackOff' in exprs["KubeContainerWaiting"] and "ImagePullBackOff" in exprs["KubeContainerWaiting"]


def test_every_alert_is_tested_firing_and_not_firing_and_every_recording_rule_is_tested() -> None:
    tests = yaml.safe_load(RULES_TEST.read_text())
    assert tests["rule_files"] == [RULES.name]
    firing: set[str] = set()
    silent: set[str] = set()
    exprs_tested: list[str] = []
    for case in tests["tests"]:
        for t in case.get("alert_rule_test", []):
            (firing if t.get("exp_alerts") else silent).add(t["alertname"])
        exprs_tested += [t["expr"] for t in case.get("promql_expr_test", [])]
    names = {a["alert"] for a in alerts()}
    assert names - firing == set(), "alerts never tested firing"
    assert names - silent == set(), "alerts never tested not firing"
    assert firing | silent <= names, "tests name alerts that do not exist"
    for record in (r["record"] for r in rules() if "record" in r):
        assert any(record in e for e in exprs_tested), f"recording rule {record} has no promql_expr_test"


def _exposed_names() -> set[str]:
    """Every series name ksm-py can expose: the families of all resources and its telemetry."""
    names = {f.name for r in RESOURCES.values() for f in r.families}
    telemetry = Telemetry(object_limit=10)
    telemetry.track(ReflectorStateCollector(lambda: [("pods", "", True, 0.0, 0, True)]))
    telemetry.list_request("pods", True)
    telemetry.list_done("pods", True, 0)
    telemetry.watch_request("pods", True)
    telemetry.watch_closed("pods", "closed")
    for line in generate_latest(telemetry.registry).decode().splitlines():
        if line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def test_rules_only_use_series_ksm_py_exposes() -> None:
    exposed = _exposed_names()
    used = {m for r in rules() for m in re.findall(r"\b((?:kube|ksm_py)_[a-z_]+)\b", r["expr"])}
    assert used, "no ksm-py series found in the rules"
    assert used - exposed == set(), "the rules use series ksm-py does not expose"


def test_scrape_config_is_the_seed_job() -> None:
    """The job of the usual kube-state-metrics setup: endpoints SD, keep kube-system;kube-state-metrics.

    (Debian's promtool 2.42 is built without Kubernetes SD, so `promtool check config` rejects any
    kubernetes_sd_configs; tests/e2e/test_prometheus.py runs a real Prometheus with this job.)
    """
    cfg = yaml.safe_load(CONFIG.read_text())
    # Both shipped rule files, each of them checked and unit-tested (tests/topology/test_rules.py).
    assert cfg["rule_files"] == [RULES.name, "topology-rules.yml"]
    assert all((PROM / f).is_file() for f in cfg["rule_files"])
    (job,) = cfg["scrape_configs"]
    assert job["job_name"] == "kube-state-metrics"
    assert job["kubernetes_sd_configs"] == [{"role": "endpoints"}]
    keep = job["relabel_configs"][0]
    assert keep == {"source_labels": ["__meta_kubernetes_namespace", "__meta_kubernetes_endpoints_name"],
                    "regex": "kube-system;kube-state-metrics", "action": "keep"}
    # The alerts' up{job=...} matches this job name.
    assert all('job="kube-state-metrics"' in a["expr"] for a in alerts() if "up{" in a["expr"])
