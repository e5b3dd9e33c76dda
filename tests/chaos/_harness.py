"""What the chaos scenarios share: a churn generator, telemetry readers, the ground-truth check.

Every scenario ends with ``ground_truth()``: a fresh ksm-py started at that moment (straight to
the API server, no fault proxy) must produce exactly the series of the ksm-py that went through
the faults; nothing stale, nothing missing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from harness.controlplane import wait_for
from harness.rest import Rest
from tests.conftest import Process
from tests.e2e._exporter import Exporter, ksm_py
from tests.expo import diff, series

# Resources the churn touches, plus the cluster-scoped ones every scenario should keep right.
CHURN_RESOURCES = "pods,deployments,replicasets,configmaps,namespaces,nodes"


@dataclasses.dataclass
class Result:
    """One line of the chaos table."""

    scenario: str
    faults: str
    series: int
    differences: int
    recovery_s: float | None

    def line(self) -> str:
        recovery = "-" if self.recovery_s is None else f"{self.recovery_s:.1f}s"
        return (f"chaos: {self.scenario} | faults: {self.faults} | series compared: {self.series} | "
                f"differences: {self.differences} | recovery: {recovery}")


Report = Callable[[Result], None]


# -- telemetry ---------------------------------------------------------------------------------

def metric_values(text: str, name: str, **labels: str) -> dict[str, float]:
    """Samples of one metric (exact name) whose labels include ``labels``."""
    found = series(text, prefix=name, where=labels.items())
    return {k: float(v) for k, v in found.items() if k.split("{", 1)[0] == name}


def metric_sum(text: str, name: str, **labels: str) -> float:
    return sum(metric_values(text, name, **labels).values())


def per_resource(text: str, name: str) -> dict[str, float]:
    """``{resource: value}`` of a per-resource gauge (namespace label ignored)."""
    out: dict[str, float] = {}
    for key, value in metric_values(text, name).items():
        resource = key.split('resource="', 1)[1].split('"', 1)[0]
        out[resource] = value
    return out


# -- churn -------------------------------------------------------------------------------------

KINDS: dict[str, str] = {
    "configmaps": "/api/v1/namespaces/{ns}/configmaps",
    "pods": "/api/v1/namespaces/{ns}/pods",
    "deployments": "/apis/apps/v1/namespaces/{ns}/deployments",
}


def _body(kind: str, name: str, gen: int) -> dict[str, Any]:
    meta = {"name": name, "labels": {"churn": "yes", "gen": str(gen)}}
    if kind == "configmaps":
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"gen": str(gen)}}
    pod_spec = {"containers": [{"name": "c", "image": "registry.example/churn:1"}],
                "terminationGracePeriodSeconds": 0}
    if kind == "pods":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod_spec}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": 1, "selector": {"matchLabels": {"churn-app": name}},
                     "template": {"metadata": {"labels": {"churn-app": name}}, "spec": pod_spec}}}


class Churn:
    """Creates, updates and deletes pods, deployments and configmaps in one namespace, from a
    thread, at a bounded rate for a bounded time. Failed operations (API server down) are counted."""

    def __init__(self, rest: Rest, namespace: str, *, rate: float = 10, duration: float = 180,
                 seed: int = 0, max_per_kind: int = 8) -> None:
        self.rest, self.ns = rest, namespace
        self.interval, self.duration = 1 / rate, duration
        self.rng = random.Random(seed)
        self.max_per_kind = max_per_kind
        self.live: dict[str, list[str]] = {k: [] for k in KINDS}
        self.ops = self.failed = 0
        self.deleted: list[tuple[str, str]] = []
        self._serial = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="churn", daemon=True)

    def __enter__(self) -> Churn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(30)

    def _path(self, kind: str, name: str = "") -> str:
        base = KINDS[kind].format(ns=self.ns)
        return f"{base}/{name}" if name else base

    def create(self, kind: str) -> str:
        with self._lock:
            self._serial += 1
            name = f"churn-{kind[:-1]}-{self._serial}"
        self.rest.request("POST", self._path(kind), _body(kind, name, 0), timeout=5)
        with self._lock:
            self.live[kind].append(name)
        return name

    def update(self, kind: str, name: str) -> None:
        gen = self.rng.randint(1, 1000)
        patch: dict[str, Any] = {"metadata": {"labels": {"gen": str(gen)}}}
        if kind == "configmaps":
            patch["data"] = {"gen": str(gen)}
        elif kind == "deployments":
            patch["spec"] = {"replicas": self.rng.randint(0, 2)}
        self.rest.request("PATCH", self._path(kind, name), patch, content_type="application/merge-patch+json",
                          timeout=5)

    def delete(self, kind: str, name: str) -> None:
        query = "?gracePeriodSeconds=0" if kind == "pods" else "?propagationPolicy=Background"
        try:
            self.rest.request("DELETE", self._path(kind, name) + query, timeout=5)
        except Exception as e:  # noqa: BLE001 - 404 means deleted already
            if getattr(e, "status", None) != 404:
                raise
        with self._lock:
            if name in self.live[kind]:
                self.live[kind].remove(name)
            self.deleted.append((kind, name))

    def delete_one(self, kind: str) -> str | None:
        """Delete one live object of ``kind`` now (synchronously); its name, or None if none."""
        with self._lock:
            name = self.live[kind][0] if self.live[kind] else None
        if name is not None:
            self.delete(kind, name)
        return name

    def step(self) -> None:
        kind = self.rng.choice(list(KINDS))
        with self._lock:
            live = list(self.live[kind])
        roll = self.rng.random()
        if not live or (len(live) < self.max_per_kind and roll < 0.4):
            self.create(kind)
        elif roll < 0.75 or len(live) < 2:
            self.update(kind, self.rng.choice(live))
        else:
            self.delete(kind, self.rng.choice(live))

    def _run(self) -> None:
        deadline = time.monotonic() + self.duration
        while not self._stop.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            self.ops += 1
            try:
                self.step()
            except Exception:  # noqa: BLE001 - the API server may be down: count and go on
                self.failed += 1
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def summary(self) -> str:
        return f"churn {self.ops} ops ({self.failed} failed)"


def settle(rest: Rest, namespace: str, *, quiet: float = 3, timeout: float = 90) -> float:
    """Wait until the namespace's pods, replicasets, deployments and configmaps stop changing (GC,
    controllers and kwok done) for ``quiet`` seconds; returns the seconds it took."""
    paths = [f"/api/v1/namespaces/{namespace}/pods", f"/apis/apps/v1/namespaces/{namespace}/replicasets",
             f"/apis/apps/v1/namespaces/{namespace}/deployments", f"/api/v1/namespaces/{namespace}/configmaps"]
    started = time.monotonic()
    last, since = "", time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            state = "|".join(f"{i['metadata']['name']}@{i['metadata']['resourceVersion']}"
                             for p in paths for i in rest.request("GET", p, timeout=10)["items"])
        except Exception:  # noqa: BLE001 - API server still coming up
            state = ""
        if state != last or not state:
            last, since = state, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return time.monotonic() - started
        time.sleep(0.5)
    raise TimeoutError(f"namespace {namespace} did not settle within {timeout:.0f}s")


# -- ground truth ------------------------------------------------------------------------------

def _digest(s: dict[str, str]) -> str:
    return hashlib.sha256("\n".join(f"{k} {v}" for k, v in sorted(s.items())).encode()).hexdigest()


class Recorder:
    """Scrapes an exporter every ``interval`` s from the end of the faults, to tell afterwards when
    its series first reached (and then kept) their final state: the recovery time."""

    def __init__(self, exp: Exporter, interval: float = 0.5, limit: float = 240) -> None:
        self.exp, self.interval, self.limit = exp, interval, limit
        self.started = time.monotonic()
        self.samples: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set() and time.monotonic() - self.started < self.limit:
            t = time.monotonic()
            try:
                self.samples.append((t, _digest(series(self.exp.metrics()))))
            except Exception:  # noqa: BLE001 - a failed scrape is just no sample
                pass
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def recovered_after(self, final: str) -> float | None:
        """Seconds from the start until the samples equal ``final`` for good (None: never seen)."""
        first = None
        for t, digest in self.samples:
            if digest == final:
                first = t if first is None else first
            else:
                first = None
        return None if first is None else max(0.0, first - self.started)


def ground_truth(spawn: Callable[..., Process], kubeconfig: Path, flags: Iterable[str], exp: Exporter, *,
                 scenario: str, faults: str, report: Report, recorder: Recorder | None = None,
                 timeout: float = 90, tmp_path: Path | None = None) -> Result:
    """Start a fresh ksm-py with the same flags and wait until ``exp`` serves exactly its series.

    Reports the scenario's line (also when it fails) and returns it."""
    fresh = ksm_py(spawn, kubeconfig, *flags, name="ground-truth")
    fresh.wait_ready(timeout=60)
    ours: dict[str, str] = {}
    truth: dict[str, str] = {}

    def same() -> bool:
        nonlocal ours, truth
        truth = series(fresh.metrics())
        ours = series(exp.metrics())
        return ours == truth
    try:
        wait_for(f"{scenario}: ksm-py's series equal a fresh ksm-py's", same, timeout, interval=0.5)
    except TimeoutError:
        differences = len(set(ours) ^ set(truth)) + sum(1 for k in set(ours) & set(truth) if ours[k] != truth[k])
        report(Result(scenario, faults, len(truth), differences, None))
        pytest.fail(f"{scenario}: stale or missing series after recovery, faulted (-) vs fresh (+): "
                    + diff(ours, truth) + "\n--- ksm-py log ---\n" + exp.proc.tail(60))
    recovery: float | None = None  # no fault to recover from
    if recorder is not None:
        recorder.stop()
        recovered = recorder.recovered_after(_digest(truth))
        recovery = recovered if recovered is not None else time.monotonic() - recorder.started
    result = Result(scenario, faults, len(truth), 0, recovery)
    report(result)
    fresh.proc.stop()
    return result


def wait_all(exp: Exporter, what: str, check: Callable[[dict[str, float]], bool], gauge: str,
             timeout: float) -> float:
    """Wait until ``check`` holds for the per-resource ``gauge``; returns the seconds it took."""
    started = time.monotonic()
    wait_for(what, lambda: check(per_resource(exp.telemetry(), gauge)), timeout, interval=0.2,
             on_timeout=lambda: "\n" + exp.telemetry()[-3000:] + "\n" + exp.proc.tail(30))
    return time.monotonic() - started
