"""Evaluate deploy/prometheus/topology-rules.yml on ksm-py's own output with ``promtool test rules``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.expo import parse_line

ROOT = Path(__file__).resolve().parent.parent.parent
RULES = ROOT / "deploy" / "prometheus" / "topology-rules.yml"
JOB = "kube-state-metrics"


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is missing (Debian package prometheus; .ci/run installs it)")
    return path


def _series(name: str, labels: dict[str, str]) -> str:
    body = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{name}{{{body}}}"


def dangling_test(exposition: str, dangling: list[dict[str, str]]) -> dict[str, Any]:
    """A promtool unit test: the topology series of ``exposition`` as constant input for 30 minutes,
    and exactly ``dangling`` (relation labels) as the recorded dangling references and alerts."""
    inputs = []
    for line in exposition.splitlines():
        if line.startswith("kube_topology_"):
            name, pairs, value = parse_line(line)
            inputs.append({"series": _series(name, {"job": JOB, **dict(pairs)}), "values": f"{value}x30"})
    alerts = []
    for labels in dangling:
        description = (f"{labels['source_type']} {labels['source_namespace']}/{labels['source_name']} {labels['type']} "
                       f"{labels['target_type']} {labels['target_namespace']}/{labels['target_name']}, which does not "
                       "exist.")
        alerts.append({"exp_labels": {"severity": "warning", "job": JOB, **labels},
                       "exp_annotations": {"summary": "A Kubernetes object references something that does not exist.",
                                           "description": description}})
    return {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": inputs,
            "promql_expr_test": [{"eval_time": "1m", "expr": "kube_topology_relation:dangling", "exp_samples": [
                {"labels": _series("kube_topology_relation:dangling", {"job": JOB, **labels}), "value": 1}
                for labels in dangling]}],
            "alert_rule_test": [{"eval_time": "5m", "alertname": "KubeTopologyDanglingReference", "exp_alerts": []},
                                {"eval_time": "15m", "alertname": "KubeTopologyDanglingReference",
                                 "exp_alerts": alerts}],
        }],
    }


def run_dangling_test(exposition: str, dangling: list[dict[str, str]], workdir: Path) -> None:
    path = workdir / "dangling_test.yml"
    path.write_text(yaml.safe_dump(dangling_test(exposition, dangling), sort_keys=False))
    result = subprocess.run([promtool(), "test", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def relation(type_: str, source: str, target: str) -> dict[str, str]:
    """Relation labels from ``type``, ``"kind/ns/name"``, ``"kind/ns/name"``."""
    st, sns, sn = source.split("/", 2)
    tt, tns, tn = target.split("/", 2)
    return {"type": type_, "source_type": st, "source_namespace": sns, "source_name": sn,
            "target_type": tt, "target_namespace": tns, "target_name": tn}
