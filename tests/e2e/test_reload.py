"""Files re-read while serving, as a mounted ConfigMap updates them: ``--config`` (the exporter
restarts in-process with the new options), ``--custom-resource-state-config-file`` (only the
changed custom resources are listed again) and the ``--tls-config`` certificates (new
connections get the new one).

Each directory is laid out as the kubelet mounts a ConfigMap: the files live in a timestamped
directory, ``..data`` is a symlink to it and each file a symlink through ``..data``; an update
writes a new directory and renames a new ``..data`` symlink over the old one (the only atomic
step), then removes the old directory.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import ssl
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.controlplane import wait_for
from ksm_py.gocompat.floats import format_float
from tests.conftest import Objects, free_port, http_get, ksm_py_argv
from tests.e2e._exporter import Exporter, ksm_py, upstream
from tests.expo import series

pytestmark = pytest.mark.e2e


def configmap_volume(root: Path, files: dict[str, str]) -> None:
    """Write ``files`` into ``root`` as the kubelet's atomic writer does (first write or update)."""
    root.mkdir(exist_ok=True)
    data = root / "..data"
    old = os.readlink(data) if data.is_symlink() else None
    stamp = root / f"..{uuid.uuid4().hex[:12]}"
    stamp.mkdir()
    for name, text in files.items():
        (stamp / name).write_text(text)
    staged = root / "..data_tmp"
    staged.symlink_to(stamp.name)
    os.replace(staged, data)
    for name in files:
        if not (root / name).is_symlink():
            (root / name).symlink_to(f"..data/{name}")
    if old is not None:
        shutil.rmtree(root / old)


def hash_value(text: str) -> float:
    """kube-state-metrics' md5HashAsMetricValue, computed here independently."""
    return float(int.from_bytes(hashlib.md5(text.encode()).digest()[:6], "little"))


def telemetry_value(exp: Exporter, name: str, **labels: str) -> float | None:
    found = series(exp.telemetry(), prefix=name + "{", where=list(labels.items()))
    if not found:
        return None
    (value,) = found.values()
    return float(value)


def families(exp: Exporter, port: int | None = None) -> set[str]:
    status, _, body = http_get(f"http://127.0.0.1:{port or exp.port}/metrics")
    assert status == 200
    return {line.split()[2] for line in body.decode().splitlines() if line.startswith("# TYPE ")}


def sample_names(exp: Exporter, port: int | None = None) -> set[str]:
    status, _, body = http_get(f"http://127.0.0.1:{port or exp.port}/metrics")
    assert status == 200
    return {line.split("{")[0].split()[0] for line in body.decode().splitlines() if line and line[0] != "#"}


