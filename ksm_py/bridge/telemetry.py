"""The bridge's own metrics (``--telemetry-port``), on a private prometheus_client registry."""

from __future__ import annotations

import platform
from typing import Any, Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import exposition as prom_exposition

from .. import __version__

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


class BridgeTelemetry:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        Gauge("ksm_py_bridge_build_info", "A metric with a constant '1' value labeled by version and Python version.",
              ["version", "python_version"], registry=r).labels(__version__, platform.python_version()).set(1)
        self.snapshots = Counter("ksm_py_bridge_snapshots", "Snapshot rounds by result (sent, skipped: the source "
                                 "could not be read completely, failed: the receiver did not take it) and reason.",
                                 ["result", "reason"], registry=r)
        self.elements = Gauge("ksm_py_bridge_snapshot_elements", "Components and relations in the last snapshot "
                              "sent.", ["kind"], registry=r)
        self.dropped_relations = Gauge("ksm_py_bridge_snapshot_dropped_relations", "Relations of the last snapshot "
                                       "left out because one of their ends is not a component.", registry=r)
        self.chunks = Counter("ksm_py_bridge_snapshot_chunks", "Snapshot chunks (intake POSTs) accepted.", registry=r)
        self.event_outcomes = Counter("ksm_py_bridge_events", "Kubernetes events seen by the watch, by outcome (queued, "
                              "duplicate, too_old, incomplete).", ["outcome"], registry=r)
        self.events_delivered = Counter("ksm_py_bridge_events_sent", "Events accepted by the receiver, by category.",
                                   ["category"], registry=r)
        self.events_undelivered = Counter("ksm_py_bridge_events_failed", "Events that could not be delivered, by reason.",
                                     ["reason"], registry=r)
        self.requests = Counter("ksm_py_bridge_intake_requests", "Intake requests by HTTP status or error type.",
                                ["status"], registry=r)
        self.errors = Counter("ksm_py_bridge_errors", "Errors by operation (snapshot, events, watch) and kind.",
                              ["operation", "kind"], registry=r)
        self.last_success = Gauge("ksm_py_bridge_last_success_timestamp_seconds", "Unix time of the last snapshot "
                                  "or event batch accepted by the receiver.", ["operation"], registry=r)
        self.push_duration = Histogram("ksm_py_bridge_snapshot_duration_seconds", "Time to read the source and "
                                       "push one snapshot.", registry=r)
        self.watch_list = Counter("ksm_py_bridge_watch_list", "Event lists by result.", ["result"], registry=r)

    # EventStats
    def event_seen(self, outcome: str) -> None:
        self.event_outcomes.labels(outcome).inc()

    def events_sent(self, events: list[dict[str, Any]]) -> None:
        for e in events:
            self.events_delivered.labels(e.get("context", {}).get("category", "")).inc()

    def events_failed(self, n: int, reason: str) -> None:
        self.events_undelivered.labels(reason).inc(n)

    # ReflectorStats (the event watch)
    def list_request(self, resource: str, ok: bool) -> None:
        pass

    def list_done(self, resource: str, ok: bool, objects: int) -> None:
        self.watch_list.labels("success" if ok else "error").inc()

    def watch_request(self, resource: str, ok: bool) -> None:
        if not ok:
            self.errors.labels("watch", "watch_failed").inc()

    def watch_closed(self, resource: str, reason: str) -> None:
        if reason in ("error", "stalled"):
            self.errors.labels("watch", "watch_failed").inc()

    def event(self, resource: str, kind: str) -> None:
        pass

    def bad_input(self, resource: str, reason: str) -> None:
        self.errors.labels("watch", "bad_input").inc()

    def error(self, resource: str, status: str) -> None:
        self.errors.labels("watch", status).inc()


class TelemetryApp:
    """``/metrics`` and ``/healthz`` of the bridge."""

    def __init__(self, telemetry: BridgeTelemetry) -> None:
        self.metrics_app = prom_exposition.make_wsgi_app(telemetry.registry)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            return self.metrics_app(environ, start_response)
        body, status = (b"OK", "200 OK") if path in ("/healthz", "/") else (b"404 page not found", "404 Not Found")
        start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]
