"""kube-state-metrics' own e2e suite and example manifests, from the v2.20.0 module, against ksm-py.

1. Upstream's suite (``tests/e2e/main_test.go``, built with ``go test -c`` into the cache) runs
   against upstream and ksm-py started as upstream's ``tests/e2e.sh`` starts them (the
   ``examples/standard`` Deployment: no arguments, its ClusterRole) after what e2e.sh creates
   (that Deployment and ``tests/manifests``, so upstream finds every default resource), ksm-py
   fails nothing upstream passes, and in ``TestDocumentation`` its only extra findings are the
   extension families, which its own ``docs/metrics/extensions`` document in upstream's table
   format.
2. Upstream's ``examples/standard`` applied as is, with only the binary swapped for ksm-py: there is
   no kubelet here, so ksm-py runs as a process with the token of the manifests' ServiceAccount, and
   the Deployment's readiness probe is evaluated against it. Ready, the same series as upstream,
   ``TestDocumentation`` and ``TestKubeStateMetricsErrorMetrics`` as upstream.

What these tests apply shares names with deploy/ (the ClusterRole the session's restricted identity
is bound to, the Service Prometheus finds): ``Applied`` puts the cluster back as it was.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from kubernetes.dynamic.exceptions import NotFoundError

from harness import build
from harness.controlplane import service_account_kubeconfig, wait_for
from tests.conftest import ROOT, WITH_EXTENSIONS, Process, built, free_port, http_get, ksm_py_argv, wait_http_ok
from tests.e2e.test_parity import differences

pytestmark = pytest.mark.e2e

SUITE = ("TestIsHealthz", "TestLintMetrics", "TestDocumentation", "TestKubeStateMetricsErrorMetrics",
         "TestDefaultCollectorMetricsAvailable")
EXTENSION_FAMILY = re.compile(r"^Metric kube_(topology|event)_[a-z_]+ not found in documentation\.$")


def module() -> Path:
    built(build.KSM_E2E)
    return build.KSM_E2E.home / "module"


def docs_with_extensions(tmp_path: Path) -> Path:
    """Upstream's tree with ksm-py's docs/metrics/extensions added to its docs/metrics."""
    tree = tmp_path / "module-with-extensions"
    shutil.copytree(module(), tree)
    shutil.copytree(ROOT / "docs" / "metrics" / "extensions", tree / "docs" / "metrics" / "extensions")
    return tree


class Exporter:
    def __init__(self, spawn: Callable[..., Process], argv: list[str], kubeconfig: Path, args: list[str],
                 name: str) -> None:
        self.name = name
        self.port, self.tport = free_port(), free_port()
        self.proc = spawn([*argv, *args, f"--kubeconfig={kubeconfig}", "--host=127.0.0.1", f"--port={self.port}",
                           "--telemetry-host=127.0.0.1", f"--telemetry-port={self.tport}"], name=name)
        wait_http_ok(f"http://127.0.0.1:{self.port}/healthz", timeout=90, proc=self.proc)

    def metrics(self) -> str:
        status, _, body = http_get(f"http://127.0.0.1:{self.port}/metrics", timeout=60)
        assert status == 200, f"{self.name}: HTTP {status}"
        return body.decode()

    def get(self, port_name: str, path: str) -> tuple[int, bytes]:
        port = {"http-metrics": self.port, "telemetry": self.tport}[port_name]
        status, _, body = http_get(f"http://127.0.0.1:{port}{path}")
        return status, body


def run_suite(exp: Exporter, tree: Path, tests: tuple[str, ...] = SUITE) -> dict[str, tuple[bool, list[str]]]:
    """{test: (passed, its t.Error messages)}, from ``-test.v`` output."""
    out = subprocess.run([str(build.KSM_E2E.binary()), f"-test.run=^({'|'.join(tests)})$", "-test.v",
                          f"--ksm-http-metrics-url=http://127.0.0.1:{exp.port}",
                          f"--ksm-telemetry-url=http://127.0.0.1:{exp.tport}"],
                         cwd=tree / "tests" / "e2e", capture_output=True, text=True, timeout=180)
    results: dict[str, tuple[bool, list[str]]] = {}
    current, messages = "", []
    for line in out.stdout.splitlines():
        if m := re.match(r"=== RUN\s+(\S+)", line):
            current, messages = m.group(1), []
        elif m := re.match(r"\s+main_test\.go:\d+: (.*)", line):
            messages.append(m.group(1))
        elif m := re.match(r"--- (PASS|FAIL): (\S+)", line):
            results[m.group(2)] = (m.group(1) == "PASS", messages if m.group(2) == current else [])
    missing = [t for t in tests if t not in results]
    assert not missing, f"{exp.name}: no result for {missing}:\n{out.stdout[-3000:]}\n{out.stderr[-2000:]}"
    return results


def table(rows: dict[str, dict[str, tuple[bool, list[str]]]]) -> str:
    names = list(rows)
    lines = ["| test | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for test in SUITE:
        cells = []
        for n in names:
            ok, msgs = rows[n][test]
            cells.append("pass" if ok else f"fail: {'; '.join(msgs)[:160]}")
        lines.append(f"| {test} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


class Applied:
    """Objects a test applies, put back as they were at teardown. Upstream's examples/standard names
    its objects as deploy/ does (ClusterRole, ServiceAccount, Service ``kube-state-metrics``), and
    the session's restricted identity (tests/conftest.py) is bound to that ClusterRole: an object
    that existed before gets its own content back (the same object, so what refers to it stays
    valid); one that did not is deleted with its dependents (the pods of a Job or a
    ReplicationController, which a plain delete orphans) and waited for."""

    def __init__(self, dyn: Any) -> None:
        self.dyn = dyn
        self.undo: list[tuple[Any, str, str | None, dict[str, Any] | None]] = []

    def apply(self, doc: dict[str, Any]) -> None:
        api = self.dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        namespace = (doc["metadata"].get("namespace") or "default") if api.namespaced else None
        name = doc["metadata"]["name"]
        try:
            before = api.get(name=name, namespace=namespace).to_dict()
        except NotFoundError:
            before = None
        self.undo.append((api, name, namespace, before))
        api.server_side_apply(body=doc, namespace=namespace, field_manager="ksm-py-tests", force_conflicts=True)

    def restore(self) -> None:
        failed: list[str] = []
        deleted = []
        for api, name, namespace, before in reversed(self.undo):
            try:
                if before is None:
                    api.delete(name=name, namespace=namespace, body={"propagationPolicy": "Foreground"})
                    deleted.append((api, name, namespace))
                else:
                    current = api.get(name=name, namespace=namespace).to_dict()
                    meta = {k: v for k, v in before["metadata"].items() if k != "managedFields"}
                    meta["resourceVersion"] = current["metadata"]["resourceVersion"]
                    api.replace(body={**before, "metadata": meta}, namespace=namespace)
            except NotFoundError:
                pass
            except Exception as e:  # noqa: BLE001 - try every object, then report
                failed.append(f"{api.kind} {namespace or ''}/{name}: {e}")
        self.undo.clear()

        def gone() -> bool:
            for api, name, namespace in deleted:
                try:
                    api.get(name=name, namespace=namespace)
                    return False
                except NotFoundError:
                    pass
            return True
        try:
            wait_for("the test's objects and their dependents deleted", gone, 120, interval=0.5)
        except TimeoutError as e:
            failed.append(str(e))
        assert not failed, f"cluster state not restored: {failed}"


@pytest.fixture
def applied(dyn: Any) -> Iterator[Applied]:
    objects = Applied(dyn)
    try:
        yield objects
    finally:
        objects.restore()


@pytest.fixture
def standard(cluster: Any, applied: Applied, tmp_path: Path) -> Any:
    """Upstream's examples/standard applied (the Deployment is read, not run: no kubelet here);
    a kubeconfig with the token its ServiceAccount's pod would mount."""
    example = module() / "examples" / "standard"
    for name in ("service-account.yaml", "cluster-role.yaml", "cluster-role-binding.yaml", "service.yaml"):
        for doc in docs(example / name):
            applied.apply(doc)
    (deployment,) = docs(example / "deployment.yaml")
    sa = deployment["spec"]["template"]["spec"]["serviceAccountName"]
    namespace = deployment["metadata"]["namespace"]
    kubeconfig = service_account_kubeconfig(cluster.rest, cluster.admin_kubeconfig, name=sa, namespace=namespace,
                                            path=tmp_path / "standard.kubeconfig")
    return deployment, kubeconfig


