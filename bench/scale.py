"""ksm-py and upstream kube-state-metrics side by side on a synthetic kwok cluster.

    python -m bench.scale --preset 1k|10k|50k|75k [--results-dir DIR] [--workdir DIR]

Starts the local control plane (``harness.controlplane``, scale mode, kwok nodes), stops
kube-controller-manager and kube-scheduler (and kwok while populating), and creates the
workload directly: namespaces (with
their ``default`` ServiceAccount), Deployments and ReplicaSets (with a status written through the
``status`` subresource), pods owned by the ReplicaSets with ``spec.nodeName`` already set (kwok
makes them Running), Services, EndpointSlices, ConfigMaps, Secrets and Jobs.  Then both exporters
run with the same flags and are measured in the same run; see bench/README.md for every metric.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import dataclasses
import datetime
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import orjson

from harness import build
from harness.controlplane import ControlPlane
from ksm_py.sharding import shard_of

from ._util import Progress, cpu_seconds, group_cpu_seconds, log, median, percentile, proc_status, table
from .api import Api, ApiFailure, collection_path, object_path, parallel
from .objects import (
    configmap_manifest,
    deployment_manifest,
    deployment_status,
    endpointslice_manifest,
    job_manifest,
    namespace_manifest,
    pod_manifest,
    replicaset_manifest,
    running_status,
    secret_manifest,
    service_account_manifest,
    service_manifest,
    template_hash,
    workload_status,
)

ROOT = Path(__file__).resolve().parent.parent
# Tells this run's churn and probe values from an earlier run's on a reused cluster (an update
# writing the value already there changes nothing and sends no watch event).
RUN_ID = f"{os.getpid()}-{int(time.time())}"
# Measurements made so far by this process (each of --runs writes values of its own).
_measurements = [0]
PROBE_NS, PROBE_CM = "bench-probe", "probe"
# kube-state-metrics v2.20's default --resources. ksm-py's own default adds ``events`` and
# ``topology`` (families upstream does not have), so both get this list explicitly.
KSM_DEFAULT_RESOURCES = (
    "certificatesigningrequests,configmaps,cronjobs,daemonsets,deployments,endpointslices,"
    "horizontalpodautoscalers,ingresses,jobs,leases,limitranges,mutatingadmissionpolicies,"
    "mutatingadmissionpolicybindings,mutatingwebhookconfigurations,namespaces,networkpolicies,nodes,"
    "persistentvolumeclaims,persistentvolumes,poddisruptionbudgets,pods,replicasets,replicationcontrollers,"
    "resourcequotas,secrets,services,statefulsets,storageclasses,validatingadmissionpolicies,"
    "validatingadmissionpolicybindings,validatingwebhookconfigurations,volumeattachments"
)
# Raises the verbosity of client-go's reflector.go alone to 2 in upstream (klog's --vmodule), which
# adds one "Caches populated" line per resource and nothing else in a healthy run.
UPSTREAM_SYNC_VMODULE = "--vmodule=reflector=2"
# Control-plane processes whose CPU is measured during each exporter's initial sync, and their keys.
PLANE_KEYS = {"kube-apiserver": "apiserver", "etcd": "etcd"}
# Every resource checked for completeness, by the family that has one series per object.
COMPLETENESS = {
    "Pod": b"kube_pod_created{", "Node": b"kube_node_created{", "Namespace": b"kube_namespace_created{",
    "ConfigMap": b"kube_configmap_created{", "Secret": b"kube_secret_created{",
    "Service": b"kube_service_created{", "EndpointSlice": b"kube_endpointslice_created{",
    "Deployment": b"kube_deployment_created{", "ReplicaSet": b"kube_replicaset_created{",
    "Job": b"kube_job_created{",
}


@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    nodes: int
    pods: int
    churn_rate: float        # pod label updates per second
    churn_seconds: float
    replicas: int = 10       # pods per Deployment/ReplicaSet
    pods_per_namespace: int = 250
    scrapes: int = 20
    probes: int = 20

    @property
    def deployments(self) -> int:
        return math.ceil(self.pods / self.replicas)

    @property
    def namespaces(self) -> int:
        return math.ceil(self.pods / self.pods_per_namespace)

    @property
    def jobs(self) -> int:
        return max(1, self.pods // 100)


PRESETS = {
    "1k": Preset("1k", nodes=10, pods=1_000, churn_rate=20, churn_seconds=15),
    "10k": Preset("10k", nodes=100, pods=10_000, churn_rate=100, churn_seconds=30),
    "50k": Preset("50k", nodes=500, pods=50_000, churn_rate=200, churn_seconds=60),
    # The largest that fits 24 GiB with both exporters and the control plane (about 17 GiB at
    # peak, scaled from 50k); 100k would need about 23 GiB.
    "75k": Preset("75k", nodes=750, pods=75_000, churn_rate=250, churn_seconds=60, scrapes=5, probes=10),
    "100k": Preset("100k", nodes=1_000, pods=100_000, churn_rate=300, churn_seconds=60),
    # Kubernetes' scalability limits (5,000 nodes, 150,000 pods): see bench/README.md for what
    # it needs and whether it fits this machine.
    "150k": Preset("150k", nodes=5_000, pods=150_000, churn_rate=300, churn_seconds=60),
}


# -- cluster population ----------------------------------------------------------------------------
@dataclasses.dataclass
class App:
    index: int
    namespace: str
    name: str
    replicas: int
    deploy_uid: str = ""
    rs_uid: str = ""

    @property
    def rs_name(self) -> str:
        return f"{self.name}-{template_hash(self.name)}"


def plan_apps(p: Preset) -> list[App]:
    apps = []
    for a in range(p.deployments):
        first_pod = a * p.replicas
        apps.append(App(a, f"bench-{first_pod // p.pods_per_namespace:04d}", f"app-{a:05d}",
                        min(p.replicas, p.pods - first_pod)))
    return apps


def pod_names(p: Preset, apps: Sequence[App]) -> list[tuple[str, str]]:
    return [(a.namespace, f"{a.rs_name}-{r:05d}") for a in apps for r in range(a.replicas)]


def populate(api: Api, p: Preset, workers: int) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    apps = plan_apps(p)
    namespaces = sorted({a.namespace for a in apps}) + [PROBE_NS]
    timings: dict[str, dict[str, float]] = {}

    def run(label: str, items: Sequence[Any], fn: Callable[[Any], Any], n_workers: int = workers) -> list[Any]:
        results, seconds = parallel(label, items, fn, total=len(items), workers=n_workers)
        timings[label] = {"objects": len(items), "seconds": round(seconds, 2),
                          "per_s": round(len(items) / seconds, 1) if seconds else 0.0}
        return results

    started = time.monotonic()
    run("namespaces", [namespace_manifest(ns, i) for i, ns in enumerate(namespaces)], api.create)
    run("serviceaccounts", [service_account_manifest(ns) for ns in namespaces], api.create)

    def create_deployment(a: App) -> None:
        a.deploy_uid = api.create(deployment_manifest(a.namespace, a.name, a.index, a.replicas))["metadata"]["uid"]
    run("deployments", apps, create_deployment)

    def create_replicaset(a: App) -> None:
        rs = replicaset_manifest(a.namespace, a.name, a.index, a.replicas, a.deploy_uid)
        a.rs_uid = api.create(rs)["metadata"]["uid"]
    run("replicasets", apps, create_replicaset)

    def pod_ip(seq: int) -> str:
        node = seq % p.nodes  # kwok's addressing: 10.(128 + node / 256).(node % 256).0/24 per node
        return f"10.{128 + node // 256}.{node % 256}.{(seq // p.nodes) % 250 + 2}"

    def pods() -> Iterator[tuple[str, str, bytes, bytes]]:
        seq = 0
        for a in apps:
            for r in range(a.replicas):
                body = pod_manifest(a.namespace, a.name, a.index, r, f"kwok-node-{seq % p.nodes}", a.rs_name, a.rs_uid)
                status = {"status": running_status(body, pod_ip(seq), seq)}
                path = collection_path("Pod", a.namespace)
                yield path, body["metadata"]["name"], orjson.dumps(body), orjson.dumps(status)
                seq += 1

    def create_pod(item: tuple[str, str, bytes, bytes]) -> None:
        # Created, then made Running the way kwok would (2 writes per pod, like a kubelet's first).
        path, name, body, status = item
        api.request("POST", path, body, ok=(409,))
        api.request("PATCH", f"{path}/{name}/status", status, content_type="application/merge-patch+json")
    run("pods", list(pods()), create_pod)

    def write_status(a: App) -> None:
        api.merge_patch(object_path({"kind": "Deployment", "metadata": {"namespace": a.namespace, "name": a.name}},
                                    "status"), {"status": deployment_status(a.replicas)})
        api.merge_patch(object_path({"kind": "ReplicaSet", "metadata": {"namespace": a.namespace, "name": a.rs_name}},
                                    "status"), {"status": workload_status(a.replicas)})
    run("workload status", apps, write_status)

    names = pod_names(p, apps)
    by_app: dict[int, list[tuple[str, str, str]]] = {}
    seq = 0
    for a in apps:
        for r in range(a.replicas):
            ip = pod_ip(seq)
            by_app.setdefault(a.index, []).append((f"{a.rs_name}-{r:05d}", ip, f"kwok-node-{seq % p.nodes}"))
            seq += 1
    run("services", [service_manifest(a.namespace, a.name, a.index) for a in apps], api.create)
    run("endpointslices", [endpointslice_manifest(a.namespace, a.name, a.index, by_app[a.index]) for a in apps],
        api.create)
    run("configmaps", [configmap_manifest(a.namespace, f"{a.name}-config", a.index) for a in apps]
        + [configmap_manifest(PROBE_NS, PROBE_CM, 0)], api.create)
    run("secrets", [secret_manifest(a.namespace, f"{a.name}-tls", a.index) for a in apps], api.create)
    ns_list = sorted({a.namespace for a in apps})
    run("jobs", [job_manifest(ns_list[j % len(ns_list)], f"report-{j:05d}", j) for j in range(p.jobs)], api.create)
    elapsed = time.monotonic() - started
    total = sum(int(t["objects"]) for t in timings.values())
    stats = {"objects_created": total, "create_seconds": round(elapsed, 1),
             "objects_per_s": round(total / elapsed, 1), "pods_per_s": timings["pods"]["per_s"], "steps": timings,
             "namespaces": len(namespaces), "deployments": len(apps), "replicasets": len(apps),
             "services": len(apps), "endpointslices": len(apps), "configmaps": len(apps) + 1,
             "secrets": len(apps), "jobs": p.jobs, "pods": len(names), "nodes": p.nodes}
    return stats, names


def wait_pods_running(api: Api, total: int, timeout: float) -> float:
    """Until kwok has made every pod Running; returns the seconds waited."""
    progress = Progress("kwok: Running", total, interval=0)
    deadline = time.monotonic() + timeout
    while True:
        page = api.json("GET", "/api/v1/pods?resourceVersion=0&fieldSelector=status.phase%21%3DRunning",
                        accept="application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json")
        pending = len(page.get("items") or [])
        progress.update(total - pending)
        if pending == 0:
            return progress.close()
        if time.monotonic() > deadline:
            progress.close()
            raise TimeoutError(f"{pending} pods still not Running after {timeout:.0f}s (is kwok keeping up?)")
        time.sleep(2)


def plane_pids(plane: ControlPlane) -> dict[str, int]:
    return {name: plane.processes[name].pid for name in PLANE_KEYS if name in plane.processes}


def stop_component(plane: ControlPlane, name: str) -> None:
    proc = plane.processes.pop(name, None)
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# -- exporters -------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def precompile_ksm_py(cache: Path) -> None:
    """ksm-py starts from bytecode compiled beforehand, as in its image (``pip install`` compiles
    it): with PYTHONDONTWRITEBYTECODE set (as on CI machines) every start would compile its 80-odd
    modules again, about 0.1 s of CPU that a deployed ksm-py never spends. The bytecode goes to
    ``cache`` (PYTHONPYCACHEPREFIX), not into the source tree; exporters inherit the setting."""
    import compileall

    import ksm_py

    sys.pycache_prefix = str(cache)
    os.environ["PYTHONPYCACHEPREFIX"] = str(cache)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    for directory in ksm_py.__path__:
        compileall.compile_dir(directory, quiet=1)


def ksm_py_argv() -> list[str]:
    exe = shutil.which("ksm-py")
    return [exe] if exe else [sys.executable, "-m", "ksm_py"]


class Exporter:
    """One exporter process; with ``shard=(i, n)`` shard i of n (``name`` becomes ``group/i``)."""

    def __init__(self, group: str, argv: list[str], kubeconfig: Path, logdir: Path,
                 resources: str = KSM_DEFAULT_RESOURCES, shard: tuple[int, int] | None = None) -> None:
        self.group = group
        self.shard = shard
        self.name = f"{group}/{shard[0]}" if shard else group
        self.port, self.tport = free_port(), free_port()
        self.argv = [*argv, f"--kubeconfig={kubeconfig}", "--host=127.0.0.1", f"--port={self.port}",
                     "--telemetry-host=127.0.0.1", f"--telemetry-port={self.tport}", "--enable-gzip-encoding"]
        if resources:
            self.argv.append(f"--resources={resources}")
        if shard:
            self.argv += [f"--shard={shard[0]}", f"--total-shards={shard[1]}"]
        if group == "upstream":
            # Its readiness signal for the bench: client-go's reflector logs "Caches populated" (at
            # V(2), reflector.go) once a resource's initial list is in the store; only that file's
            # verbosity is raised, one line per resource (see CacheSyncLog).
            self.argv.append(UPSTREAM_SYNC_VMODULE)
        self.log = logdir / (f"{group}-shard{shard[0]}.log" if shard else f"{group}.log")
        self.proc: subprocess.Popen[bytes] | None = None
        self.t0 = 0.0
        self.wall0 = 0.0
        self.log_offset = 0  # the log is appended to over runs: where this start's lines begin

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.log_offset = out.tell()
            self.wall0, self.t0 = time.time(), time.monotonic()
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True, preexec_fn=_die_with_parent)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            tail = self.log.read_text(errors="replace").splitlines()[-30:]
            raise RuntimeError(f"{self.name} exited:\n" + "\n".join(tail))

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


class LineCounter:
    """Counts sample lines by prefix in a streamed text body (handles lines split across chunks).

    With ``fingerprint``, also sums a 64-bit hash of every series (the line without its value): two
    bodies, or a union of disjoint bodies, with the same count and sum hold the same series."""

    def __init__(self, prefixes: Sequence[bytes], fingerprint: bool = False) -> None:
        self.prefixes = list(prefixes)
        self.counts = dict.fromkeys(self.prefixes, 0)
        self.samples = 0
        self.fingerprint = 0 if fingerprint else None
        self._tail = b"\n"

    def feed(self, chunk: bytes) -> None:
        buf = self._tail + chunk
        cut = buf.rfind(b"\n")
        if cut < 0:
            self._tail = buf
            return
        whole, self._tail = buf[:cut + 1], buf[cut:]
        # Every complete line in ``whole`` is preceded by a newline (the kept one included).
        for p in self.prefixes:
            self.counts[p] += whole.count(b"\n" + p)
        self.samples += whole.count(b"\n") - 1 - whole.count(b"\n#")
        if self.fingerprint is not None:
            self.fingerprint = (self.fingerprint + series_fingerprint(whole.split(b"\n"))) & _MASK64


_MASK64 = (1 << 64) - 1


def series_fingerprint(lines: Sequence[bytes]) -> int:
    """Sum (mod 2**64) of a hash of each sample line's series (name and labels, value cut off).
    Order-free, so it adds up over chunks and over shards. Python's bytes hash: one process only."""
    return sum(hash(line[:line.rfind(b" ")]) & _MASK64 for line in lines if line and line[0] != 35) & _MASK64


