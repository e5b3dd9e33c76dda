"""ksm-py's own metrics (telemetry port), through prometheus_client on a private registry, written
as client_golang writes kube-state-metrics' (Go float format, sorted families and labels, no
``_created`` series)."""

from __future__ import annotations

import os
import platform
import sys
import time
from typing import Callable, Iterable

import urllib3
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from . import __version__
from .configfile import hash_metric_value
from .gocompat.floats import format_float
from .metric import escape_help, escape_label_value

# TYPE lines as the text format 0.0.4 names them (prometheus_client's own text writer does the same).
_TEXT_TYPES = {"info": "gauge", "stateset": "gauge", "gaugehistogram": "histogram", "unknown": "untyped"}
# client_golang's prometheus.DefBuckets (prometheus_client's default has 15 buckets, not these 11).
GO_DEFAULT_BUCKETS = (.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)
_GOARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i386": "386", "i686": "386",
           "armv7l": "arm", "armv6l": "arm", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


def build_labels() -> dict[str, str]:
    """``kube_state_metrics_build_info``'s labels (upstream's names) with ksm-py's values: the
    interpreter stands where upstream has the Go toolchain, ksm-py's own API client (on urllib3)
    where it has client-go. Revision, branch and tags are what a kube-state-metrics built from the
    Go module proxy reports: nothing is stamped in at build time."""
    return {
        "version": __version__,
        "revision": "unknown",
        "branch": "",
        "tags": "unknown",
        "goversion": f"{sys.implementation.name}{platform.python_version()}",
        "goos": "windows" if sys.platform == "win32" else sys.platform,
        "goarch": _GOARCH.get(platform.machine().lower(), platform.machine().lower()),
        "client_go_version": f"urllib3/{urllib3.__version__}",
    }


def render_text(registry: CollectorRegistry) -> bytes:
    """The registry in the text format as client_golang's promhttp writes it: families sorted by
    name, label pairs sorted by name, Go float formatting (``1``, not ``1.0``), no ``_created``
    series and no family without a series."""
    out: list[str] = []
    for metric in sorted(registry.collect(), key=lambda m: m.name + ("_total" if m.type == "counter" else "")):
        created = metric.name + "_created"
        # Series sorted by their labels; a stable sort keeps a histogram's buckets, count and sum together.
        samples = sorted((s for s in metric.samples if s.name != created), key=_series_key)
        if not samples:
            continue  # client_golang writes no family without a series (a vector nobody set yet)
        name, type_ = metric.name, metric.type
        if type_ == "counter":
            name += "_total"
        elif type_ == "info":
            name += "_info"
        out.append(f"# HELP {name} {escape_help(metric.documentation)}\n"
                   f"# TYPE {name} {_TEXT_TYPES.get(type_, type_)}\n")
        for s in samples:
            if s.labels:
                pairs = ",".join(f'{k}="{_label_value(k, v)}"' for k, v in sorted(s.labels.items(), key=_label_order))
                out.append(f"{s.name}{{{pairs}}} {format_float(float(s.value))}\n")
            else:
                out.append(f"{s.name} {format_float(float(s.value))}\n")
    return "".join(out).encode()


_BOUNDS = ("le", "quantile")


def _series_key(s: Sample) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in s.labels.items() if k not in _BOUNDS))


def _label_order(kv: tuple[str, str]) -> tuple[bool, str]:
    # client_golang writes the bucket bound / quantile after the series' own labels.
    return kv[0] in _BOUNDS, kv[0]


def _label_value(name: str, value: str) -> str:
    if name in _BOUNDS:
        return format_float(float(value))  # le="1", not "1.0"
    return escape_label_value(value)