def test_config_file_swap_restarts_the_exporter_in_process(restricted_kubeconfig_path: Path, spawn: Any,
                                                           objects: Objects, tmp_path: Path) -> None:
    """A ConfigMap update of --config changes what is served without the process exiting: the
    dropped resource and the families no longer allowed go at once (no stale series), the new
    resource and families appear; a file that does not load keeps the running configuration and is
    logged and counted; a changed port moves the server."""
    objects.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm1"}, "data": {"k": "v"}})
    objects.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s1"}, "stringData": {"k": "v"}})
    volume = tmp_path / "config-volume"
    first = "resources: {namespaces: {}, configmaps: {}}\nmetric_allowlist: {kube_namespace_created: {}, " \
            "kube_configmap_info: {}, kube_configmap_created: {}}\n"
    configmap_volume(volume, {"config.yaml": first})
    path = str(volume / "config.yaml")
    exp = ksm_py(spawn, restricted_kubeconfig_path, f"--config={path}", name="ksm-py-reload")
    pid = exp.proc.proc.pid
    exp.wait_ready()
    assert families(exp) == {"kube_namespace_created", "kube_configmap_info", "kube_configmap_created"}
    assert series(exp.metrics(), prefix="kube_configmap_info{",
                  where=[("namespace", objects.namespace), ("configmap", "cm1")])
    assert telemetry_value(exp, "kube_state_metrics_config_hash", type="config", filename=path) == hash_value(first)
    assert telemetry_value(exp, "kube_state_metrics_last_config_reload_successful", type="config",
                           filename=path) == 1
    started = telemetry_value(exp, "kube_state_metrics_last_config_reload_success_timestamp_seconds",
                              type="config", filename=path)
    assert started is not None

    # A comment only: the file is read again, no option changed, nothing restarts.
    configmap_volume(volume, {"config.yaml": "# reviewed\n" + first})
    wait_for("the comment-only change seen", lambda: telemetry_value(
        exp, "kube_state_metrics_config_hash", type="config", filename=path) == hash_value("# reviewed\n" + first),
        30, on_timeout=lambda: "\n" + exp.proc.tail())
    assert "no option did" in exp.proc.tail(200)
    assert "restarting the exporter" not in exp.proc.tail(200)

    second = "resources: {namespaces: {}, secrets: {}}\nmetric_denylist: {kube_namespace_created: {}}\n"
    configmap_volume(volume, {"config.yaml": second})
    wait_for("secrets served", lambda: "kube_secret_info" in families(exp), 30, on_timeout=lambda: "\n" + exp.proc.tail())
    exp.wait_ready()
    served = families(exp)
    assert not [f for f in served if f.startswith("kube_configmap_")], "a dropped resource leaves nothing behind"
    assert "kube_namespace_created" not in served and "kube_namespace_labels" in served
    assert not [n for n in sample_names(exp) if n.startswith("kube_configmap_") or n == "kube_namespace_created"]
    assert series(exp.metrics(), prefix="kube_secret_info{", where=[("namespace", objects.namespace), ("secret", "s1")])
    assert exp.proc.proc.poll() is None and exp.proc.proc.pid == pid
    assert telemetry_value(exp, "kube_state_metrics_config_hash", type="config", filename=path) == hash_value(second)
    reloaded = telemetry_value(exp, "kube_state_metrics_last_config_reload_success_timestamp_seconds",
                               type="config", filename=path)
    assert reloaded is not None and reloaded > started

    # A file that does not load: logged, counted, and the running configuration is still served.
    configmap_volume(volume, {"config.yaml": "resources: {namespaces: {}, widgets: {}}\n"})
    wait_for("the failed reload counted", lambda: telemetry_value(
        exp, "kube_state_metrics_last_config_reload_successful", type="config", filename=path) == 0, 30,
        on_timeout=lambda: "\n" + exp.proc.tail())
    assert "keeping the running configuration" in exp.proc.tail(200) and "widgets" in exp.proc.tail(200)
    assert families(exp) == served and exp.readyz() == 200
    assert telemetry_value(exp, "kube_state_metrics_config_hash", type="config", filename=path) == hash_value(second)
    assert telemetry_value(exp, "kube_state_metrics_last_config_reload_success_timestamp_seconds",
                           type="config", filename=path) == reloaded

    # Fixed, and the main port moved: the servers restart on the new port.
    new_port = free_port()
    third = second + f"port: {new_port}\n"
    configmap_volume(volume, {"config.yaml": third})

    def moved() -> bool:
        try:
            return "kube_secret_info" in families(exp, new_port)
        except OSError:
            return False
    wait_for("the main port moved", moved, 30, on_timeout=lambda: "\n" + exp.proc.tail())
    with pytest.raises(OSError):
        http_get(f"http://127.0.0.1:{exp.port}/metrics", timeout=5)
    assert telemetry_value(exp, "kube_state_metrics_last_config_reload_successful", type="config",
                           filename=path) == 1
    assert exp.proc.proc.poll() is None and exp.proc.proc.pid == pid


