"""The telemetry port: upstream's families (build info, CRD informer counters, /metrics request
durations) with upstream's names, labels and counting moments, written as client_golang writes them."""

from __future__ import annotations

import gzip
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.parser import text_string_to_metric_families

from ksm_py import __version__
from ksm_py.customresourcestate.discovery import CustomResourceState
from ksm_py.options import Options
from ksm_py.server import TELEMETRY_CONTENT_TYPE, MainApp, TelemetryApp
from ksm_py.telemetry import Telemetry, render_text

# Label names of upstream's kube_state_metrics_build_info (prometheus/common version collector plus
# client_go_version), as kube-state-metrics v2.20.0 writes them.
UPSTREAM_BUILD_INFO_LABELS = ["branch", "client_go_version", "goarch", "goos", "goversion", "revision", "tags",
                              "version"]


def families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def value(t: Telemetry, name: str, **labels: str) -> float | None:
    return t.registry.get_sample_value(name, labels)


def test_render_text_is_client_golangs_text_format() -> None:
    r = CollectorRegistry()
    c = Counter("b_calls", "Calls.", ["result", "resource"], registry=r)
    c.labels("success", "pods").inc()
    c.labels("error", "nodes").inc(3)
    Gauge("a_ratio", "A \\ ratio\nover two lines.", registry=r).set(0.5)
    Histogram("c_seconds", "Durations.", ["method"], buckets=(0.5, 1, 10), registry=r).labels("get").observe(2)
    Gauge("d_unset", "A vector nobody set.", ["x"], registry=r)
    assert render_text(r).decode() == (
        "# HELP a_ratio A \\\\ ratio\\nover two lines.\n# TYPE a_ratio gauge\na_ratio 0.5\n"
        # Labels sorted by name, series by their labels; no b_calls_created.
        "# HELP b_calls_total Calls.\n# TYPE b_calls_total counter\n"
        'b_calls_total{resource="nodes",result="error"} 3\n'
        'b_calls_total{resource="pods",result="success"} 1\n'
        # le after the series' labels and Go-formatted; no d_unset family at all.
        "# HELP c_seconds Durations.\n# TYPE c_seconds histogram\n"
        'c_seconds_bucket{method="get",le="0.5"} 0\n'
        'c_seconds_bucket{method="get",le="1"} 0\n'
        'c_seconds_bucket{method="get",le="10"} 1\n'
        'c_seconds_bucket{method="get",le="+Inf"} 1\n'
        'c_seconds_count{method="get"} 1\n'
        'c_seconds_sum{method="get"} 2\n')


def test_build_info_has_upstreams_labels_with_ksm_pys_values() -> None:
    fam = families(Telemetry().render().decode())["kube_state_metrics_build_info"]
    assert fam.type == "gauge"
    assert fam.documentation == ("A metric with a constant '1' value labeled by version, revision, branch, goversion "
                                 "from which kube_state_metrics was built, and the goos and goarch for the build.")
    (sample,) = fam.samples
    assert sorted(sample.labels) == UPSTREAM_BUILD_INFO_LABELS and sample.value == 1
    assert sample.labels["version"] == __version__
    assert sample.labels["goversion"].startswith("cpython3.")
    assert sample.labels["goos"] == "linux" and sample.labels["goarch"] in ("amd64", "arm64")
    assert sample.labels["client_go_version"].startswith("urllib3/")


def test_crd_counters_exist_at_zero_without_custom_resource_state() -> None:
    fams = families(Telemetry().render().decode())
    for name, type_ in (("kube_state_metrics_custom_resource_state_add_events", "counter"),
                        ("kube_state_metrics_custom_resource_state_update_events", "counter"),
                        ("kube_state_metrics_custom_resource_state_delete_events", "counter"),
                        ("kube_state_metrics_custom_resource_state_cache", "gauge")):
        assert fams[name].type == type_
        assert [(s.labels, s.value) for s in fams[name].samples] == [({}, 0)], name


