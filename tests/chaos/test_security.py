"""Security: no Secret data or ConfigMap values in any output, nothing written to disk, nothing
listening where the user did not ask, no debug endpoints.

kubectl's client-side apply stores the whole object in the ``kubectl.kubernetes.io/last-applied-
configuration`` annotation: for a Secret that is its data. Upstream kube-state-metrics exports it
as ``annotation_kubectl_kubernetes_io_last_applied_configuration`` when the annotation allowlist
matches it (e.g. ``secrets=[*]``); ksm-py never does, for Secrets and ConfigMaps (a deliberate
deviation, see the README).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest

from harness.controlplane import listening_sockets, process_tree, wait_for
from ksm_py.builder import compile_resources
from ksm_py.exposition import ResourceWriter, render_body
from ksm_py.options import Options
from ksm_py.store import MetricsStore
from tests.chaos._harness import Report, ground_truth
from tests.conftest import WITH_EXTENSIONS, Objects, http_get
from tests.e2e._exporter import Exporter
from tests.expo import series

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ALLOW_ALL = ["--metric-labels-allowlist=*=[*]", "--metric-annotations-allowlist=*=[*]"]
# Every syscall that creates, truncates, renames or removes a file (openat is checked for its flags).
WRITE_CALLS = "open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,renameat2,unlink,unlinkat,link,linkat," \
              "symlink,symlinkat,truncate,ftruncate,mknod,mknodat"
WRITE_FLAGS = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND|O_TMPFILE")
DEBUG_PATHS = ["/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/goroutine", "/debug/vars", "/debug",
               "/metrics/debug", "/-/reload", "/-/quit", "/admin", "/console", "/debug/requests", "/env", "/config"]


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def canary_objects(canary: str) -> list[dict[str, Any]]:
    """A Secret and a ConfigMap holding the canary in their data, as ``kubectl apply`` leaves them
    (last-applied annotation included), and a pod using both."""
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "canary-secret", "labels": {"app": "canary"}, "annotations": {"team": "blue"}},
              "data": {"password": b64(canary + "-data")}, "stringData": {"token": canary + "-string"}}
    config = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "canary-config", "labels": {"app": "canary"}, "annotations": {"team": "blue"}},
              "data": {"key": canary + "-value"}, "binaryData": {"bin": b64(canary + "-binary")}}
    for obj in (secret, config):
        applied = {k: v for k, v in obj.items() if k != "metadata"}
        applied["metadata"] = {"name": obj["metadata"]["name"], "annotations": {"team": "blue"}}
        obj["metadata"]["annotations"][LAST_APPLIED] = json.dumps(applied) + "\n"
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "canary-pod", "labels": {"app": "canary"}},
           "spec": {"containers": [{"name": "c", "image": "registry.example/c:1",
                                    "env": [{"name": "P", "valueFrom": {"secretKeyRef": {
                                        "name": "canary-secret", "key": "password"}}}],
                                    "envFrom": [{"configMapRef": {"name": "canary-config"}}]}],
                    "volumes": [{"name": "s", "secret": {"secretName": "canary-secret"}}]}}
    return [secret, config, pod]


def leaks(text: str, canary: str) -> list[str]:
    """Where the canary (raw or base64, as the API serves data) shows up in ``text``."""
    needles = [canary, b64(canary + "-data"), b64(canary + "-binary"), b64(canary)[:16]]
    return [text[max(0, i - 80):i + 80] for n in needles for i in [text.find(n)] if i >= 0]


def test_last_applied_configuration_of_secrets_and_configmaps_is_never_exported() -> None:
    canary = f"canary-{uuid.uuid4().hex}"
    objs = {o["kind"]: o for o in canary_objects(canary)}
    resources = ["configmaps", "pods", "secrets"]
    options = Options(resources=resources, labels_allowlist={r: ("*",) for r in resources},
                      annotations_allowlist={r: ("*",) for r in resources})
    rendered = {}
    for compiled in compile_resources(options):
        store = MetricsStore(compiled)
        kind = {"configmaps": "ConfigMap", "secrets": "Secret", "pods": "Pod"}[compiled.name]
        obj = json.loads(json.dumps(objs[kind]))
        obj["metadata"].update(namespace="ns", uid=f"uid-{kind}", creationTimestamp="2024-01-01T00:00:00Z")
        if kind == "Pod":  # the scope of the deviation: other kinds keep upstream's behaviour
            obj["metadata"]["annotations"] = {LAST_APPLIED: '{"kind":"Pod"}', "team": "blue"}
        store.upsert(obj)
        rendered[kind] = render_body([ResourceWriter(compiled, [store])]).decode()
    for kind in ("Secret", "ConfigMap"):
        assert not leaks(rendered[kind], canary), rendered[kind]
        annotations = series(rendered[kind], prefix=f"kube_{kind.lower()}_annotations{{")
        assert len(annotations) == 1 and 'annotation_team="blue"' in next(iter(annotations)), rendered[kind]
    assert "annotation_kubectl_kubernetes_io_last_applied_configuration=" in rendered["Pod"]


def _world_readable_copy(src: Path) -> tuple[Path, Path]:
    """The kubeconfig in a directory uid 65534 can read (pytest's tmp dirs are root-only)."""
    d = Path(tempfile.mkdtemp(prefix="ksm-py-security-"))
    d.chmod(0o755)
    dst = d / "kubeconfig"
    shutil.copyfile(src, dst)
    dst.chmod(0o644)
    return d, dst


def _writes(trace: Path) -> list[str]:
    """strace lines that open a file for writing or change the file system (attempts included)."""
    out = []
    for line in trace.read_text(errors="replace").splitlines():
        call = re.sub(r"^\d+\s+", "", line)
        m = re.match(r"(\w+)\(", call)  # skips signals, exits and "<... resumed>" halves
        if m and (not m.group(1).startswith("open") or WRITE_FLAGS.search(call)):
            out.append(line)
    return out


@pytest.mark.e2e
def test_no_secret_data_anywhere_no_disk_writes_no_extra_listeners(objects: Objects, restricted_kubeconfig_path: Path,
                                                                     spawn: Any, tmp_path: Path,
                                                                     chaos_report: Report) -> None:
    strace, setpriv = shutil.which("strace"), shutil.which("setpriv")
    if strace is None or setpriv is None:
        pytest.fail("strace and setpriv are required (apt packages strace, util-linux; .ci/run installs them)")
    canary = f"canary-{uuid.uuid4().hex}"
    for obj in canary_objects(canary):
        objects.create(obj)
    trace = tmp_path / "strace.out"
    kube_dir, kubeconfig = _world_readable_copy(restricted_kubeconfig_path)
    home = Path(tempfile.mkdtemp(prefix="ksm-py-home-"))
    home.chmod(0o555)  # root's: not writable by uid 65534
    # As uid/gid 65534 without groups, cwd /, HOME not writable. The interpreter lives under
    # /root (0700) here, so the process keeps CAP_DAC_READ_SEARCH (read and traverse only; no
    # capability lets it write anywhere 65534 could not). The interpreter's bytecode cache is off,
    # as in an image with a read-only root filesystem.
    argv = [strace, "-f", "-qq", "-o", str(trace), "-e", f"trace={WRITE_CALLS}",
            setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
            "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search",
            "env", "-C", "/", sys.executable, "-m", "ksm_py"]
    flags = [WITH_EXTENSIONS, *ALLOW_ALL, "--log-level=debug"]  # the extensions read and render objects too
    exp: Exporter | None = None
    try:
        exp = Exporter(spawn, argv, kubeconfig, flags, "ksm-py-65534",
                       env={"HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1"})
        exp.wait_ready(timeout=90)
        pids = [p for p in process_tree([exp.proc.proc.pid]) if p != exp.proc.proc.pid]
        assert len(pids) == 1, pids
        pid = pids[0]
        status = Path(f"/proc/{pid}/status").read_text()
        assert re.search(r"^Uid:\s+65534\s+65534\s+65534\s+65534$", status, re.M), status
        assert re.search(r"^Groups:\s*$", status, re.M), status

        ns = objects.namespace
        wait_for("the canary secret exported", lambda: series(exp.metrics(), prefix="kube_secret_annotations{",
                                                             where=[("namespace", ns), ("secret", "canary-secret")]),
                 60)
        text = exp.metrics()
        ours = series(text, where=[("namespace", ns)])
        assert ours[f'kube_secret_annotations{{annotation_team="blue",namespace="{ns}",secret="canary-secret"}}']
        assert ours[f'kube_configmap_labels{{configmap="canary-config",label_app="canary",namespace="{ns}"}}']
        outputs = {
            "/metrics": text,
            "/metrics (OpenMetrics)": exp.metrics({"Accept": "application/openmetrics-text; version=1.0.0"}),
            "telemetry /metrics": exp.telemetry(),
        }
        status_code, _, body = http_get(f"http://127.0.0.1:{exp.port}/topology")
        if status_code == 200:
            outputs["/topology"] = body.decode()
            assert "canary-secret" in outputs["/topology"]
            # The explorer page's answers too: Graphviz's dot runs here, as uid 65534, traced.
            for query in ("view=all", f"view=all&namespace={ns}", f"action=config&root=pod/{ns}/canary-pod"):
                status_code, _, body = http_get(f"http://127.0.0.1:{exp.port}/topology/ui/graph?{query}")
                assert status_code == 200, (query, body)
                outputs[f"/topology/ui/graph?{query}"] = body.decode()
                if "canary" in query:
                    doc = json.loads(body)
                    assert doc["svg"] and f"secret/{ns}/canary-secret" in {n["key"] for n in doc["nodes"].values()}

        # Nothing listens but the two addresses asked for; no debug endpoints on either port.
        assert sorted(listening_sockets([pid])) == sorted([(pid, "127.0.0.1", exp.port),
                                                           (pid, "127.0.0.1", exp.tport)])
        for path in DEBUG_PATHS:
            for port in (exp.port, exp.tport):
                assert http_get(f"http://127.0.0.1:{port}{path}")[0] == 404, f":{port}{path}"

        faults = "canary in Secret data/stringData, ConfigMap data/binaryData and their last-applied annotations; " \
                 f"*=[*] allowlists; uid 65534; outputs checked: {', '.join(outputs)}, debug log"
        ground_truth(spawn, restricted_kubeconfig_path, flags, exp, scenario="security", faults=faults,
                     report=chaos_report)
    finally:
        if exp is not None:
            # SIGTERM to ksm-py itself (strace would only detach); strace ends with it.
            for traced in process_tree([exp.proc.proc.pid]):
                if traced != exp.proc.proc.pid:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(traced, signal.SIGTERM)
            exp.proc.proc.wait(30)
        shutil.rmtree(kube_dir, ignore_errors=True)
        home.chmod(0o755)
        shutil.rmtree(home, ignore_errors=True)

    assert exp is not None
    log = exp.proc.log.read_text(errors="replace")
    assert " DEBUG " in log, "not a debug log"
    outputs["ksm-py log (debug)"] = log
    found = {where: leaks(out, canary) for where, out in outputs.items() if leaks(out, canary)}
    assert not found, f"Secret/ConfigMap data leaked: {found}"
    writes = _writes(trace)
    assert trace.stat().st_size > 0 and "openat(" in trace.read_text()
    assert not writes, "ksm-py opened files for writing / changed the file system:\n" + "\n".join(writes[:20])