def test_config_file_swap_same_as_upstream(restricted_kubeconfig_path: Path, spawn: Any, objects: Objects,
                                          tmp_path: Path) -> None:
    """kube-state-metrics and ksm-py follow the same mounted --config: after the swap both serve the
    same families and series, and report the same hash of the same file."""
    objects.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm1"}, "data": {"k": "v"}})
    objects.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s1"}, "stringData": {"k": "v"}})
    volume = tmp_path / "config-volume"
    # The second file sets the same keys: kube-state-metrics decodes each file over the options of
    # the previous one, so a key that disappears keeps its old value there (not in ksm-py).
    first = "resources: {namespaces: {}, configmaps: {}}\nmetric_allowlist: {kube_namespace_created: {}, " \
            "kube_configmap_info: {}}\n"
    second = "resources: {namespaces: {}, secrets: {}}\nmetric_allowlist: {kube_namespace_labels: {}, " \
             "kube_secret_info: {}, kube_secret_type: {}}\n"
    configmap_volume(volume, {"config.yaml": first})
    path = str(volume / "config.yaml")
    ours = ksm_py(spawn, restricted_kubeconfig_path, f"--config={path}", name="ksm-py-reload-parity")
    theirs = upstream(spawn, restricted_kubeconfig_path, f"--config={path}")
    where = [("namespace", objects.namespace)]

    def same(want: str) -> bool:
        try:
            bodies = [e.metrics() for e in (ours, theirs)]
        except (OSError, AssertionError):
            return False  # kube-state-metrics restarting: its ports are closed for 3 s
        return (want in bodies[0] and series(bodies[0], where=where) == series(bodies[1], where=where)
                and families(ours) == families(theirs))
    wait_for("the same configmap series", lambda: same("kube_configmap_info{"), 60,
             on_timeout=lambda: "\n" + ours.proc.tail() + "\n" + theirs.proc.tail())
    assert families(ours) == {"kube_namespace_created", "kube_configmap_info"}

    def hashes() -> list[dict[str, str]]:
        return [series(e.telemetry(), prefix="kube_state_metrics_config_hash{") for e in (ours, theirs)]
    ours_hash, theirs_hash = hashes()
    assert ours_hash == theirs_hash and list(ours_hash.values()) == [format_float(hash_value(first))], hashes()

    configmap_volume(volume, {"config.yaml": second})
    wait_for("the same secret series", lambda: same("kube_secret_type{"), 60,
             on_timeout=lambda: "\n" + ours.proc.tail() + "\n" + theirs.proc.tail())
    assert families(ours) == {"kube_namespace_labels", "kube_secret_info", "kube_secret_type"}
    wait_for("the same hash", lambda: hashes()[0] == hashes()[1], 30)
    assert list(hashes()[0].values()) == [format_float(hash_value(second))]
    for e in (ours, theirs):
        assert telemetry_value(e, "kube_state_metrics_last_config_reload_successful", type="config",
                               filename=path) == 1
    assert "Restarting: kube-state-metrics" in theirs.proc.tail(200)
    assert ours.proc.proc.poll() is None and theirs.proc.proc.poll() is None


def _sockets(pid: int) -> int:
    fds = Path(f"/proc/{pid}/fd")
    count = 0
    for fd in fds.iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            pass  # closed meanwhile
    return count


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_repeated_reloads_leave_no_connection_behind(restricted_kubeconfig_path: Path, spawn: Any,
                                                     objects: Objects, tmp_path: Path) -> None:
    """Twelve reloads alternating two option sets: each replaced exporter's watch connections are
    closed (the sockets come back to what one exporter holds) and the exporter is freed: its
    memory does not add up reload after reload (it did: the killed watches' tracebacks kept it)."""
    for i in range(600):
        objects.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm{i}", "labels": {"i": str(i)}},
                        "data": {"k": "v" * 100}})
    objects.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s1"}, "stringData": {"k": "v"}})
    volume = tmp_path / "config-volume"
    configs = ["resources: {namespaces: {}, configmaps: {}}\n",
               "resources: {namespaces: {}, configmaps: {}, secrets: {}}\nlabels_allow_list: {configmaps: [i]}\n"]
    configmap_volume(volume, {"config.yaml": configs[0]})
    exp = ksm_py(spawn, restricted_kubeconfig_path, f"--config={volume / 'config.yaml'}", name="ksm-py-reloads",
                 env={**os.environ, "KSM_PY_CONFIG_POLL_SECONDS": "0.5"})
    pid = exp.proc.proc.pid
    exp.wait_ready()

    def settled(n: int) -> None:
        want_secrets = n % 2 == 1
        wait_for(f"reload {n}", lambda: ("kube_secret_info" in families(exp)) == want_secrets
                 and exp.readyz() == 200, 30, on_timeout=lambda: "\n" + exp.proc.tail())
        if want_secrets:
            assert series(exp.metrics(), prefix="kube_configmap_labels{", where=[("label_i", "7")])
    sockets: list[int] = []
    rss: list[int] = []
    for n in range(1, 13):
        configmap_volume(volume, {"config.yaml": configs[n % 2]})
        settled(n)
        sockets.append(_sockets(pid))
        rss.append(_rss_kib(pid))
    assert exp.proc.proc.poll() is None and exp.proc.proc.pid == pid
    assert exp.proc.tail(400).count("configuration reloaded") == 12
    # The same option set gives the same number of sockets after 2 reloads as after 12 (a leak
    # would add one per list/watch per reload).
    assert sockets[-1] <= sockets[1] + 2 and sockets[-2] <= sockets[0] + 2, sockets
    # Memory: warmed up after the first round trips, it stays (each replaced exporter kept alive
    # added about 1 MiB here).
    assert rss[-1] - rss[3] < 2 * 1024, rss