def suite_settled(exp: Exporter, tree: Path, upstream_passes: set[str] | None = None,
                  timeout: float = 90) -> dict[str, tuple[bool, list[str]]]:
    """Run the suite until it passes what it should (objects just created take a moment to show)."""
    deadline = time.monotonic() + timeout
    while True:
        results = run_suite(exp, tree)
        wanted = upstream_passes if upstream_passes is not None else {"TestDefaultCollectorMetricsAvailable"}
        if all(results[t][0] for t in wanted) or time.monotonic() > deadline:
            return results
        time.sleep(5)


def test_upstream_e2e_suite_ksm_py_fails_nothing_upstream_passes(cluster: Any, standard: Any, applied: Applied,
                                                                  spawn: Any, tmp_path: Path) -> None:
    deployment, kubeconfig = standard
    args = list(deployment["spec"]["template"]["spec"]["containers"][0].get("args") or [])
    # What tests/e2e.sh creates: examples/standard's Deployment (kube-state-metrics itself: a
    # Deployment, its ReplicaSet and pod; kwok plays the pod here) and `kubectl create -f
    # tests/manifests/`, one object of each resource. A kind cluster also holds Secrets (kubeadm's
    # bootstrap token in kube-system); one stands in for them.
    applied.apply(deployment)
    applied.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ksm-py-e2e-stand-in",
                                                                      "namespace": "kube-system"},
                   "type": "Opaque", "stringData": {"note": "stands in for kind's kube-system Secrets"}})
    for path in sorted((module() / "tests" / "manifests").glob("*.yaml")):
        for doc in docs(path):
            applied.apply(doc)
    theirs = Exporter(spawn, [str(build.KSM.binary())], kubeconfig, args, "kube-state-metrics")
    ours = Exporter(spawn, ksm_py_argv(), kubeconfig, args, "ksm-py")
    extended = Exporter(spawn, ksm_py_argv(), kubeconfig, [WITH_EXTENSIONS], "ksm-py-extensions")
    tree = module()
    up = suite_settled(theirs, tree)
    passes = {t for t, (ok, _) in up.items() if ok}
    mine = suite_settled(ours, tree, passes)
    print("\nupstream's e2e suite (v2.20.0), as tests/e2e.sh runs it:\n" + table(
        {"kube-state-metrics": up, "ksm-py": mine}))
    # The cluster holds what the suite looks for (every default resource), as e2e.sh's does.
    assert "TestDefaultCollectorMetricsAvailable" in passes, up["TestDefaultCollectorMetricsAvailable"]
    for test in passes:
        assert mine[test][0], f"ksm-py fails {test}, which upstream passes: {mine[test][1][:20]}"
    # Where upstream fails (documentation gaps of upstream's own), ksm-py finds nothing more.
    for test, (ok, msgs) in mine.items():
        if not ok:
            assert set(msgs) <= set(up[test][1]), (test, sorted(set(msgs) - set(up[test][1]))[:20])

    # With topology and events on (and the RBAC they need missing from upstream's role for
    # events), the only extra documentation findings are the extension families ...
    wait_for("ksm-py with extensions ready", lambda: extended.get("telemetry", "/readyz")[0] == 200, 90)
    wait_for("topology rendered", lambda: "kube_topology_component{" in extended.metrics(), 60)
    documentation = run_suite(extended, tree, ("TestDocumentation",))["TestDocumentation"]
    extra = set(documentation[1]) - set(up["TestDocumentation"][1])
    assert extra and all(EXTENSION_FAMILY.match(m) for m in extra), sorted(extra)
    # ... which ksm-py documents in upstream's format: with its docs added, none is left.
    documented = run_suite(extended, docs_with_extensions(tmp_path), ("TestDocumentation",))
    assert set(documented["TestDocumentation"][1]) <= set(up["TestDocumentation"][1]), documented