@dataclasses.dataclass
class Scrape:
    seconds: float
    size: int
    status: int
    encoding: str


def http_get(port: int, path: str, *, gzip: bool = False, sink: Callable[[bytes], None] | None = None,
             timeout: float = 300) -> Scrape:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        started = time.perf_counter()
        conn.request("GET", path, headers={"Accept-Encoding": "gzip"} if gzip else {})
        resp = conn.getresponse()
        size = 0
        while True:
            chunk = resp.read(1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if sink is not None:
                sink(chunk)
        return Scrape(time.perf_counter() - started, size, resp.status, resp.getheader("Content-Encoding") or "")
    finally:
        conn.close()


class HealthzPoller(threading.Thread):
    """GET /healthz every 50 ms; latencies after the first success until stopped."""

    def __init__(self, port: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True, name=f"healthz-{port}")
        self.port, self.interval = port, interval
        self.latencies: list[float] = []
        self.errors = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                result = http_get(self.port, "/healthz", timeout=30)
                if result.status == 200:
                    self.latencies.append(result.seconds)
                elif self.latencies:
                    self.errors += 1
            except OSError:
                if self.latencies:
                    self.errors += 1
            self._stop_event.wait(self.interval)

    def finish(self) -> dict[str, Any]:
        self._stop_event.set()
        self.join(35)
        return {"healthz_polls": len(self.latencies), "healthz_errors": self.errors,
                "healthz_max_s": max(self.latencies) if self.latencies else None,
                "healthz_p99_s": percentile(self.latencies, 99) if self.latencies else None}


_KLOG = re.compile(rb"^[IWEF](\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) ")
_ACTIVE = re.compile(rb'"Active resources" activeStoreNames="([^"]*)"')
_POPULATED = re.compile(rb'"Caches populated" type="([^"]+)"')


def klog_time(line: bytes, year: int) -> float | None:
    """The Unix time of a klog text line's header (``I1204 10:32:35.331312 ...``, local time, no year)."""
    m = _KLOG.match(line)
    if not m:
        return None
    mon, day, hh, mm, ss, us = (int(g) for g in m.groups())
    return time.mktime((year, mon, day, hh, mm, ss, 0, 0, -1)) + us / 1e6


class CacheSyncLog:
    """Upstream's initial sync, read from its log (fed in chunks, lines may be split).

    kube-state-metrics v2.20 logs ``"Active resources" activeStoreNames="a,b,..."`` once its
    reflectors are built (internal/store/builder.go), one reflector per resource when every
    namespace is watched (the bench's case). client-go v0.36's reflector logs ``"Caches populated"
    type="*v1.Pod"`` at V(2) (tools/cache/reflector.go:507) after the initial list or watch-list
    went through ``store.Replace``, which for kube-state-metrics' MetricsStore renders every object
    (pkg/metrics_store/metrics_store.go): from then on /metrics has that resource complete. A
    reflector that lists again later logs it again: types are counted once."""

    def __init__(self, year: int | None = None) -> None:
        self.year = year or time.localtime().tm_year
        self.active: list[str] | None = None
        self.populated: dict[str, float | None] = {}  # type -> klog time of its first "Caches populated"
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        buf = self._tail + chunk
        *lines, self._tail = buf.split(b"\n")
        for line in lines:
            if self.active is None and (m := _ACTIVE.search(line)):
                self.active = [r for r in m.group(1).decode().split(",") if r]
            elif m := _POPULATED.search(line):
                self.populated.setdefault(m.group(1).decode(), klog_time(line, self.year))

    def done(self) -> bool:
        return self.active is not None and len(self.populated) >= len(self.active)

    def last_populated(self) -> float | None:
        """The log time of the last resource's first "Caches populated" (None before it is done)."""
        times = [t for t in self.populated.values() if t is not None]
        return max(times) if self.done() and len(times) == len(self.populated) else None

    def pending(self) -> str:
        if self.active is None:
            return "no 'Active resources' line yet"
        return f"{len(self.populated)} of {len(self.active)} resources populated"


class ReadySignal:
    """The cheap readiness signal of one exporter, polled every 50 ms during its initial sync.

    ksm-py: telemetry ``/readyz`` answers 200 once every reflector has committed its initial list
    (``App.ready``: ``synced`` is set after the last page's objects are committed to the stores,
    ksm_py/kube/reflector.py). Upstream: its log says every active resource's cache is populated
    (``CacheSyncLog``); its own telemetry ``/readyz`` answers 200 as soon as its registry gathers
    any metric (pkg/app/server.go, buildTelemetryServer), before any list, and its
    ``kube_state_metrics_list_total`` never counts: client-go v0.36 syncs through watch-list
    (``sendInitialEvents=true``), where no List call is made."""

    def __init__(self, exp: Exporter) -> None:
        self.exp = exp
        self.log = CacheSyncLog() if exp.group == "upstream" else None
        self._offset = exp.log_offset

    def poll(self) -> bool:
        if self.log is None:
            try:
                return http_get(self.exp.tport, "/readyz", timeout=30).status == 200
            except OSError:
                return False
        with self.exp.log.open("rb") as f:
            f.seek(self._offset)
            chunk = f.read()
        self._offset += len(chunk)
        self.log.feed(chunk)
        return self.log.done()

    def describe(self) -> str:
        return "telemetry /readyz" if self.log is None else "log: Caches populated"

    def pending(self) -> str:
        return "telemetry /readyz not 200" if self.log is None else self.log.pending()


def complete_scrape(exp: Exporter, expected: dict[str, int]) -> bool:
    """One /metrics scrape: does it hold a series for every object of every checked kind?"""
    counter = LineCounter([COMPLETENESS[k] for k in expected])
    try:
        ok = http_get(exp.port, "/metrics", sink=counter.feed).status == 200
    except OSError:
        return False
    return ok and all(counter.counts[COMPLETENESS[k]] >= n for k, n in expected.items())


def wait_ready(exp: Exporter, expected: dict[str, int], timeout: float,
               plane: dict[str, int] | None = None) -> dict[str, Any]:
    """Start ``exp`` and measure its initial sync: time to ready, CPU (its own, its process group's
    and, given ``plane`` (name -> pid), the control plane's), peak RSS, /healthz.

    Ready is when the cheap signal (``ReadySignal``, polled every 50 ms) first says every resource
    is synced, confirmed by a /metrics scrape started right after it that holds every object. Every
    reading is taken at the signal, before that scrape, so serving it is not counted. Should the
    scrape find objects missing (the signal was early), scrapes follow every 100 ms and ready is the
    start of the first complete one, with the readings taken just before it (``confirm_scrapes`` > 1
    in the JSON, and a warning)."""
    poller = HealthzPoller(exp.port)
    plane = plane or {}
    plane0 = {name: cpu_seconds(pid) for name, pid in plane.items()}
    exp.start()
    poller.start()
    signal = ReadySignal(exp)
    deadline = exp.t0 + timeout
    polls = 0

    def readings(t: float) -> dict[str, Any]:
        own, group, children = group_cpu_seconds(exp.pid)
        mem = proc_status(exp.pid)
        out = {"ready_s": t - exp.t0, "sync_cpu_s": own, "sync_group_cpu_s": group, "children_at_ready": children,
               "sync_peak_rss": mem["VmHWM"], "rss_at_ready": mem["VmRSS"]}
        for name, pid in plane.items():
            out[f"{PLANE_KEYS[name]}_sync_cpu_s"] = cpu_seconds(pid) - plane0[name]
        return out

    try:
        while True:
            exp.alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{exp.name} not ready after {timeout:.0f}s ({signal.pending()})")
            t = time.monotonic()
            polls += 1
            if signal.poll():
                break
            time.sleep(0.05)
        at = readings(t)
    finally:
        health = poller.finish()
    confirm = 0
    while True:
        confirm += 1
        if complete_scrape(exp, expected):
            break
        exp.alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{exp.name}: {signal.describe()} said synced, but /metrics is not complete "
                               f"after {timeout:.0f}s")
        time.sleep(0.1)
        at = readings(time.monotonic())
    if confirm > 1:
        log(f"warning: {exp.name}: {signal.describe()} said synced {confirm - 1} scrape(s) before /metrics was "
            "complete; ready is the start of the first complete scrape")
    out = {**at, "ready_signal": signal.describe(), "ready_polls": polls, "confirm_scrapes": confirm, **health}
    if signal.log is not None and (logged := signal.log.last_populated()) is not None:
        # The exact moment in upstream's own log (the poll above sees it within 50 ms).
        out["ready_logged_s"] = logged - exp.wall0
    return out