def test_crd_events_move_counters_and_the_cache_gauge_as_upstreams_handlers() -> None:
    t = Telemetry()
    for event in ("add", "add", "update", "update", "update", "delete"):
        t.crd_event(event)
    assert value(t, "kube_state_metrics_custom_resource_state_add_events_total") == 2
    assert value(t, "kube_state_metrics_custom_resource_state_update_events_total") == 3
    assert value(t, "kube_state_metrics_custom_resource_state_delete_events_total") == 1
    assert value(t, "kube_state_metrics_custom_resource_state_cache") == 1


def crd(name: str) -> dict[str, Any]:
    return {"metadata": {"name": f"{name}s.example.com"},
            "spec": {"group": "example.com", "names": {"kind": name.title(), "plural": f"{name}s"},
                     "versions": [{"name": "v1", "served": True}]}}


class Host:
    def __init__(self) -> None:
        self.telemetry = Telemetry()

    def add_resource(self, compiled: Any, api: Any) -> None: ...

    def remove_resource(self, name: str) -> None: ...


def test_a_relist_counts_like_an_informer_replace() -> None:
    """client-go's Replace: objects still there are updates, new ones adds, missing ones deletes."""
    ext = CustomResourceState(Options(), [])
    host = Host()
    ext.bind(host, follow=False)  # type: ignore[arg-type]
    sink = ext.watches(Options())[0].sink(None)
    initial = sink.replacement()
    for name in ("foo", "bar"):
        initial.add(crd(name))
    initial.commit()
    sink.upsert(crd("foo"))  # MODIFIED
    relist = sink.replacement()
    for name in ("foo", "baz"):
        relist.add(crd(name))
    relist.commit()  # foo: update, baz: add, bar: delete
    sink.delete(crd("baz"))
    t = host.telemetry
    assert value(t, "kube_state_metrics_custom_resource_state_add_events_total") == 3
    assert value(t, "kube_state_metrics_custom_resource_state_update_events_total") == 2
    assert value(t, "kube_state_metrics_custom_resource_state_delete_events_total") == 2
    assert value(t, "kube_state_metrics_custom_resource_state_cache") == 1


def test_main_port_metrics_requests_are_timed_by_method_once_served() -> None:
    t = Telemetry()
    app = MainApp([], livez=lambda: True, telemetry=t)
    count = 'http_request_duration_seconds_count{handler="metrics",method="%s"}'

    def get(path: str, method: str = "GET") -> bytes:
        return b"".join(app({"PATH_INFO": path, "REQUEST_METHOD": method}, lambda *a: None))

    body = app({"PATH_INFO": "/metrics", "REQUEST_METHOD": "GET"}, lambda *a: None)
    assert value(t, "http_request_duration_seconds_count", handler="metrics", method="get") is None
    b"".join(body)  # observed once the body is written, as promhttp's handler returns
    get("/metrics", "HEAD")
    get("/healthz")
    text = t.render().decode()
    assert f"{count % 'get'} 1\n" in text and f"{count % 'head'} 1\n" in text
    buckets = [s for s in families(text)["http_request_duration_seconds"].samples if s.name.endswith("_bucket")]
    # client_golang's DefBuckets, per method.
    assert [s.labels["le"] for s in buckets if s.labels["method"] == "get"] == [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]


def test_telemetry_metrics_is_promhttps_text_with_gzip_when_asked() -> None:
    t = Telemetry()
    t.watch_request("pods", True)
    app = TelemetryApp(t, ready=lambda: True)
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen.update(status=status, headers=dict(headers))

    for accept_encoding in ("", "gzip"):
        body = b"".join(app({"PATH_INFO": "/metrics", "REQUEST_METHOD": "GET",
                             # OpenMetrics is not offered by upstream's telemetry handler either.
                             "HTTP_ACCEPT": "application/openmetrics-text;version=1.0.0",
                             "HTTP_ACCEPT_ENCODING": accept_encoding}, start_response))
        assert seen["status"] == "200 OK" and seen["headers"]["Content-Type"] == TELEMETRY_CONTENT_TYPE
        if accept_encoding:
            assert seen["headers"]["Content-Encoding"] == "gzip"
            body = gzip.decompress(body)
        else:
            assert "Content-Encoding" not in seen["headers"]
        text = body.decode()
        assert 'kube_state_metrics_watch_total{resource="pods",result="success"} 1\n' in text
        assert "_created" not in text and "# EOF" not in text
