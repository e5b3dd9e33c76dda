"""deploy/ as the tests see it: rendered by kustomize (built into the cache like the control plane)
and applied object by object with server-side apply, as ``kubectl apply -k`` would."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from . import build
from .rest import ApiError, Rest, object_path

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
# Every kustomization the repository ships, by a short name.
VARIANTS: dict[str, Path] = {
    "base": DEPLOY / "base",
    "autosharding": DEPLOY / "overlays" / "autosharding",
    "daemonset": DEPLOY / "overlays" / "daemonset",
    "monitoring-namespace": DEPLOY / "overlays" / "monitoring-namespace",
}
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


class KustomizeMissing(RuntimeError):
    """kustomize is not built: ``python -m harness build --only kustomize``."""


def kustomize_build(path: Path) -> list[dict[str, Any]]:
    """``kustomize build path`` as a list of objects, in kustomize's (apply) order."""
    if not build.KUSTOMIZE.is_built():
        raise KustomizeMissing("kustomize is not built; run `python -m harness build --only kustomize`")
    out = subprocess.run([str(build.KUSTOMIZE.binary()), "build", str(path)], capture_output=True, text=True,
                         timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"kustomize build {path} failed ({out.returncode}):\n{out.stderr}")
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def render(variant: str) -> list[dict[str, Any]]:
    return kustomize_build(VARIANTS[variant])


def workloads(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] in WORKLOAD_KINDS]


def container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{workload['metadata']['name']}: expected one container"
    return containers[0]


def apply_all(rest: Rest, docs: list[dict[str, Any]]) -> None:
    """Server-side apply of every object, in order (kustomize puts Namespaces and RBAC first)."""
    for doc in docs:
        try:
            rest.apply(doc)
        except ApiError as e:
            raise AssertionError(f"applying {doc['kind']} {doc['metadata'].get('namespace', '')}/"
                                 f"{doc['metadata']['name']} failed: {e}") from None


def delete_all(rest: Rest, docs: list[dict[str, Any]], *, keep_kinds: tuple[str, ...] = (),
               timeout: float = 90) -> None:
    """Delete the objects (newest first, workloads with their pods), and wait until the workloads are gone."""
    gone_wanted = []
    for doc in reversed(docs):
        if doc["kind"] in keep_kinds:
            continue
        path = object_path(doc)
        try:
            rest.request("DELETE", path + "?propagationPolicy=Foreground")
        except ApiError as e:
            if e.status != 404:
                raise
        if doc["kind"] in (*WORKLOAD_KINDS, "Namespace"):
            gone_wanted.append(path)
    deadline = time.monotonic() + timeout
    for path in gone_wanted:
        while True:
            try:
                rest.get(path)
            except ApiError as e:
                if e.status == 404:
                    break
                raise
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path} still exists {timeout:.0f}s after its deletion")
            time.sleep(0.5)