def test_examples_standard_with_ksm_py_as_the_binary(standard: Any, spawn: Any) -> None:
    deployment, kubeconfig = standard
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    args = list(container.get("args") or [])
    assert args == [], "upstream's example runs the binary without arguments"
    ours = Exporter(spawn, ksm_py_argv(), kubeconfig, args, "ksm-py")
    theirs = Exporter(spawn, [str(build.KSM.binary())], kubeconfig, args, "kube-state-metrics")

    # The Deployment's own probes, evaluated as the kubelet would (path on the named container port).
    ready, live = container["readinessProbe"]["httpGet"], container["livenessProbe"]["httpGet"]
    wait_for(f"readiness probe {ready['path']} on {ready['port']}",
             lambda: ours.get(ready["port"], ready["path"])[0] == 200, 90)
    status, body = ours.get(ready["port"], ready["path"])
    print(f"\nksm-py {ready['path']} on port {ready['port']}: HTTP {status}\n{body.decode()}")
    assert (status, body) == (200, b"OK"), "upstream's RBAC covers all of ksm-py's defaults: nothing to report"
    assert ours.get(live["port"], live["path"])[0] == 200

    # The same series as upstream, scraped back to back until they settle.
    deadline = time.monotonic() + 120
    while True:
        a, b = theirs.metrics(), ours.metrics()
        diff = differences(a, b)
        if not diff:
            break
        assert time.monotonic() < deadline, f"{len(diff)} differences:\n" + "\n".join(diff[:60])
        time.sleep(2)
    count = sum(1 for line in b.splitlines() if line and not line.startswith("#"))
    print(f"series: {count} in each, identical (families {b.count('# TYPE ')})")

    tree = module()
    up = run_suite(theirs, tree, ("TestDocumentation", "TestKubeStateMetricsErrorMetrics"))
    mine = run_suite(ours, tree, ("TestDocumentation", "TestKubeStateMetricsErrorMetrics"))
    print(f"upstream: { {t: r[0] for t, r in up.items()} }, ksm-py: { {t: r[0] for t, r in mine.items()} }")
    assert mine["TestKubeStateMetricsErrorMetrics"] == (True, [])
    assert mine["TestDocumentation"][0] or set(mine["TestDocumentation"][1]) <= set(up["TestDocumentation"][1])
    assert mine["TestDocumentation"][0] == up["TestDocumentation"][0]

    # An extension named explicitly under upstream's role (no events.k8s.io rule): Ready all the
    # same, and the body says what is forbidden and why.
    events = Exporter(spawn, ksm_py_argv(), kubeconfig, [WITH_EXTENSIONS], "ksm-py-events")
    wait_for("ksm-py with events forbidden ready", lambda: events.get(ready["port"], ready["path"])[0] == 200, 90)

    def body_names_events() -> bytes:
        got = events.get(ready["port"], ready["path"])[1]
        return got if b"forbidden: events" in got else b""
    body = wait_for("/readyz naming events", body_names_events, 30)
    print(f"ksm-py {WITH_EXTENSIONS[:40]}...,events,topology under upstream's role: {ready['path']}:\n{body.decode()}")
    assert body.startswith(b"OK\nforbidden: events: HTTP 403 ") and b"cannot list resource" in body
