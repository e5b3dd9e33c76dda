"""The Dockerfile built with buildah and run with podman, locked down as deploy/ runs it: uid 65534,
read-only root filesystem, no capabilities, no new privileges. Against the local control plane
(host network, a ServiceAccount kubeconfig mounted read-only) it serves /healthz, /readyz and the
cluster's pods on /metrics, and writes nothing to the container's filesystem."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import image as img
from harness.build import BuildError
from harness.controlplane import wait_for
from tests.conftest import Objects, free_port, http_get
from tests.expo import series

pytestmark = pytest.mark.e2e

# Mounted on /mnt, which the image already has: a new mount point would itself show in `podman diff`.
KUBECONFIG_IN_CONTAINER = "/mnt/kubeconfig"


def podman(*args: str, runtime: str = "", timeout: float = 120) -> subprocess.CompletedProcess[str]:
    argv = ["podman", *(["--runtime", runtime] if runtime else []), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> img.Image:
    missing = img.missing_tools()
    if missing:
        pytest.fail(f"missing {missing}: apt-get install buildah podman crun runc debootstrap (.ci/run does)")
    if os.geteuid() != 0:
        pytest.fail("the image test runs buildah/podman as root (rootless needs subuid ranges this harness "
                    "does not set up)")
    try:
        return img.build_image(log=tmp_path_factory.mktemp("image") / "buildah.log")
    except (img.ImageError, BuildError) as e:
        pytest.fail(str(e))


@pytest.fixture(scope="module")
def runtime(built: img.Image) -> str:
    try:
        chosen, failures = img.pick_runtime(built.ref)
    except img.ImageError as e:
        pytest.fail(str(e))
    for name, error in failures.items():
        print(f"[image] OCI runtime {name} cannot run containers here: {error}")
    return chosen


class Container:
    def __init__(self, runtime: str, image: str, kubeconfig: Path) -> None:
        self.name = f"ksm-py-e2e-{uuid.uuid4().hex[:8]}"
        self.runtime = runtime
        self.port, self.tport = free_port(), free_port()
        out = podman(
            "run", "-d", "--name", self.name, "--network", "host",
            "--user", "65534:65534", "--read-only", "--read-only-tmpfs=false",
            "--cap-drop", "all", "--security-opt", "no-new-privileges", *img.ulimit_args(),
            "-v", f"{kubeconfig.parent}:{Path(KUBECONFIG_IN_CONTAINER).parent}:ro",
            image, f"--kubeconfig={KUBECONFIG_IN_CONTAINER}", "--host=127.0.0.1", f"--port={self.port}",
            "--telemetry-host=127.0.0.1", f"--telemetry-port={self.tport}", runtime=runtime)
        if out.returncode != 0:
            raise AssertionError(f"podman run failed ({out.returncode}): {out.stderr}")

    def inspect(self) -> dict[str, Any]:
        info: dict[str, Any] = json.loads(podman("inspect", self.name).stdout)[0]
        return info

    def logs(self) -> str:
        out = podman("logs", "--tail", "40", self.name)
        return out.stdout + out.stderr

    def wait_ok(self, url: str, timeout: float = 120) -> None:
        def ok() -> bool:
            if not self.inspect()["State"]["Running"]:
                raise AssertionError(f"the container exited:\n{self.logs()}")
            return http_get(url, timeout=5)[0] == 200
        wait_for(url, ok, timeout, interval=0.5, on_timeout=lambda: "\n" + self.logs())

    def remove(self) -> None:
        podman("rm", "-f", "-t", "5", self.name)


@pytest.fixture
def container(built: img.Image, runtime: str, restricted_kubeconfig_path: Path, tmp_path: Path
              ) -> Iterator[Container]:
    # The deploy/ ServiceAccount's kubeconfig (server, CA and token inline), readable by uid 65534,
    # alone in its directory.
    mounted = tmp_path / "mnt"
    mounted.mkdir(mode=0o755)
    kubeconfig = mounted / Path(KUBECONFIG_IN_CONTAINER).name
    kubeconfig.write_bytes(restricted_kubeconfig_path.read_bytes())
    kubeconfig.chmod(0o444)
    c = Container(runtime, built.ref, kubeconfig)
    try:
        yield c
    finally:
        c.remove()


def proc_status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {k: v.strip() for k, v in (line.split(":", 1) for line in lines)}


def test_image_runs_locked_down_against_the_cluster(built: img.Image, container: Container, objects: Objects
                                                    ) -> None:
    objects.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "seen-from-the-image"},
                    "spec": {"containers": [{"name": "c", "image": "registry.example/c:1"}]}})
    c = container
    c.wait_ok(f"http://127.0.0.1:{c.port}/healthz")
    c.wait_ok(f"http://127.0.0.1:{c.tport}/readyz")

    def pod_listed() -> bool:
        text = http_get(f"http://127.0.0.1:{c.port}/metrics", timeout=30)[2].decode()
        return bool(series(text, prefix="kube_pod_info{",
                           where=[("namespace", objects.namespace), ("pod", "seen-from-the-image")]))
    wait_for("the cluster's pod in the container's /metrics", pod_listed, 60, interval=1,
             on_timeout=lambda: "\n" + c.logs())
    text = http_get(f"http://127.0.0.1:{c.port}/metrics", timeout=30)[2].decode()
    assert series(text, prefix="kube_node_info{"), "no nodes listed"

    # The process as the kernel sees it: ksm-py as 65534, no capabilities at all, no new privileges,
    # on a read-only root mount.
    pid = c.inspect()["State"]["Pid"]
    status = proc_status(pid)
    assert "ksm-py" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    assert status["Uid"].split() == ["65534"] * 4 and status["Gid"].split() == ["65534"] * 4, status
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[cap], 16) == 0, (cap, status[cap])
    assert status["NoNewPrivs"] == "1"
    root = [line.split() for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines()
            if line.split()[4] == "/"]
    assert root and "ro" in root[0][5].split(","), root
    # Not even world-writable /tmp takes a file: the whole root filesystem is read-only.
    out = podman("exec", c.name, "python3", "-c", "open('/tmp/probe', 'w')", runtime=c.runtime)
    assert out.returncode != 0 and "Read-only file system" in out.stderr, out

    # After start-up and scrapes, nothing in the container's filesystem changed.
    diff = podman("diff", c.name)
    assert diff.returncode == 0, diff.stderr
    assert diff.stdout.strip() == "", diff.stdout


def test_image_size_and_contents(built: img.Image, runtime: str) -> None:
    """The layers ksm-py adds to its base: the package and its dependencies, no caches, no sources."""
    base = json.loads(podman("image", "inspect", img.BASE_REF).stdout)[0]
    added = built.size - int(base["Size"])
    print(f"[image] {built.ref}: {built.size / 1e6:.0f} MB, {added / 1e6:.0f} MB above the base")
    # About 260 MB: the kubernetes client package (~125 MB with bytecode), Graphviz with its libraries
    # (~80 MB, for /topology/ui), the other dependencies. A guard against pip/apt caches or build trees.
    assert 0 < added < 300e6, added
    config = json.loads(podman("image", "inspect", built.ref).stdout)[0]["Config"]
    assert config["User"] == "65534:65534" and config["Entrypoint"] == ["ksm-py"], config
    listing = podman("run", "--rm", *img.ulimit_args(), "--user", "0", "--entrypoint", "sh", built.ref, "-c",
                     "ls -d /src /root/.cache/pip 2>&1; ksm-py --help >/dev/null && echo help-ok; "
                     "python3 -c 'import ksm_py, os; print(*os.listdir(os.path.dirname(ksm_py.__file__) "
                     "+ \"/topology/static\"))'", runtime=runtime)
    assert listing.stdout.count("No such file or directory") == 2, listing.stdout
    assert "help-ok" in listing.stdout, listing
    # The explorer page's own files are package data, installed with the package.
    assert {"explorer.html", "explorer.js", "explorer.css"} <= set(listing.stdout.split()), listing.stdout