class Telemetry:
    """The telemetry port. Families named like kube-state-metrics' mean what upstream's mean
    (pkg/watch, pkg/app): ``_list_total`` counts LIST requests (pages) when answered,
    ``_watch_total`` WATCH requests when accepted or refused, ``_list_objects``/``_list_objects_limit``
    exist only with --object-limit. Upstream v2.20 uses WatchList streams, which make no LIST request
    at all; ksm-py lists in pages, so it has ``_list_total`` series where upstream has none
    (upstream's e2e suite treats the family as optional). The Custom Resource State counters exist
    (at 0) without a configuration too, as upstream registers them unconditionally;
    ``http_request_duration_seconds`` times the main port's /metrics."""

    def __init__(self, object_limit: int = 0, config_status: ConfigStatus | None = None) -> None:
        self.object_limit = object_limit
        self.registry = CollectorRegistry()
        r = self.registry
        # Kept by the caller across a --config reload, which replaces this Telemetry with the exporter.
        self.config_status = config_status or ConfigStatus()
        r.register(self.config_status)
        info = build_labels()
        Gauge("kube_state_metrics_build_info",
              "A metric with a constant '1' value labeled by version, revision, branch, goversion from which "
              "kube_state_metrics was built, and the goos and goarch for the build.", list(info),
              registry=r).labels(**info).set(1)
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        Gauge("ksm_py_build_info", "A metric with a constant '1' value labeled by version and Python version.",
              ["version", "python_version"], registry=r).labels(__version__, platform.python_version()).set(1)
        self.list_total = Counter("kube_state_metrics_list", "Number of total resource list calls in kube-state-metrics",
                                  ["result", "resource"], registry=r)
        self.watch_total = Counter("kube_state_metrics_watch", "Number of total resource watch calls in kube-state-metrics",
                                   ["result", "resource"], registry=r)
        self.watch_closed_total = Counter(
            "ksm_py_watch_closed", "Watch streams that ended, by reason: closed (the API server ended it at its "
            "timeoutSeconds, the normal end), expired (410 on resuming from a compacted resourceVersion, as a quiet "
            "watch without bookmarks does; a relist follows), stalled (no byte past its timeoutSeconds plus a grace), "
            "error (connection cut, error event). Stalled and error are early reconnects.",
            ["resource", "reason"], registry=r)
        self.events_total = Counter("ksm_py_watch_events", "Watch events applied, by resource and event type.",
                                    ["resource", "type"], registry=r)
        self.bad_input_total = Counter("ksm_py_bad_input", "Malformed objects or watch events that were skipped.",
                                       ["resource", "reason"], registry=r)
        self.render_errors_total = Counter("ksm_py_render_errors", "Family functions that failed on an object "
                                           "(the object's other families are still exposed).",
                                           ["resource", "family"], registry=r)
        self.api_errors_total = Counter("ksm_py_api_errors", "Failed list/watch requests by resource and HTTP status "
                                        "or error type (403 means the RBAC rules lack list/watch).",
                                        ["resource", "status"], registry=r)
        self.list_objects = Gauge("kube_state_metrics_list_objects", "Number of resources listed in kube-state-metrics",
                                  ["resource"], registry=r)
        self.list_objects_limit = Gauge("kube_state_metrics_list_objects_limit",
                                        "Number of resource list limit in kube-state-metrics", ["resource"], registry=r)
        self.scrape_duration = Histogram("ksm_py_scrape_duration_seconds",
                                         "Time to assemble and send /metrics on the main port.", ["encoding"],
                                         registry=r)
        self.http_request_duration = Histogram(
            "http_request_duration_seconds", "A histogram of requests for kube-state-metrics metrics handler.",
            ["handler", "method"], buckets=GO_DEFAULT_BUCKETS, registry=r)
        # Upstream's CRD informer counters (internal/discovery), moved by the Custom Resource State extension.
        self.crd_add_events = Counter("kube_state_metrics_custom_resource_state_add_events",
                                      "Number of times that the CRD informer triggered the add event.", registry=r)
        self.crd_update_events = Counter("kube_state_metrics_custom_resource_state_update_events",
                                         "Number of times that the CRD informer triggered the update event.",
                                         registry=r)
        self.crd_delete_events = Counter("kube_state_metrics_custom_resource_state_delete_events",
                                         "Number of times that the CRD informer triggered the remove event.",
                                         registry=r)
        self.crd_cache = Gauge("kube_state_metrics_custom_resource_state_cache",
                               "Net amount of CRDs affecting the cache currently.", registry=r)
        self.shard_ordinal = Gauge("kube_state_metrics_shard_ordinal", "Current sharding ordinal/index of this instance",
                                   ["shard_ordinal"], registry=r)
        self.total_shards = Gauge("kube_state_metrics_total_shards", "Number of total shards this instance is aware of",
                                  registry=r)

    def set_sharding(self, shard: int, total: int) -> None:
        self.shard_ordinal.clear()
        self.shard_ordinal.labels(str(shard)).set(shard)
        self.total_shards.set(total)

    # ReflectorStats
    def list_request(self, resource: str, ok: bool) -> None:
        self.list_total.labels("success" if ok else "error", resource).inc()

    def list_done(self, resource: str, ok: bool, objects: int) -> None:
        # Upstream sets both gauges only when a limit applies (--object-limit).
        if self.object_limit:
            self.list_objects_limit.labels(resource).set(self.object_limit)
            if ok:
                self.list_objects.labels(resource).set(min(objects, self.object_limit))

    def watch_request(self, resource: str, ok: bool) -> None:
        self.watch_total.labels("success" if ok else "error", resource).inc()

    def watch_closed(self, resource: str, reason: str) -> None:
        self.watch_closed_total.labels(resource, reason).inc()

    def event(self, resource: str, kind: str) -> None:
        self.events_total.labels(resource, kind).inc()

    def bad_input(self, resource: str, reason: str) -> None:
        self.bad_input_total.labels(resource, reason).inc()

    def error(self, resource: str, status: str) -> None:
        self.api_errors_total.labels(resource, status).inc()

    def render_error(self, resource: str, family: str, _exc: BaseException) -> None:
        self.render_errors_total.labels(resource, family).inc()

    def metrics_request(self, method: str, seconds: float) -> None:
        """One request to the main port's /metrics served (promhttp.InstrumentHandlerDuration: any
        method, lower-cased; observed once the handler is done writing)."""
        self.http_request_duration.labels("metrics", method.lower()).observe(seconds)

    def crd_event(self, event: str) -> None:
        """A CRD informer event as upstream's handlers count it: ``add`` and ``delete`` also move
        the cache gauge, ``update`` does not."""
        if event == "add":
            self.crd_add_events.inc()
            self.crd_cache.inc()
        elif event == "update":
            self.crd_update_events.inc()
        elif event == "delete":
            self.crd_delete_events.inc()
            self.crd_cache.dec()
        else:
            raise ValueError(f"unknown CRD event {event!r}")

    def render(self) -> bytes:
        return render_text(self.registry)

    def track(self, collector: Collector) -> None:
        self.registry.register(collector)


