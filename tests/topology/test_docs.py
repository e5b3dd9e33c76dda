"""The PromQL examples of docs/topology.md, evaluated by promtool on what ksm-py renders."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from tests.expo import parse_line, series_key

from ._promtool import ROOT, promtool
from ._util import obj, pod, render

DOC = ROOT / "docs" / "topology.md"


def examples() -> list[str]:
    blocks = re.findall(r"```promql\n(.*?)```", DOC.read_text(), re.S)
    return [expr.strip() for block in blocks for expr in re.split(r"\n\s*\n", block) if expr.strip()]


def cluster() -> str:
    def event(name: str, pod_name: str, reason: str, type_: str) -> dict[str, object]:
        return {"apiVersion": "events.k8s.io/v1", "kind": "Event",
                "metadata": {"name": name, "namespace": "shop", "creationTimestamp": "2024-05-01T10:00:00Z"},
                "regarding": {"kind": "Pod", "name": pod_name, "namespace": "shop"}, "reason": reason, "type": type_}
    return render([
        obj("v1", "Service", "web"),
        obj("discovery.k8s.io/v1", "EndpointSlice", "web-x", metadata={"labels": {"kubernetes.io/service-name": "web"}},
            endpoints=[{"targetRef": {"kind": "Pod", "name": n, "namespace": "shop"}} for n in ("web-1", "web-2")]),
        pod("web-1", node="n1", containers=[{
            "name": "app", "envFrom": [{"configMapRef": {"name": "settings"}}],
            "volumeMounts": [{"name": "data", "mountPath": "/d"}, {"name": "bundle", "mountPath": "/b"}]}],
            volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
                     {"name": "bundle", "projected": {"sources": [{"configMap": {"name": "bundle-cm"}}]}}]),
        pod("web-2", phase="Pending"),
        obj("v1", "Node", "n1", None),
        obj("v1", "ConfigMap", "settings"),
        obj("v1", "PersistentVolumeClaim", "data", spec={"volumeName": "pv-1"}),
        obj("v1", "PersistentVolume", "pv-1", None, spec={"nfs": {"server": "nfs.example", "path": "/e"}}),
        event("web-1.failed", "web-1", "Failed", "Warning"),
        event("web-2.scheduled", "web-2", "Scheduled", "Normal"),
    ], resources=["pods", "topology", "events"])


# What each example returns on that cluster (series count), in the order of the document.
WANT = [
    2,  # pods behind the Service: web-1 Running, web-2 Pending
    8,  # web-1: scheduled_on, uses, 2 claims, encloses; its container: runs_on, 2 mounts
    6,  # one level deeper: node belongs_to, pvc exposes, volume projects, container runs_on + 2 mounts
    1,  # dangling: the projected volume's bundle-cm
    1,  # Warning events per object
    2,  # events of the pods behind the Service
]


def test_doc_examples_return_what_they_say(tmp_path: Path) -> None:
    exprs = examples()
    assert len(exprs) == len(WANT), exprs
    inputs = []
    for line in cluster().splitlines():
        if line and not line.startswith("#"):
            name, pairs, value = parse_line(line)
            inputs.append({"series": series_key(name, pairs), "values": f"{float(value):.0f}x10"})
    rules = tmp_path / "examples.yml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "examples", "rules": [
        {"record": f"doc_example_{i}", "expr": expr} for i, expr in enumerate(exprs)]}]}, sort_keys=False))
    test = tmp_path / "examples_test.yml"
    test.write_text(yaml.safe_dump({
        "rule_files": [str(rules)], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": inputs, "promql_expr_test": [
            {"eval_time": "2m", "expr": f"count(doc_example_{i})", "exp_samples": [{"labels": "{}", "value": want}]}
            for i, want in enumerate(WANT)]}]}, sort_keys=False))
    result = subprocess.run([promtool(), "test", "rules", str(test)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
