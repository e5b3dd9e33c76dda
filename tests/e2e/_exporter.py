"""Running exporters (ksm-py or upstream) against a cluster, and the objects the e2e tests create.

Shared by tests/e2e and tests/chaos.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from harness import build
from harness.controlplane import wait_for
from harness.proxy import FaultProxy
from tests.conftest import CLUSTER_ROLE, Objects, Process, built, free_port, http_get, ksm_py_argv, wait_http_ok
from tests.expo import series

CORE = "pods,nodes,namespaces,deployments,replicasets"


class Exporter:
    """A running exporter process (ksm-py or upstream) with its two ports."""

    def __init__(self, spawn: Callable[..., Process], argv: list[str], kubeconfig: Path, flags: list[str],
                 name: str, *, env: dict[str, str] | None = None) -> None:
        self.port, self.tport = free_port(), free_port()
        self.proc = spawn([*argv, f"--kubeconfig={kubeconfig}", "--host=127.0.0.1", f"--port={self.port}",
                           "--telemetry-host=127.0.0.1", f"--telemetry-port={self.tport}", *flags], name=name,
                          env=env)
        wait_http_ok(f"http://127.0.0.1:{self.port}/healthz", proc=self.proc)

    def metrics(self, headers: dict[str, str] | None = None) -> str:
        status, _, body = http_get(f"http://127.0.0.1:{self.port}/metrics", headers)
        assert status == 200
        return body.decode()

    def telemetry(self) -> str:
        return http_get(f"http://127.0.0.1:{self.tport}/metrics")[2].decode()

    def readyz(self) -> int:
        return http_get(f"http://127.0.0.1:{self.tport}/readyz")[0]

    def wait_ready(self, timeout: float = 60) -> None:
        wait_for("ksm-py /readyz", lambda: self.readyz() == 200, timeout, on_timeout=lambda: "\n" + self.proc.tail())


def ksm_py(spawn: Callable[..., Process], kubeconfig: Path, *flags: str, env: dict[str, str] | None = None,
           name: str = "ksm-py") -> Exporter:
    return Exporter(spawn, ksm_py_argv(), kubeconfig, list(flags), name, env=env)


def upstream(spawn: Callable[..., Process], kubeconfig: Path, *flags: str) -> Exporter:
    return Exporter(spawn, [str(built(build.KSM))], kubeconfig, list(flags), "kube-state-metrics")


def deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": {"team": "a"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "c", "image": "registry.example/c:1",
                                     "resources": {"requests": {"cpu": "250m", "memory": "64Mi"},
                                                   "limits": {"memory": "1.5Gi"}}}]}}},
    }


def pods_running(objects: Objects, app: str, n: int) -> Callable[[], bool]:
    def check() -> bool:
        pods = objects.list("v1", "Pod", label_selector=f"app={app}")
        return len(pods) == n and all(p["status"].get("phase") == "Running" for p in pods)
    return check


def ns_series(text: str, namespace: str) -> dict[str, str]:
    return series(text, where=[("namespace", namespace)])


def limited_role(tmp_path: Path, name: str, drop: str) -> Path:
    """The ClusterRole from deploy/, renamed, without ``drop`` in any rule."""
    role = yaml.safe_load(CLUSTER_ROLE.read_text())
    role["metadata"]["name"] = name
    for rule in role["rules"]:
        rule["resources"] = [r for r in rule["resources"] if r != drop]
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(role))
    return path


def proxied_kubeconfig(source: Path, proxy: FaultProxy, dest: Path) -> Path:
    """``source`` with its server replaced by the fault proxy (TLS passes through)."""
    cfg = yaml.safe_load(source.read_text())
    cfg["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{proxy.port}"
    dest.write_text(yaml.safe_dump(cfg))
    return dest