GROUP = "reload.example.com"

CRS_FIRST = f"""\
spec:
  resources:
    - groupVersionKind: {{group: {GROUP}, version: v1, kind: Gizmo}}
      metrics:
        - name: gizmo_replicas
          help: "Desired replicas"
          each: {{type: Gauge, gauge: {{path: [spec, replicas]}}}}
"""

CRS_SECOND = CRS_FIRST + """\
        - name: gizmo_ready
          help: "Ready replicas"
          each: {type: Gauge, gauge: {path: [status, ready], nilIsZero: true}}
"""


def _gizmo_crd() -> dict[str, Any]:
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"gizmos.{GROUP}"},
            "spec": {"group": GROUP, "scope": "Namespaced",
                     "names": {"kind": "Gizmo", "plural": "gizmos", "singular": "gizmo", "listKind": "GizmoList"},
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": schema}]}}


def test_custom_resource_state_file_swap_adds_a_family_without_relisting_the_rest(
        cluster: Any, restricted_kubeconfig_path: Path, spawn: Any, objects: Objects, tmp_path: Path) -> None:
    """A ConfigMap update of --custom-resource-state-config-file adds a family without a restart:
    the changed custom resource is listed again, the built-in resources and the CRD watch are not
    (their list counts stay); a file that does not load keeps the running configuration."""
    rbac = [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": {"name": "ksm-py-reload-crs"},
             "rules": [{"apiGroups": [GROUP], "resources": ["gizmos"], "verbs": ["list", "watch"]}]},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
             "metadata": {"name": "ksm-py-reload-crs"},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "ksm-py-reload-crs"},
             # The identity of restricted_kubeconfig_path (tests/conftest.py).
             "subjects": [{"kind": "ServiceAccount", "name": "ksm-py", "namespace": "kube-system"}]}]
    for obj in rbac:
        cluster.rest.apply(obj)
    crds = objects.api("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    try:
        crds.create(body=_gizmo_crd())
        wait_for("the Gizmo CRD established", lambda: any(
            c["type"] == "Established" and c["status"] == "True"
            for c in crds.get(name=f"gizmos.{GROUP}").to_dict().get("status", {}).get("conditions", [])), 60)
        objects.create({"apiVersion": f"{GROUP}/v1", "kind": "Gizmo", "metadata": {"name": "g1"},
                        "spec": {"replicas": 3}, "status": {"ready": 2}})
        volume = tmp_path / "crs-volume"
        configmap_volume(volume, {"crs.yaml": CRS_FIRST})
        path = str(volume / "crs.yaml")
        exp = ksm_py(spawn, restricted_kubeconfig_path, "--resources=namespaces,configmaps",
                     f"--custom-resource-state-config-file={path}", name="ksm-py-reload-crs")
        pid = exp.proc.proc.pid
        gvr = f"{GROUP}/v1, Resource=gizmos"
        wait_for("gizmo series", lambda: "kube_customresource_gizmo_replicas{" in exp.metrics(), 60,
                 on_timeout=lambda: "\n" + exp.proc.tail())
        exp.wait_ready()
        assert "kube_customresource_gizmo_ready" not in exp.metrics()
        assert telemetry_value(exp, "kube_state_metrics_config_hash", type="customresourceconfig",
                               filename=path) == hash_value(CRS_FIRST)

        def lists() -> dict[str, float]:
            return {r: telemetry_value(exp, "kube_state_metrics_list_total", result="success", resource=r) or 0
                    for r in ("namespaces", "configmaps", "customresourcedefinitions", gvr)}
        before = lists()
        assert all(before.values()), before

        configmap_volume(volume, {"crs.yaml": CRS_SECOND})
        wait_for("the new family", lambda: "kube_customresource_gizmo_ready{" in exp.metrics(), 30,
                 on_timeout=lambda: "\n" + exp.proc.tail())
        text = exp.metrics()
        assert list(series(text, prefix="kube_customresource_gizmo_ready{").values()) == ["2"]
        assert list(series(text, prefix="kube_customresource_gizmo_replicas{").values()) == ["3"]
        assert "kube_namespace_created{" in text
        after = lists()
        assert after[gvr] > before[gvr], "the changed custom resource is listed anew"
        for resource in ("namespaces", "configmaps", "customresourcedefinitions"):
            assert after[resource] == before[resource], f"{resource} was listed again: {before} -> {after}"
        assert f"stop watching {gvr}" in exp.proc.tail(200)
        assert telemetry_value(exp, "kube_state_metrics_config_hash", type="customresourceconfig",
                               filename=path) == hash_value(CRS_SECOND)
        assert exp.proc.proc.poll() is None and exp.proc.proc.pid == pid

        configmap_volume(volume, {"crs.yaml": "spec: ["})
        wait_for("the failed reload counted", lambda: telemetry_value(
            exp, "kube_state_metrics_last_config_reload_successful", type="customresourceconfig",
            filename=path) == 0, 30, on_timeout=lambda: "\n" + exp.proc.tail())
        assert "kube_customresource_gizmo_ready{" in exp.metrics()
        assert lists() == after
        assert exp.proc.proc.poll() is None
    finally:
        try:
            crds.delete(name=f"gizmos.{GROUP}")
        except Exception:  # noqa: BLE001 - already gone
            pass
        for obj in reversed(rbac):
            cluster.rest.delete(obj)


def test_tls_certificate_rotated_by_a_configmap_swap(restricted_kubeconfig_path: Path, spawn: Any,
                                                     tmp_path: Path) -> None:
    """The certificate and key in a mounted Secret/ConfigMap volume, swapped together by the
    ``..data`` symlink: a new connection gets the new certificate, without a restart."""
    from tests.e2e.test_tls import _cert, _key, _write

    def pem(cert: Any = None, key: Any = None) -> str:
        scratch = tmp_path / "scratch.pem"
        _write(scratch, cert, key)
        return scratch.read_text()

    first_key, second_key = _key(), _key()
    first, second = _cert("localhost", first_key, server=True), _cert("localhost", second_key, server=True)
    volume = tmp_path / "tls-volume"
    configmap_volume(volume, {"tls.crt": pem(first), "tls.key": pem(key=first_key)})
    web = tmp_path / "web.yaml"
    web.write_text(yaml.safe_dump({"tls_server_config": {"cert_file": str(volume / "tls.crt"),
                                                         "key_file": str(volume / "tls.key")}}))
    trusts_first, trusts_second = tmp_path / "first.crt", tmp_path / "second.crt"
    _write(trusts_first, first)
    _write(trusts_second, second)
    port, tport = free_port(), free_port()
    proc = spawn([*ksm_py_argv(),
                  f"--kubeconfig={restricted_kubeconfig_path}", "--resources=namespaces", "--host=127.0.0.1",
                  f"--port={port}", "--telemetry-host=127.0.0.1", f"--telemetry-port={tport}",
                  f"--tls-config={web}"], name="ksm-py-tls-swap")
    url = f"https://127.0.0.1:{port}/metrics"

    def served_with(cafile: Path) -> bool:
        ctx = ssl.create_default_context(cafile=str(cafile))
        try:
            with urllib.request.urlopen(url, context=ctx, timeout=10) as r:
                return bool(r.status == 200)
        except (OSError, ssl.SSLError):
            return False
    wait_for("HTTPS with the first certificate", lambda: served_with(trusts_first), 60,
             on_timeout=lambda: "\n" + proc.tail())
    configmap_volume(volume, {"tls.crt": pem(second), "tls.key": pem(key=second_key)})
    wait_for("the swapped certificate", lambda: served_with(trusts_second), 30, on_timeout=lambda: "\n" + proc.tail())
    assert not served_with(trusts_first), "a new connection no longer gets the old certificate"
    assert proc.proc.poll() is None, proc.tail()