def verify(exp: Exporter, expected: dict[str, int]) -> dict[str, Any]:
    counter = LineCounter([COMPLETENESS[k] for k in expected], fingerprint=True)
    result = http_get(exp.port, "/metrics", sink=counter.feed)
    counts = {k: counter.counts[COMPLETENESS[k]] for k in expected}
    missing = {k: (counts[k], n) for k, n in expected.items() if counts[k] < n}
    if result.status != 200 or missing:
        raise RuntimeError(f"{exp.name}: incomplete /metrics (status {result.status}; have, want: {missing})")
    return {"samples": counter.samples, "series_by_kind": counts, "fingerprint": counter.fingerprint}


def scrape_round(exps: Sequence[Exporter], n: int, gzip: bool) -> dict[str, list[Scrape]]:
    out: dict[str, list[Scrape]] = {e.name: [] for e in exps}
    progress = Progress("scrapes gzip" if gzip else "scrapes plain", n * len(exps), interval=0)
    done = 0
    for _ in range(n):
        for e in exps:
            s = http_get(e.port, "/metrics", gzip=gzip)
            if s.status != 200 or (gzip and s.encoding != "gzip"):
                raise RuntimeError(f"{e.name}: scrape answered {s.status} encoding {s.encoding!r}")
            out[e.name].append(s)
            done += 1
            progress.update(done)
    progress.close()
    return out


