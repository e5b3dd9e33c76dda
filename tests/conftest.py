"""Session fixtures: a real control plane (or the cluster in $KSM_E2E_KUBECONFIG) and helpers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from harness import build
from harness.controlplane import ClusterUnavailable, ControlPlane, restricted_kubeconfig, wait_for
from harness.rest import Rest
from ksm_py.options import DEFAULT_RESOURCES, EXTENSION_RESOURCES

ROOT = Path(__file__).resolve().parent.parent
# kube-state-metrics' defaults plus ksm-py's own events and topology (off by default), as deploy/base runs it.
WITH_EXTENSIONS = "--resources=" + ",".join(sorted([*DEFAULT_RESOURCES, *EXTENSION_RESOURCES]))
CLUSTER_ROLE = ROOT / "deploy" / "base" / "cluster-role.yaml"


class ExternalCluster:
    """A cluster the user points at with KSM_E2E_KUBECONFIG (kind, a real cluster)."""

    def __init__(self, kubeconfig: Path, workdir: Path) -> None:
        self.admin_kubeconfig = kubeconfig
        self.workdir = workdir
        self.rest = Rest(kubeconfig)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def restricted_kubeconfig(self, cluster_role: Path, *, name: str = "ksm-py", namespace: str = "kube-system",
                              path: Path | None = None) -> Path:
        return restricted_kubeconfig(self.rest, self.admin_kubeconfig, cluster_role, name=name, namespace=namespace,
                                     path=path or self.workdir / f"{name}.kubeconfig")

    def stop(self) -> None:
        pass


def e2e_unavailable(reason: str) -> NoReturn:
    if os.environ.get("KSM_PY_REQUIRE_E2E"):
        pytest.fail(f"e2e required (KSM_PY_REQUIRE_E2E is set) but unavailable: {reason}")
    pytest.skip(reason)


def built(component: build.Component) -> Path:
    """The component's main binary from the harness cache; without it the test fails
    (KSM_PY_REQUIRE_E2E) or skips, naming the build command."""
    if not component.is_built():
        e2e_unavailable(f"{component.name} is not built: python -m harness build --only {component.name}")
    return component.binary()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    workdir = tmp_path_factory.mktemp("cluster")
    external = os.environ.get("KSM_E2E_KUBECONFIG")
    if external:
        yield ExternalCluster(Path(external), workdir)
        return
    # kwok plays only the annotated nodes it is given (all of add_nodes()'), so a test can add a
    # Node that stays NotReady (tests/e2e/test_prometheus.py).
    plane = ControlPlane(workdir, nodes=3, manage_all_nodes=False)
    try:
        plane.start()
    except ClusterUnavailable as e:
        e2e_unavailable(str(e))
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="session")
def local_plane(cluster: Any) -> ControlPlane:
    """Tests that restart or compact the control plane need the local one."""
    if not isinstance(cluster, ControlPlane):
        pytest.skip("needs the local control plane (restarts kube-apiserver / compacts etcd)")
    return cluster


@pytest.fixture(scope="session")
def restricted_kubeconfig_path(cluster: Any) -> Path:
    """The ServiceAccount bound only to the ClusterRole shipped in deploy/."""
    return cluster.restricted_kubeconfig(CLUSTER_ROLE)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def api_client(cluster: Any) -> Any:
    from kubernetes import config

    return config.new_client_from_config(config_file=str(cluster.admin_kubeconfig))


@pytest.fixture(scope="session")
def dyn(api_client: Any) -> Any:
    """The kubernetes package's dynamic client: plain dicts in, no model classes to build by hand."""
    from kubernetes.dynamic import DynamicClient

    return DynamicClient(api_client)


class Objects:
    """Create objects from dicts and wait for conditions, in one namespace."""

    def __init__(self, dyn: Any, namespace: str) -> None:
        self.dyn = dyn
        self.namespace = namespace

    def api(self, api_version: str, kind: str) -> Any:
        return self.dyn.resources.get(api_version=api_version, kind=kind)

    def create(self, obj: dict[str, Any]) -> Any:
        api = self.api(obj["apiVersion"], obj["kind"])
        if api.namespaced:
            obj.setdefault("metadata", {}).setdefault("namespace", self.namespace)
            return api.create(body=obj, namespace=obj["metadata"]["namespace"])
        return api.create(body=obj)

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        api = self.api(api_version, kind)
        ns = (namespace or self.namespace) if api.namespaced else None
        return api.get(name=name, namespace=ns).to_dict()  # type: ignore[no-any-return]

    def list(self, api_version: str, kind: str, **kwargs: Any) -> list[dict[str, Any]]:
        api = self.api(api_version, kind)
        if api.namespaced:
            kwargs.setdefault("namespace", self.namespace)
        return api.get(**kwargs).to_dict()["items"]  # type: ignore[no-any-return]

    def delete(self, api_version: str, kind: str, name: str) -> None:
        api = self.api(api_version, kind)
        api.delete(name=name, namespace=self.namespace if api.namespaced else None)

    def wait(self, what: str, check: Callable[[], Any], timeout: float = 60) -> Any:
        return wait_for(what, check, timeout, interval=0.5)


@pytest.fixture
def objects(dyn: Any, cluster: Any) -> Iterator[Objects]:
    """A fresh namespace (with its default ServiceAccount) deleted after the test."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    cluster.rest.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    wait_for(f"default ServiceAccount in {name}",
             lambda: cluster.rest.get(f"/api/v1/namespaces/{name}/serviceaccounts/default"), 60)
    yield Objects(dyn, name)
    try:
        cluster.rest.request("DELETE", f"/api/v1/namespaces/{name}")
    except Exception:  # noqa: BLE001 - best effort cleanup
        pass


def free_port() -> int:
    from harness.controlplane import free_port as fp

    return fp()


class Process:
    """A subprocess on loopback ports, killed at teardown; its output goes to a log file."""

    def __init__(self, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self.argv = argv
        with log.open("ab") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env={**os.environ, **(env or {})}, start_new_session=True)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    started: list[Process] = []

    def start(argv: list[str], name: str = "proc", env: dict[str, str] | None = None) -> Process:
        p = Process(argv, tmp_path / f"{name}-{len(started)}.log", env)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


def ksm_py_argv() -> list[str]:
    exe = shutil.which("ksm-py")
    return [exe] if exe else [sys.executable, "-m", "ksm_py"]


def http_get(url: str, headers: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers.items()), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers.items()), e.read()


def wait_http_ok(url: str, timeout: float = 60, proc: Process | None = None) -> None:
    def ok() -> bool:
        if proc is not None and proc.proc.poll() is not None:
            raise RuntimeError(f"process exited {proc.proc.returncode}:\n{proc.tail()}")
        return http_get(url, timeout=5)[0] == 200
    wait_for(url, ok, timeout, interval=0.3, on_timeout=(lambda: "\n" + proc.tail()) if proc else None)