class ReflectorStateCollector(Collector):
    """Per-resource state read at collection time from the live reflectors and stores."""

    def __init__(self, rows: Callable[[], Iterable[tuple[str, str, bool, float, int]
                                                   | tuple[str, str, bool, float, int, bool]
                                                   | tuple[str, str, bool, float, int, bool, bool]]]) -> None:
        # rows: (resource, namespace, synced, last sync unix time, objects[, watch connected[, forbidden]])
        self.rows = rows

    def collect(self) -> Iterable[GaugeMetricFamily]:
        synced = GaugeMetricFamily("ksm_py_resource_synced",
                                   "1 once the resource's list/watch has completed its initial list.",
                                   labels=["resource", "namespace"])
        last = GaugeMetricFamily("ksm_py_last_sync_timestamp_seconds",
                                 "Unix time the resource's data was last known current: last successful list, "
                                 "watch (re)connection, applied watch event or bookmark (the API server sends one "
                                 "about every minute).", labels=["resource", "namespace"])
        objects = GaugeMetricFamily("ksm_py_objects", "Objects currently held per resource store.",
                                    labels=["resource", "namespace"])
        connected = GaugeMetricFamily("ksm_py_watch_connected",
                                      "1 while the resource's watch stream is open, 0 while it is down (API server "
                                      "unreachable, stalled stream, 403, relisting): the data may be stale.",
                                      labels=["resource", "namespace"])
        forbidden = GaugeMetricFamily("ksm_py_resource_forbidden",
                                      "1 while the API server refuses the resource's list/watch (401/403: the RBAC "
                                      "rules lack list or watch); it is not served meanwhile and does not block "
                                      "readiness. The log and the /readyz body say why.",
                                      labels=["resource", "namespace"])
        for resource, namespace, is_synced, last_sync, count, *more in self.rows():
            synced.add_metric([resource, namespace], 1 if is_synced else 0)
            last.add_metric([resource, namespace], last_sync)
            objects.add_metric([resource, namespace], count)
            if more:
                connected.add_metric([resource, namespace], 1 if more[0] else 0)
            if len(more) > 1:
                forbidden.add_metric([resource, namespace], 1 if more[1] else 0)
        yield synced
        yield last
        yield objects
        yield connected
        yield forbidden


class ConfigStatus(Collector):
    """upstream's configuration-file families, per (type, filename): ``config`` for ``--config``,
    ``customresourceconfig`` for ``--custom-resource-state-config-file``.  As in kube-state-metrics
    (``pkg/app/server.go``) the hash and the success time are those of the configuration loaded
    now; ``_successful`` is 0 after a change that did not load (kube-state-metrics then serves
    nothing until the file is fixed, ksm-py keeps serving the configuration it runs)."""

    def __init__(self) -> None:
        # (type, filename) -> [hash, successful, last success unix time]; None where never set.
        self._rows: dict[tuple[str, str], list[float | None]] = {}

    def _row(self, kind: str, path: str) -> list[float | None]:
        return self._rows.setdefault((kind, os.path.normpath(path)), [None, None, None])

    def loaded(self, kind: str, path: str, data: bytes) -> None:
        row = self._row(kind, path)
        row[:] = [hash_metric_value(data), 1, time.time()]

    def failed(self, kind: str, path: str) -> None:
        self._row(kind, path)[1] = 0

    def keep(self, files: Iterable[tuple[str, str]]) -> None:
        """Forget the files no longer configured (a --config reload that names another file)."""
        wanted = {(kind, os.path.normpath(path)) for kind, path in files}
        self._rows = {key: row for key, row in self._rows.items() if key in wanted}

    def value(self, kind: str, path: str) -> list[float | None]:
        return list(self._rows.get((kind, os.path.normpath(path)), [None, None, None]))

    def collect(self) -> Iterable[GaugeMetricFamily]:
        families = (
            GaugeMetricFamily("kube_state_metrics_config_hash", "Hash of the currently loaded configuration.",
                              labels=["type", "filename"]),
            GaugeMetricFamily("kube_state_metrics_last_config_reload_successful",
                              "Whether the last configuration reload attempt was successful.",
                              labels=["type", "filename"]),
            GaugeMetricFamily("kube_state_metrics_last_config_reload_success_timestamp_seconds",
                              "Timestamp of the last successful configuration reload.", labels=["type", "filename"]),
        )
        for key, row in sorted(self._rows.items()):
            for family, value in zip(families, row, strict=True):
                if value is not None:
                    family.add_metric(list(key), value)
        # A vector without children is not exposed in kube-state-metrics: no file, no family.
        yield from (f for f in families if f.samples)
