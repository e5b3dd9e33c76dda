"""``make demo``: a local cluster with sample workloads and ksm-py serving them; Ctrl-C stops all."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from ksm_py.options import DEFAULT_RESOURCES, EXTENSION_RESOURCES

from .controlplane import ControlPlane, free_port, wait_for

# As deploy/base runs it: kube-state-metrics' defaults plus ksm-py's events and topology.
WITH_EXTENSIONS = "--resources=" + ",".join(sorted([*DEFAULT_RESOURCES, *EXTENSION_RESOURCES]))

ROOT = Path(__file__).resolve().parents[1]


def _port(preferred: int) -> int:
    import socket
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            return free_port()


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="ksm-py-demo-"))
    plane = ControlPlane(workdir, nodes=3)
    print("starting etcd, kube-apiserver, controller-manager, scheduler and kwok on 127.0.0.1 ...", flush=True)
    plane.start()
    proc: subprocess.Popen[bytes] | None = None
    try:
        from harness.rest import KINDS
        for doc in yaml.safe_load_all((Path(__file__).parent / "demo-workloads.yaml").read_text()):
            if doc["kind"] in KINDS:
                plane.rest.apply(doc)
            else:
                group_version = doc["apiVersion"]
                plural = doc["kind"].lower() + "s"
                ns = doc["metadata"]["namespace"]
                prefix = f"/apis/{group_version}" if "/" in group_version else f"/api/{group_version}"
                plane.rest.request("POST", f"{prefix}/namespaces/{ns}/{plural}", doc)
            if doc["kind"] == "Namespace":
                wait_for("demo ServiceAccount", lambda: plane.rest.get(
                    "/api/v1/namespaces/demo/serviceaccounts/default"), 60)
        kubeconfig = plane.restricted_kubeconfig(ROOT / "deploy" / "base" / "cluster-role.yaml")
        port, tport = _port(8080), _port(8081)
        exe = shutil.which("ksm-py")
        argv = [exe] if exe else [sys.executable, "-m", "ksm_py"]
        proc = subprocess.Popen([*argv, f"--kubeconfig={kubeconfig}", "--host=127.0.0.1", f"--port={port}",
                                 "--telemetry-host=127.0.0.1", f"--telemetry-port={tport}",
                                 # kube-state-metrics' defaults plus ksm-py's own (the role grants both)
                                 WITH_EXTENSIONS, "--metric-labels-allowlist=pods=[app],namespaces=[team]"])
        print(f"""
ksm-py is running against the local cluster (restricted ServiceAccount, list/watch only).
Try:
  curl -s http://127.0.0.1:{port}/metrics | grep -E '^kube_(pod_info|deployment_status_replicas)'
  curl -s http://127.0.0.1:{port}/metrics?resources=pods | head
  curl -s -H 'Accept: application/openmetrics-text;version=1.0.0' http://127.0.0.1:{port}/metrics | tail -3
  curl -s http://127.0.0.1:{port}/healthz
  curl -s http://127.0.0.1:{tport}/readyz
  curl -s http://127.0.0.1:{tport}/metrics | grep ksm_py_objects
  export KUBECONFIG={plane.admin_kubeconfig}   # then kubectl (or the Python client) against the cluster
Press Ctrl-C to stop everything.
""", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        while proc.poll() is None:
            time.sleep(1)
        return proc.returncode or 0
    except KeyboardInterrupt:
        return 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            proc.wait(10)
        plane.stop()
        shutil.rmtree(workdir, ignore_errors=True)