# -- churn and watch-to-metric probes --------------------------------------------------------------
class Churner(threading.Thread):
    """Merge-patches a label on pods at a fixed rate (bounded in count and time)."""

    def __init__(self, api: Api, pods: Sequence[tuple[str, str]], rate: float, seconds: float) -> None:
        super().__init__(daemon=True, name="churn")
        self.api, self.pods, self.rate, self.seconds = api, pods, rate, seconds
        self.tag = f"{RUN_ID}-{_measurements[0]}"
        self.total = int(rate * seconds)
        self.done = 0
        self.errors = 0
        self.latencies: list[float] = []
        self.started = self.ended = 0.0

    def run(self) -> None:
        lock = threading.Lock()
        ticks = iter(range(self.total))
        self.started = time.monotonic()
        deadline = self.started + self.seconds * 2 + 30

        def worker() -> None:
            while time.monotonic() < deadline:
                with lock:
                    i = next(ticks, None)
                if i is None:
                    return
                delay = self.started + i / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                ns, name = self.pods[(i * 7919) % len(self.pods)]
                t = time.perf_counter()
                try:
                    self.api.merge_patch(f"/api/v1/namespaces/{ns}/pods/{name}",
                                         {"metadata": {"labels": {"bench-churn": f"{self.tag}-{i}"}}})
                    self.latencies.append(time.perf_counter() - t)
                    self.done += 1
                except (OSError, ApiFailure):
                    self.errors += 1

        workers = [threading.Thread(target=worker, daemon=True) for _ in range(max(4, min(32, int(self.rate) // 8)))]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        self.ended = time.monotonic()


def probe_value(body: bytes) -> float | None:
    key = f'kube_configmap_metadata_resource_version{{namespace="{PROBE_NS}",configmap="{PROBE_CM}"}} '.encode()
    at = body.find(key)
    if at < 0:
        return None
    end = body.find(b"\n", at)
    return float(body[at + len(key):end])


def probe_once(api: Api, exps: Sequence[Exporter], k: int, timeout: float = 60) -> dict[str, float | None]:
    """Update the probe ConfigMap; seconds until each exporter's /metrics shows its new resourceVersion."""
    obj = api.merge_patch(f"/api/v1/namespaces/{PROBE_NS}/configmaps/{PROBE_CM}", {"data": {"probe": f"{RUN_ID}-{_measurements[0]}-{k}"}})
    t_resp = time.perf_counter()
    rv = float(obj["metadata"]["resourceVersion"])
    seen: dict[str, float | None] = {}

    def watch(e: Exporter) -> None:
        deadline = t_resp + timeout
        while time.perf_counter() < deadline:
            chunks: list[bytes] = []
            s = http_get(e.port, "/metrics?resources=configmaps", sink=chunks.append)
            value = probe_value(b"".join(chunks))
            if value is not None and value >= rv:
                seen[e.name] = time.perf_counter() - t_resp
                return
            time.sleep(0.01)
            del s
        seen[e.name] = None

    threads = [threading.Thread(target=watch, args=(e,), daemon=True) for e in exps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 30)
    return seen


def settle(api: Api, plane: ControlPlane, expected: dict[str, int], timeout: float = 600) -> tuple[float, float]:
    """Until kube-apiserver serves every kind complete from its watch cache (``resourceVersion=0``)
    and its CPU stays below a quarter of a core for two 3-second windows in a row (a restarted
    API server fills its caches and its exporters' last watches go away for a while). Returns the
    seconds waited and the API server's CPU in the last window (cores: its idle load, kwok's node
    heartbeats mostly, which the "kube-apiserver CPU during sync" rows include)."""
    started = time.monotonic()
    deadline = started + timeout
    for kind, n in expected.items():
        while time.monotonic() < deadline:
            page = api.json("GET", collection_path(kind) + "?resourceVersion=0",
                            accept="application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json")
            if len(page.get("items") or []) >= n:
                break
            time.sleep(1)
    pid = plane.processes["kube-apiserver"].pid
    quiet = 0
    busy = float("nan")
    while quiet < 2 and time.monotonic() < deadline:
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(3)
        busy = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
        quiet = quiet + 1 if busy < 0.25 else 0
    return time.monotonic() - started, busy


def measure(p: Preset, api: Api, plane: ControlPlane, names: Sequence[tuple[str, str]],
            expected: Sequence[dict[str, int]], resources: str, logdir: Path, order: Sequence[str],
            started: list[Exporter], scrapes: int | None = None) -> dict[str, Any]:
    """One run: both exporters started (in ``order``, each instance synced alone), scraped, churned,
    stopped. ``expected`` holds the object counts per shard: one entry, or one per shard of
    ``--total-shards`` (then every exporter runs as that many instances, ``group/shard``)."""
    exporters: list[Exporter] = []
    _measurements[0] += 1
    total = len(expected)
    n_scrapes = scrapes or p.scrapes
    try:
        argv = {"ksm-py": ksm_py_argv(), "upstream": [str(build.KSM.binary())]}
        exporters = [Exporter(group, argv[group], plane.admin_kubeconfig, logdir, resources,
                              (i, total) if total > 1 else None)
                     for group in order for i in range(total)]
        started.extend(exporters)
        results: dict[str, dict[str, Any]] = {}
        for e in exporters:
            want = expected[e.shard[0] if e.shard else 0]
            log(f"starting {e.name}; waiting for its readiness signal and a complete /metrics")
            results[e.name] = wait_ready(e, want, 120 + sum(want.values()) / 50, plane_pids(plane))
            r = results[e.name]
            log(f"{e.name} ready in {r['ready_s']:.2f}s (CPU {r['sync_cpu_s']:.1f}s, peak RSS "
                f"{r['sync_peak_rss'] / 2**20:.0f} MiB; kube-apiserver CPU {r.get('apiserver_sync_cpu_s', 0):.1f}s, "
                f"etcd {r.get('etcd_sync_cpu_s', 0):.1f}s)")
        time.sleep(3)
        for e in exporters:
            results[e.name].update(verify(e, expected[e.shard[0] if e.shard else 0]))

        log(f"{n_scrapes} scrapes of each, plain then gzip")
        for gz in (False, True):
            rounds = scrape_round(exporters, n_scrapes, gz)
            tag = "gzip" if gz else "plain"
            for name, done in rounds.items():
                secs = [s.seconds for s in done]
                results[name].update({f"{tag}_p50_s": percentile(secs, 50), f"{tag}_p99_s": percentile(secs, 99),
                                      f"{tag}_max_s": max(secs), f"{tag}_all_s": secs,
                                      f"size_{tag}": median([s.size for s in done])})
        time.sleep(3)
        for e in exporters:
            results[e.name]["steady_rss"] = proc_status(e.pid)["VmRSS"]

        # The probe ConfigMap is in one shard: only its instances can show the update.
        probe_uid = api.json("GET", f"/api/v1/namespaces/{PROBE_NS}/configmaps/{PROBE_CM}")["metadata"]["uid"]
        probed = [e for e in exporters if e.shard is None or e.shard[0] == shard_of(probe_uid, total)]
        log(f"churn: {p.churn_rate:.0f} pod label updates/s for {p.churn_seconds:.0f}s, "
            f"{p.probes} watch-to-metric probes of {', '.join(e.name for e in probed)}")
        churn = Churner(api, names, p.churn_rate, p.churn_seconds)
        cpu0 = {e.name: cpu_seconds(e.pid) for e in exporters}
        wall0 = time.monotonic()
        churn.start()
        probes: dict[str, list[float | None]] = {e.name: [] for e in probed}
        progress = Progress("churn + probes", p.probes, interval=0)
        for k in range(p.probes):
            due = wall0 + k * p.churn_seconds / p.probes
            time.sleep(max(0.0, due - time.monotonic()))
            for name, v in probe_once(api, probed, k).items():
                probes[name].append(v)
            progress.update(k + 1, f"churned {churn.done}/{churn.total}")
        churn.join(p.churn_seconds * 2 + 60)
        progress.close(f"churned {churn.done}/{churn.total}")
        time.sleep(2)  # let the last events drain
        wall = time.monotonic() - wall0
        for e in exporters:
            used = cpu_seconds(e.pid) - cpu0[e.name]
            results[e.name].update({"churn_cpu_s": used, "churn_cpu_pct": used / wall * 100, "churn_wall_s": wall})
            if e.name in probes:
                ok = [v for v in probes[e.name] if v is not None]
                results[e.name].update({
                    "w2m_p50_s": percentile(ok, 50) if ok else None, "w2m_p99_s": percentile(ok, 99) if ok else None,
                    "w2m_all_s": probes[e.name], "w2m_timeouts": len(probes[e.name]) - len(ok)})
        churn_stats = {"updates": churn.done, "errors": churn.errors, "target_rate": p.churn_rate,
                       "achieved_rate": round(churn.done / max(1e-9, churn.ended - churn.started), 1),
                       "patch_p50_s": percentile(churn.latencies, 50), "patch_p99_s": percentile(churn.latencies, 99)}
        time.sleep(3)
        for e in exporters:
            mem = proc_status(e.pid)
            results[e.name].update({"rss_after_churn": mem["VmRSS"], "peak_rss": mem["VmHWM"]})

        out: dict[str, Any] = {"order": list(order), "exporters": results, "churn": churn_stats}
        if total == 1:
            out["ratio"] = {key: _ratio(results, key) for _, key, _ in ROWS}
        return out
    finally:
        for e in exporters:
            e.stop()


def _ratio(results: dict[str, dict[str, Any]], key: str) -> float | None:
    a, b = results["ksm-py"].get(key), results["upstream"].get(key)
    return a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else None


# -- the run ---------------------------------------------------------------------------------------
ROWS: list[tuple[str, str, Callable[[float], str]]] = [
    ("time to ready (s)", "ready_s", lambda v: f"{v:.2f}"),
    ("CPU for initial sync (s)", "sync_cpu_s", lambda v: f"{v:.2f}"),
    ("CPU for initial sync with children (s)", "sync_group_cpu_s", lambda v: f"{v:.2f}"),
    ("kube-apiserver CPU during sync (s)", "apiserver_sync_cpu_s", lambda v: f"{v:.2f}"),
    ("etcd CPU during sync (s)", "etcd_sync_cpu_s", lambda v: f"{v:.2f}"),
    ("peak RSS during sync (MiB)", "sync_peak_rss", lambda v: f"{v / 2**20:.0f}"),
    ("/healthz worst during sync (ms)", "healthz_max_s", lambda v: f"{v * 1e3:.1f}"),
    ("/healthz p99 during sync (ms)", "healthz_p99_s", lambda v: f"{v * 1e3:.1f}"),
    ("steady RSS after scrapes (MiB)", "steady_rss", lambda v: f"{v / 2**20:.0f}"),
    ("samples in /metrics", "samples", lambda v: f"{v:,.0f}"),
    ("response size plain (MB)", "size_plain", lambda v: f"{v / 1e6:.1f}"),
    ("response size gzip (MB)", "size_gzip", lambda v: f"{v / 1e6:.2f}"),
    ("scrape plain p50 (ms)", "plain_p50_s", lambda v: f"{v * 1e3:.0f}"),
    ("scrape plain p99 (ms)", "plain_p99_s", lambda v: f"{v * 1e3:.0f}"),
    ("scrape gzip p50 (ms)", "gzip_p50_s", lambda v: f"{v * 1e3:.0f}"),
    ("scrape gzip p99 (ms)", "gzip_p99_s", lambda v: f"{v * 1e3:.0f}"),
    ("CPU during churn (s)", "churn_cpu_s", lambda v: f"{v:.2f}"),
    ("CPU during churn (% of a core)", "churn_cpu_pct", lambda v: f"{v:.1f}"),
    ("watch-to-metric p50 (ms)", "w2m_p50_s", lambda v: f"{v * 1e3:.0f}"),
    ("watch-to-metric p99 (ms)", "w2m_p99_s", lambda v: f"{v * 1e3:.0f}"),
    ("RSS after churn (MiB)", "rss_after_churn", lambda v: f"{v / 2**20:.0f}"),
    ("peak RSS overall (MiB)", "peak_rss", lambda v: f"{v / 2**20:.0f}"),
]


def _cell(values: Sequence[float], fmt: Callable[[float], str]) -> str:
    """The median, and the range over the runs when there are several."""
    if not values:
        return "n/a"
    mid = fmt(median(values))
    return mid if len(values) == 1 else f"{mid} [{fmt(min(values))}-{fmt(max(values))}]"


def _ratio_cell(per_run: Sequence[float], both_measured: bool) -> str:
    """The ratio's cell; "-" when both exporters have values but upstream's is 0 in every run
    (a ratio to nothing: e.g. a control-plane CPU below one clock tick), "n/a" when one is missing."""
    if not per_run and both_measured:
        return "-"
    return _cell(per_run, lambda v: f"{v:.2f}")


def result_table(runs: Sequence[dict[str, Any]]) -> tuple[str, dict[str, float | None]]:
    """Per row: each exporter's median over the runs, and the ratio's median (ranges in brackets)."""
    rows, ratios = [], {}
    for label, key, fmt in ROWS:
        cells = [label]
        measured = []
        for name in ("ksm-py", "upstream"):
            vals = [r["exporters"][name][key] for r in runs if isinstance(r["exporters"][name].get(key), (int, float))]
            cells.append(_cell(vals, fmt))
            measured.append(bool(vals))
        per_run = [r["ratio"][key] for r in runs if r["ratio"].get(key) is not None]
        ratios[key] = median(per_run) if per_run else None
        cells.append(_ratio_cell(per_run, all(measured)))
        rows.append(cells)
    return table(["metric", "ksm-py", "upstream", "ksm-py/upstream"], rows), ratios


def medians(runs: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each exporter's values: numbers as the median over the runs, anything else from the last run."""
    out: dict[str, dict[str, Any]] = {}
    for name, last in runs[-1]["exporters"].items():
        out[name] = {k: median([r["exporters"][name][k] for r in runs])
                     if isinstance(v, (int, float)) and all(isinstance(r["exporters"][name].get(k), (int, float))
                                                            for r in runs) else v
                     for k, v in last.items()}
    return out


# -- sharded runs ----------------------------------------------------------------------------------
# How a row adds up over one exporter's shards: what the fleet uses together (sum), or what the
# slowest instance takes (max: Prometheus scrapes the shards in parallel; a probe is seen by one).
SHARD_AGG: dict[str, str] = {
    "ready_s": "max", "sync_cpu_s": "sum", "sync_group_cpu_s": "sum", "apiserver_sync_cpu_s": "sum",
    "etcd_sync_cpu_s": "sum", "sync_peak_rss": "sum", "healthz_max_s": "max", "healthz_p99_s": "max",
    "steady_rss": "sum", "samples": "sum", "size_plain": "sum", "size_gzip": "sum", "plain_p50_s": "max",
    "plain_p99_s": "max", "gzip_p50_s": "max", "gzip_p99_s": "max", "churn_cpu_s": "sum", "churn_cpu_pct": "sum",
    "w2m_p50_s": "max", "w2m_p99_s": "max", "rss_after_churn": "sum", "peak_rss": "sum",
}
GROUPS = ("ksm-py", "upstream")


def expected_per_shard(uids_by_kind: dict[str, Sequence[str]], total: int) -> list[dict[str, int]]:
    """Objects of each kind that each of ``total`` shards keeps (the same assignment as both exporters)."""
    out = [dict.fromkeys(uids_by_kind, 0) for _ in range(total)]
    for kind, uids in uids_by_kind.items():
        for uid in uids:
            out[shard_of(uid, total)][kind] += 1
    return out


def shard_total(run: dict[str, Any], group: str, total: int, key: str) -> float | None:
    """One row of one exporter summed (or the max) over its shards; None when no shard has it."""
    vals = [v for i in range(total)
            if isinstance(v := run["exporters"].get(f"{group}/{i}", {}).get(key), (int, float))]
    if not vals:
        return None
    return sum(vals) if SHARD_AGG[key] == "sum" else max(vals)


def sharded_table(runs: Sequence[dict[str, Any]], total: int) -> tuple[str, dict[str, float | None]]:
    """Per row: every shard of each exporter, the shards' sum or max, and the ratio of those
    (cells are the median over the runs with the range in brackets)."""
    headers = ["metric"]
    for group in GROUPS:
        headers += [f"{group} {i}/{total}" for i in range(total)] + [f"{group} all"]
    headers.append("ksm-py/upstream (all)")
    rows, ratios = [], {}
    for label, key, fmt in ROWS:
        cells = [f"{label} [{SHARD_AGG[key]}]"]
        for group in GROUPS:
            for i in range(total):
                vals = [v for r in runs if isinstance(v := r["exporters"].get(f"{group}/{i}", {}).get(key), (int, float))]
                cells.append(_cell(vals, fmt))
            cells.append(_cell([v for r in runs if (v := shard_total(r, group, total, key)) is not None], fmt))
        per_run, measured = [], False
        for r in runs:
            a, b = shard_total(r, "ksm-py", total, key), shard_total(r, "upstream", total, key)
            measured = measured or (a is not None and b is not None)
            if a is not None and b:
                per_run.append(a / b)
        ratios[key] = median(per_run) if per_run else None
        cells.append(_ratio_cell(per_run, measured))
        rows.append(cells)
    return table(headers, rows), ratios


def union_check(run: dict[str, Any], total: int, reference: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Whether each exporter's shards together hold exactly the series of one unsharded instance:
    the sample counts add up and so do the order-free fingerprints (a series missing, duplicated
    in two shards or different would change one or the other)."""
    out = {}
    for group in GROUPS:
        shards = [run["exporters"][f"{group}/{i}"] for i in range(total)]
        count = sum(int(s["samples"]) for s in shards)
        fingerprint = sum(int(s["fingerprint"]) for s in shards) & _MASK64
        ref = reference[group]
        out[group] = {"shard_samples": [s["samples"] for s in shards], "union_samples": count,
                      "unsharded_samples": ref["samples"],
                      "same_series": count == ref["samples"] and fingerprint == ref["fingerprint"]}
    return out


def unsharded_reference(plane: ControlPlane, expected: dict[str, int], resources: str, logdir: Path,
                        started: list[Exporter]) -> dict[str, dict[str, Any]]:
    """One unsharded instance of each exporter, alone: its series count and fingerprint (and sync)."""
    out = {}
    argv = {"ksm-py": ksm_py_argv(), "upstream": [str(build.KSM.binary())]}
    for group in GROUPS:
        e = Exporter(group, argv[group], plane.admin_kubeconfig, logdir, resources)
        started.append(e)
        try:
            log(f"unsharded {group} for reference")
            out[group] = wait_ready(e, expected, 120 + sum(expected.values()) / 50, plane_pids(plane))
            time.sleep(3)
            out[group].update(verify(e, expected))
            out[group]["steady_rss"] = proc_status(e.pid)["VmRSS"]
            log(f"unsharded {group}: {out[group]['samples']:,} series, ready in {out[group]['ready_s']:.2f}s")
        finally:
            e.stop()
    return out


def run(p: Preset, workdir: Path, results_dir: Path, workers: int, resources: str = KSM_DEFAULT_RESOURCES,
        reuse: bool = False, n_runs: int = 3, total_shards: int = 1, scrapes: int | None = None) -> Path:
    started = time.monotonic()
    missing = [c.name for c in build.COMPONENTS if not c.is_built()]
    if missing:
        raise SystemExit(f"not built: {', '.join(missing)}; run `python -m harness build`")
    saved = workdir / "bench-cluster.json"
    previous = json.loads(saved.read_text()) if reuse and saved.exists() else None
    if previous is not None and previous["preset"] != p.name:
        raise SystemExit(f"{workdir} holds a {previous['preset']} cluster, not {p.name}: use another --workdir")
    log(f"preset {p.name}: {p.nodes} nodes, {p.pods} pods; work directory {workdir}"
        + ("; reusing the cluster populated there" if previous else ""))
    precompile_ksm_py(workdir / "pycache")
    # On a populated etcd no controller may run: the bench's objects are not what they expect.
    plane = ControlPlane(workdir, nodes=p.nodes, scale=True, bound_to_parent=True, controllers=previous is None)
    exporters: list[Exporter] = []
    try:
        t = time.monotonic()
        plane.start()
        cluster_start_s = time.monotonic() - t
        api = Api(plane.server, plane.pki.path("ca.crt"), plane.pki.path("admin.crt"), plane.pki.path("admin.key"))
        if previous is None:
            log(f"control plane with {p.nodes} Ready kwok nodes in {cluster_start_s:.1f}s; "
                "stopping kube-controller-manager and kube-scheduler (the bench plays their part)")
            stop_component(plane, "kube-controller-manager")
            stop_component(plane, "kube-scheduler")
            # kwok falls behind a fast stream of new pods on 2 cores (the API server then closes its
            # watch and it relists again and again): the bench writes each pod's Running status
            # itself, and kwok (which skips pods that have an IP) only keeps the nodes alive.
            stop_component(plane, "kwok")
            cluster, names = populate(api, p, workers)
            log(f"created {cluster['objects_created']} objects in {cluster['create_seconds']}s "
                f"({cluster['objects_per_s']:.0f} objects/s; pods {cluster['pods_per_s']:.0f}/s); starting kwok again")
            plane._start_kwok()
            if reuse:
                saved.write_text(json.dumps({"preset": p.name, "cluster": cluster, "pods": names}))
        else:
            log(f"control plane restarted on the populated etcd in {cluster_start_s:.1f}s")
            cluster, names = previous["cluster"], [tuple(n) for n in previous["pods"]]
        cluster["kwok_running_s"] = round(wait_pods_running(api, len(names), 300 + len(names) / 20), 1)
        cluster["cluster_start_s"] = round(cluster_start_s, 1)
        cluster["reused"] = previous is not None
        expected = {kind: api.count(kind) for kind in COMPLETENESS}
        cluster["expected"] = expected
        log(f"expected objects: {expected}")

        logdir = workdir / "logs"
        log("waiting for kube-apiserver to settle (watch caches filled, its CPU back to idle)")
        settle_s, idle = settle(api, plane, expected)
        cluster["settle_s"] = round(settle_s, 1)
        cluster["apiserver_idle_cores"] = [round(idle, 3)]
        per_shard = [expected]
        if total_shards > 1:
            per_shard = expected_per_shard({kind: api.uids(kind) for kind in expected}, total_shards)
            log(f"objects per shard: {per_shard}")
        order_file = workdir / "bench-order.json"
        # Which exporter starts first alternates between runs, and between invocations on a reused cluster.
        first = json.loads(order_file.read_text())["next_first"] if order_file.exists() else 0
        runs: list[dict[str, Any]] = []
        for k in range(n_runs):
            names_order = ["ksm-py", "upstream"] if (first + k) % 2 == 0 else ["upstream", "ksm-py"]
            log(f"run {k + 1}/{n_runs}: {names_order[0]} starts first")
            runs.append(measure(p, api, plane, names, per_shard, resources, logdir, names_order, exporters, scrapes))
            order_file.write_text(json.dumps({"next_first": (first + k + 1) % 2}))
            if k + 1 < n_runs:
                cluster["apiserver_idle_cores"].append(round(settle(api, plane, expected)[1], 3))
        results = medians(runs)
        churn_stats = runs[-1]["churn"]
        union: dict[str, Any] = {}
        if total_shards > 1:
            settle(api, plane, expected)
            reference = unsharded_reference(plane, expected, resources, logdir, exporters)
            union = {"reference": reference, "runs": [union_check(r, total_shards, reference) for r in runs]}
            text, ratios = sharded_table(runs, total_shards)
        else:
            text, ratios = result_table(runs)
        header = (f"preset {p.name}: {cluster['nodes']} nodes, {cluster['pods']:,} pods, "
                  f"{cluster['objects_created']:,} objects created at {cluster['objects_per_s']:,.0f}/s "
                  f"(pods {cluster['pods_per_s']:,.0f}/s), all Running after {cluster['kwok_running_s']}s; "
                  f"churn {churn_stats['achieved_rate']}/s achieved ({churn_stats['updates']} updates, "
                  f"{churn_stats['errors']} errors); {os.cpu_count()} CPUs; kube-apiserver idle at "
                  f"{median(cluster['apiserver_idle_cores']):.2f} cores before the runs; "
                  f"{n_runs} run{'s' if n_runs > 1 else ''} (median [min-max]), first to start: "
                  f"{', '.join(r['order'][0] for r in runs)}")
        if total_shards > 1:
            header += (f"; --total-shards {total_shards}, each exporter's shards started one after the other, "
                       "[sum]/[max]: how the 'all' column adds up the shards")
        print(header)
        print(text)
        for k, checks in enumerate(union.get("runs", [])):
            for group, c in checks.items():
                print(f"run {k + 1}, {group}: shards' series {' + '.join(f'{n:,}' for n in c['shard_samples'])} = "
                      f"{c['union_samples']:,}; one unsharded instance: {c['unsharded_samples']:,}; "
                      f"the same series: {'yes' if c['same_series'] else 'NO'}")
        results_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = results_dir / f"{p.name}{f'-shards{total_shards}' if total_shards > 1 else ''}-{stamp}.json"
        out.write_text(json.dumps({
            "preset": dataclasses.asdict(p), "timestamp": stamp, "cpus": os.cpu_count(),
            "versions": {"kube-state-metrics": build.KSM.version, "kubernetes": build.KUBERNETES.version},
            "cluster": cluster, "churn": churn_stats, "exporters": results, "ratio": ratios, "runs": runs,
            "argv": {e.name: e.argv for e in exporters}, "table": text, "header": header,
            "total_shards": total_shards, "union": union,
            "total_seconds": round(time.monotonic() - started, 1),
        }, indent=2, default=str))
        print(f"results written to {out}")
        if any(not c["same_series"] for checks in union.get("runs", []) for c in checks.values()):
            raise SystemExit("the shards' series differ from one unsharded instance's (see above)")
        return out
    finally:
        for e in exporters:
            e.stop()
        plane.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="50k")
    ap.add_argument("--results-dir", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--workdir", type=Path, help="control-plane data and logs (default: a temporary directory, "
                                                  "removed afterwards)")
    ap.add_argument("--workers", type=int, default=12, help="parallel API connections while populating")
    ap.add_argument("--resources", default=KSM_DEFAULT_RESOURCES,
                    help="--resources for both exporters (default: kube-state-metrics v2.20's default set; "
                         "'' leaves each exporter its own default)")
    ap.add_argument("--reuse", action="store_true",
                    help="keep the populated cluster in --workdir and, when one is there already, restart on it "
                         "instead of creating the objects again (saves most of a 50k run)")
    ap.add_argument("--runs", type=int, default=3,
                    help="measurements on the same cluster (default 3; the first exporter to start alternates); "
                         "the table shows the median and the range")
    ap.add_argument("--total-shards", type=int, default=1,
                    help="run every exporter as this many shards (--shard=i --total-shards=N), measure each, and "
                         "check that together they hold the series of one unsharded instance")
    ap.add_argument("--scrapes", type=int, help="scrapes of each instance, plain and gzip (default: the preset's)")
    args = ap.parse_args(argv)
    preset = PRESETS[args.preset]
    if args.reuse and not args.workdir:
        ap.error("--reuse needs --workdir")
    if args.total_shards < 1:
        ap.error("--total-shards: must be at least 1")
    if args.runs < 1:
        ap.error("--runs: must be at least 1")
    if args.workdir:
        run(preset, args.workdir.resolve(), args.results_dir, args.workers, args.resources, args.reuse, args.runs,
            args.total_shards, args.scrapes)
        return 0
    workdir = Path(tempfile.mkdtemp(prefix=f"ksm-bench-{preset.name}-"))
    try:
        run(preset, workdir, args.results_dir, args.workers, args.resources, n_runs=args.runs,
            total_shards=args.total_shards, scrapes=args.scrapes)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
