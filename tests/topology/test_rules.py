"""The shipped topology rules: promtool accepts them, their own unit tests pass, and they report a
pod referencing a missing ConfigMap in what ksm-py actually renders."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ._promtool import RULES, promtool, relation, run_dangling_test
from ._util import obj, pod, render


def test_promtool_checks_the_rules() -> None:
    result = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_of_the_rules() -> None:
    result = subprocess.run([promtool(), "test", "rules", RULES.with_name("topology-rules_test.yml").name],
                            cwd=RULES.parent, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pod_with_missing_configmap_is_reported(tmp_path: Path) -> None:
    objects = [
        obj("v1", "ConfigMap", "present"),
        obj("v1", "Secret", "creds"),
        pod("api-0", node="n1", containers=[{
            "name": "app",
            "envFrom": [{"configMapRef": {"name": "present"}}, {"configMapRef": {"name": "missing"}},
                        {"secretRef": {"name": "maybe", "optional": True}}],
            "env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "pw"}}}]}]),
        obj("v1", "Node", "n1", None),
    ]
    text = render(objects)
    run_dangling_test(text, [relation("uses", "pod/shop/api-0", "configmap/shop/missing")], tmp_path)


def test_nothing_dangles_when_everything_exists(tmp_path: Path) -> None:
    objects = [obj("v1", "ConfigMap", "cfg"), obj("v1", "PersistentVolumeClaim", "data", spec={"volumeName": "pv-1"}),
               obj("v1", "PersistentVolume", "pv-1", None), obj("v1", "Service", "web"),
               obj("networking.k8s.io/v1", "Ingress", "web", spec={"defaultBackend": {"service": {"name": "web"}}}),
               pod("api-0", volumes=[{"name": "c", "configMap": {"name": "cfg"}},
                                     {"name": "d", "persistentVolumeClaim": {"claimName": "data"}}])]
    run_dangling_test(render(objects), [], tmp_path)
