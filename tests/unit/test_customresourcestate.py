"""Custom Resource State metrics: config decoding, paths, value conversion, families, discovery.

The value/path cases are upstream's ``pkg/customresourcestate/registry_factory_test.go``.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from ksm_py.customresourcestate import ConfigError, parse
from ksm_py.customresourcestate.config import (
    CompiledGauge,
    CompiledInfo,
    CompiledMetric,
    CompiledStateSet,
    EachValue,
    GroupVersionKind,
    add_path_labels,
    compile_resource,
)
from ksm_py.customresourcestate.discovery import GVKP, CustomResourceState, resolve, served_versions
from ksm_py.customresourcestate.paths import PathError, ValuePath
from ksm_py.customresourcestate.values import ValueError_, go_sprint, to_float64
from ksm_py.exposition import TEXT, Format, ResourceWriter, render_body
from ksm_py.options import Options
from ksm_py.store import MetricsStore

CR: dict[str, Any] = {
    "spec": {"replicas": 1, "version": "v0.0.0", "order": [{"id": 1, "value": True}, {"id": 3, "value": False}]},
    "status": {
        "active": {"type-a": 1, "type-b": 3},
        "phase": "foo",
        "sub": {"type-a": {"active": 1, "ready": 2}, "type-b": {"active": 3, "ready": 4}},
        "uptime": 43.21,
        "quantity_milli": "250m",
        "quantity_binarySI": "5Gi",
        "percentage": "28%",
        "condition_values": [{"name": "a", "value": 45}, {"name": "b", "value": 66}],
        "conditions": [{"type": "Ready", "status": "True"}, {"type": "Provisioned", "status": "False"}],
    },
    "metadata": {"name": "foo", "labels": {"foo": "bar"}, "annotations": {"qux": "quxx", "bar": "baz"},
                 "percentage": "39%", "creationTimestamp": "2022-06-28T00:00:00Z"},
}


def p(*parts: str) -> ValuePath:
    return ValuePath(parts)


def ev(value: float, *labels: str) -> EachValue:
    return EachValue(dict(zip(labels[::2], labels[1::2], strict=True)), value)


def gauge(path: list[str], *, value_from: list[str] | None = None, label_from_key: str = "",
          labels: dict[str, list[str]] | None = None, nil_is_zero: bool = False) -> CompiledGauge:
    return CompiledGauge({"path": path, "valueFrom": value_from or [], "labelFromKey": label_from_key,
                          "labelsFromPath": labels or {}, "nilIsZero": nil_is_zero}, "test")


def info(path: list[str], *, label_from_key: str = "", labels: dict[str, list[str]] | None = None) -> CompiledInfo:
    return CompiledInfo({"path": path, "labelFromKey": label_from_key, "labelsFromPath": labels or {}}, "test")


def stateset(path: list[str], label_name: str, values: list[str], value_from: list[str] | None = None
             ) -> CompiledStateSet:
    return CompiledStateSet({"path": path, "labelName": label_name, "list": values, "valueFrom": value_from or []},
                            "test")


def scrape(each: CompiledMetric) -> list[EachValue]:
    from ksm_py.customresourcestate.config import _BY_LABELS

    return sorted(each.values(each.path.get(CR)), key=_BY_LABELS)


VALUES = [
    ("single", gauge(["spec", "replicas"]), [ev(1)]),
    ("obj", gauge(["status", "active"], label_from_key="type"), [ev(1, "type", "type-a"), ev(3, "type", "type-b")]),
    ("deep obj", gauge(["status", "sub"], label_from_key="type", value_from=["ready"], labels={"active": ["active"]}),
     [ev(2, "type", "type-a", "active", "1"), ev(4, "type", "type-b", "active", "3")]),
    ("path-relative valueFrom value", gauge(["metadata"], value_from=["creationTimestamp"], labels={"name": ["name"]}),
     [ev(1.6563744e09, "name", "foo")]),
    ("non-existent path", gauge(["foo"], value_from=["creationTimestamp"], labels={"name": ["name"]}), []),
    ("valueFrom non-existent single", gauge(["spec", "replicas"], value_from=["non-existent"]), []),
    ("valueFrom non-existent array", gauge(["status", "condition_values"], value_from=["non-existent"],
                                           labels={"name": ["name"]}), []),
    ("array", gauge(["status", "condition_values"], value_from=["value"], labels={"name": ["name"]}),
     [ev(45, "name", "a"), ev(66, "name", "b")]),
    ("timestamp", gauge(["metadata", "creationTimestamp"]), [ev(1656374400)]),
    ("quantity_milli", gauge(["status", "quantity_milli"]), [ev(0.25)]),
    ("quantity_binarySI", gauge(["status", "quantity_binarySI"]), [ev(5.36870912e09)]),
    ("percentage", gauge(["status", "percentage"]), [ev(0.28)]),
    ("path-relative valueFrom percentage", gauge(["metadata"], value_from=["percentage"], labels={"name": ["name"]}),
     [ev(0.39, "name", "foo")]),
    ("boolean_string", gauge(["spec", "paused"], nil_is_zero=True), [ev(0)]),
    ("info", info([], labels={"version": ["spec", "version"]}), [ev(1, "version", "v0.0.0")]),
    ("info nil path", info(["does", "not", "exist"]), []),
    ("info label from key", info(["status", "active"], label_from_key="type"),
     [ev(1, "type", "type-a"), ev(1, "type", "type-b")]),
    ("info label from path", info(["status", "sub"], labels={"active": ["active"]}),
     [ev(1, "active", "1"), ev(1, "active", "3")]),
    ("stateset", stateset(["status", "phase"], "phase", ["foo", "bar"]), [ev(0, "phase", "bar"), ev(1, "phase", "foo")]),
    ("stateset nil path", stateset(["does", "not", "exist"], "phase", ["foo", "bar"]), []),
    ("stateset nil valueFrom", stateset(["status"], "phase", ["foo", "bar"], ["does", "not", "exist"]), []),
    ("stateset non-string value", stateset(["spec", "replicas"], "phase", ["1", "2"]), []),
    ("stateset non-string valueFrom", stateset(["status"], "phase", ["foo", "bar"], ["uptime"]), []),
    ("status_conditions", gauge(["status", "conditions", "[type=Ready]", "status"]), [ev(1)]),
    ("status_conditions_all", gauge(["status", "conditions"], value_from=["status"], labels={"type": ["type"]}),
     [ev(0, "type", "Provisioned"), ev(1, "type", "Ready")]),
    ("= expression matching", info([], labels={"bar": ["metadata", "annotations", "bar=baz"]}), [ev(1, "bar", "baz")]),
]


@pytest.mark.parametrize(("each", "want"), [v[1:] for v in VALUES], ids=[v[0] for v in VALUES])
def test_values(each: CompiledMetric, want: list[EachValue]) -> None:
    assert scrape(each) == want


@pytest.mark.parametrize(("parts", "want"), [
    (["spec", "replicas"], 1),
    (["status", "condition_values", "[name=b]", "value"], 66),
    (["spec", "order", "0", "value"], True),
    (["spec", "order", "-1", "value"], False),
    (["spec", "order", "5"], None),
    (["metadata", "labels", "foo"], "bar"),
    (["spec", "order", "[id=3]", "value"], False),
    (["spec", "order", "[value=false]", "id"], 3),
    (["metadata", "annotations", "bar=baz"], "baz"),
    (["metadata", "annotations", "bar=nope"], None),
    (["spec", "replicas", "deeper"], None),
])
def test_value_path_get(parts: list[str], want: Any) -> None:
    assert ValuePath(parts).get(CR) == want


def test_invalid_list_lookup() -> None:
    with pytest.raises(PathError, match=r"invalid list lookup: \[Ready\]"):
        ValuePath(["status", "conditions", "[Ready]"])


def test_add_path_labels() -> None:
    got: dict[str, str] = {}
    add_path_labels(CR, {"bool": p("spec", "order", "-1", "value"), "number": p("spec", "replicas"),
                         "string": p("metadata", "labels", "foo")}, got)
    assert got == {"bool": "false", "number": "1", "string": "bar"}
    got = {}
    add_path_labels(CR, {"*1": p("metadata", "annotations"), "bar": p("metadata", "labels", "foo"),
                         "label_object_*": p("metadata", "annotations")}, got)
    assert got == {"qux": "quxx", "bar": "bar", "label_object_qux": "quxx", "label_object_bar": "baz"}
    got = {}
    add_path_labels(CR, {"a.b-c": p("spec", "order"), "m": p("status", "active"), "f": p("status", "uptime")}, got)
    assert got == {"a_b_c": "[map[id:1 value:true] map[id:3 value:false]]", "m": "map[type-a:1 type-b:3]",
                   "f": "43.21"}


@pytest.mark.parametrize(("value", "want"), [
    (None, "<nil>"), (True, "true"), (1, "1"), (1.0, "1"), (1e6, "1e+06"), (123456.5, "123456.5"),
    (-0.0, "-0"), (float("inf"), "+Inf"), (1 << 70, "1.1805916207174113e+21"), ([], "[]"), ({}, "map[]"),
])
def test_go_sprint(value: Any, want: str) -> None:
    assert go_sprint(value) == want


@pytest.mark.parametrize(("value", "want"), [
    (True, 1), (False, 0), (3, 3), (2.5, 2.5), ("true", 1), ("YES", 1), ("No", 0), ("unknown", 0),
    ("2022-06-28T00:00:00Z", 1656374400), ("2022-06-28T02:00:00.5+02:00", 1656374400),
    ("250m", 0.25), ("1.5Gi", 1610612736), ("1e3", 1000), ("5Gi", 5368709120), ("m", 0), ("0.3", 0.30000000000000004),
    ("28%", 0.28), ("-7", -7), ("NaN", math.nan), ("inf", math.inf), ("0x1p-2", 0.25), ("1e-400", 1e-9), ("1e5000", math.inf),
])
def test_to_float64(value: Any, want: float) -> None:
    got = to_float64(value, False)
    assert got == want or (math.isnan(want) and math.isnan(got))


@pytest.mark.parametrize("value", [None, "", "abc", " 1", "1.5e", "1_000", {"a": 1}, [1], "2022-13-01T00:00:00Z"])
def test_to_float64_errors(value: Any) -> None:
    with pytest.raises(ValueError_):
        to_float64(value, False)
    if value is None:
        assert to_float64(None, True) == 0


CONFIG = """
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind: {group: myteam.io, version: "*", kind: Foo}
      commonLabels: {team: a, customresource_group: overridden}
      labelsFromPath: {name: [metadata, name], namespace: [metadata, namespace]}
      metrics:
        - name: uptime
          help: "Foo uptime"
          each: {type: Gauge, gauge: {path: [status, uptime]}}
        - name: phase
          help: "Foo phase"
          commonLabels: {team: b}
          each: {type: StateSet, stateSet: {path: [status, phase], labelName: phase, list: [Running, Failed]}}
        - name: info
          help: "Foo info"
          labelsFromPath: {version: [spec, version]}
          each: {type: info, info: {labelsFromPath: {"*": [metadata, labels]}}}
    - groupVersionKind: {group: myteam.io, version: v1, kind: Bar}
      metricNamePrefix: ""
      metrics:
        - name: bar_replicas
          help: ""
          each: {type: Gauge, gauge: {path: [spec, replicas], nilIsZero: yes}}
"""

FOO = {"apiVersion": "myteam.io/v1", "kind": "Foo",
       "metadata": {"name": "f1", "namespace": "ns", "uid": "u1", "labels": {"app.kubernetes.io/name": "x"}},
       "spec": {"version": 1.1}, "status": {"uptime": 43.21, "phase": "Running"}}


def test_parse_and_compile() -> None:
    resources = parse(CONFIG)
    assert [r.prefix for r in resources] == ["kube_customresource", ""]
    assert resources[1].metrics[0].each.gauge == {"path": ["spec", "replicas"], "nilIsZero": "yes"}
    families = compile_resource(resources[0], GroupVersionKind("myteam.io", "v1", "Foo"))
    assert [(f.name, f.type) for f in families] == [
        ("kube_customresource_uptime", "gauge"), ("kube_customresource_phase", "stateset"),
        ("kube_customresource_info", "info")]
    # The reserved labels win over the resource's commonLabels; a metric's commonLabels win over both.
    assert families[1].labels == {"team": "b", "customresource_group": "myteam.io",
                                  "customresource_version": "v1", "customresource_kind": "Foo"}


@pytest.mark.parametrize(("text", "error"), [
    ("", "EOF"),
    ("spec: {resources: [{metrics: [{name: x, each: {type: Histogram}}]}]}", "unknown metric type histogram"),
    ("spec: {resources: [{metrics: [{name: x, each: {type: Gauge}}]}]}", "expected each.gauge to not be nil"),
    ("spec: {resources: [{metrics: [{name: x, each: {type: Gauge, gauge: {path: [a, '[b]']}}}]}]}",
     "invalid list lookup"),
    ("spec: {resources: [{metrics: [{name: x, each: {type: Gauge, gauge: {path: a}}}]}]}", "expected a list"),
    ("spec: {resources: [{metrics: [{name: x, each: {type: Gauge, gauge: {nilIsZero: maybe}}}]}]}",
     "expected true or false"),
    ("spec: [", "failed to parse"),
])
def test_bad_configs(text: str, error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        parse(text)


class FakeExporter:
    def __init__(self) -> None:
        from ksm_py.telemetry import Telemetry

        self.telemetry = Telemetry()
        self.added: dict[str, Any] = {}
        self.spawned: list[Any] = []

    def spawn(self, run: Any) -> None:
        self.spawned.append(run)

    def add_resource(self, compiled: Any, api: Any) -> None:
        self.added[compiled.name] = (compiled, api)

    def remove_resource(self, name: str) -> None:
        self.added.pop(name, None)


def crd(group: str, kind: str, plural: str, versions: dict[str, bool], scope: str = "Namespaced") -> dict[str, Any]:
    return {"metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "scope": scope, "names": {"kind": kind, "plural": plural},
                     "versions": [{"name": v, "served": s} for v, s in versions.items()]}}


def test_served_versions_and_resolve() -> None:
    foo = served_versions(crd("myteam.io", "Foo", "foos", {"v1": True, "v2": True, "v0": False}, "Cluster"))
    assert foo == [GVKP("myteam.io", "v1", "Foo", "foos", False), GVKP("myteam.io", "v2", "Foo", "foos", False)]
    assert foo[0].gvr == "myteam.io/v1, Resource=foos"
    assert resolve(GroupVersionKind("myteam.io", "*", "Foo"), foo) == foo
    assert resolve(GroupVersionKind("myteam.io", "v2", ""), foo) == foo[1:]
    assert resolve(GroupVersionKind("myteam.io", "v3", "Foo"), foo) == []
    assert resolve(GroupVersionKind("*", "v1", "Foo"), foo) == []
    assert served_versions({"spec": "broken"}) == []


def test_discovery_starts_and_stops_resources() -> None:
    ext = CustomResourceState(Options(), parse(CONFIG))
    exporter = FakeExporter()
    ext.bind(exporter)  # type: ignore[arg-type]
    replacement = ext.watches(Options())[0].sink(None).replacement()
    replacement.add(crd("myteam.io", "Foo", "foos", {"v1": True, "v2": True}))
    replacement.add(crd("other.io", "Foo", "foos", {"v1": True}))
    replacement.commit()
    assert sorted(exporter.added) == ["myteam.io/v1, Resource=foos", "myteam.io/v2, Resource=foos"]
    sink = ext.watches(Options())[0].sink(None)
    sink.upsert(crd("myteam.io", "Bar", "bars", {"v1": True}))
    assert "myteam.io/v1, Resource=bars" in exporter.added
    sink.upsert(crd("myteam.io", "Foo", "foos", {"v1": True, "v2": False}))
    assert sorted(exporter.added) == ["myteam.io/v1, Resource=bars", "myteam.io/v1, Resource=foos"]
    sink.delete(crd("myteam.io", "Foo", "foos", {}))
    assert sorted(exporter.added) == ["myteam.io/v1, Resource=bars"]
    text = exporter.telemetry.registry.get_sample_value
    assert text("kube_state_metrics_custom_resource_state_add_events_total") == 3
    assert text("kube_state_metrics_custom_resource_state_update_events_total") == 1
    assert text("kube_state_metrics_custom_resource_state_delete_events_total") == 1
    assert text("kube_state_metrics_custom_resource_state_cache") == 2


def _render(fmt: Format = TEXT, options: Options | None = None) -> str:
    ext = CustomResourceState(options or Options(), parse(CONFIG))
    ext.bind(FakeExporter())  # type: ignore[arg-type]
    compiled = ext.compile(ext.config[0], GVKP("myteam.io", "v1", "Foo", "foos"))
    assert compiled.name == "myteam.io/v1, Resource=foos"
    store = MetricsStore(compiled)
    store.replace([FOO])
    return render_body([ResourceWriter(compiled, [store])], fmt).decode()


def test_exposition_text() -> None:
    common = 'customresource_group="myteam.io",customresource_kind="Foo",customresource_version="v1"'
    assert _render() == f"""\
# HELP kube_customresource_uptime Foo uptime
# TYPE kube_customresource_uptime gauge
kube_customresource_uptime{{{common},name="f1",namespace="ns",team="a"}} 43.21
# HELP kube_customresource_phase Foo phase
# TYPE kube_customresource_phase gauge
kube_customresource_phase{{{common},name="f1",namespace="ns",phase="Failed",team="b"}} 0
kube_customresource_phase{{{common},name="f1",namespace="ns",phase="Running",team="b"}} 1
# HELP kube_customresource_info Foo info
# TYPE kube_customresource_info gauge
kube_customresource_info{{app_kubernetes_io_name="x",{common},name="f1",namespace="ns",team="a",version="1.1"}} 1
"""


def test_exposition_openmetrics_types_and_filter() -> None:
    om = Format(True, "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores")
    text = _render(om)
    assert "# TYPE kube_customresource_phase stateset\n" in text
    assert "# TYPE kube_customresource_info info\n" in text
    assert text.endswith("# EOF\n")
    filtered = _render(options=Options(metric_denylist=["_phase$"]))
    assert "kube_customresource_phase" not in filtered and "kube_customresource_uptime{" in filtered


def test_config_file_metrics(tmp_path: Any) -> None:
    import hashlib

    path = tmp_path / "crs.yaml"
    path.write_text(CONFIG)
    ext = CustomResourceState(Options(custom_resource_state_config_file=str(path)), parse(CONFIG))
    exporter = FakeExporter()
    ext.bind(exporter)  # type: ignore[arg-type]
    labels = {"type": "customresourceconfig", "filename": str(path)}
    value = exporter.telemetry.registry.get_sample_value("kube_state_metrics_config_hash", labels)
    assert value == int.from_bytes(hashlib.md5(CONFIG.encode()).digest()[:6], "little")
    assert exporter.telemetry.registry.get_sample_value("kube_state_metrics_last_config_reload_successful",
                                                        labels) == 1
    assert exporter.spawned == [ext._follow_file], "the file is followed in a greenlet the exporter owns"


class RecordingExporter(FakeExporter):
    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []

    def add_resource(self, compiled: Any, api: Any) -> None:
        super().add_resource(compiled, api)
        self.log.append(f"+{compiled.name}")

    def remove_resource(self, name: str) -> None:
        super().remove_resource(name)
        self.log.append(f"-{name}")


def test_config_file_reload_rewatches_only_what_changed(tmp_path: Any) -> None:
    """A changed file is applied without a restart: a new metric on Bar re-watches Bar only (its new
    family appears), Foo keeps its list/watch; a file that does not load keeps the running one."""
    path = tmp_path / "crs.yaml"
    path.write_text(CONFIG)
    options = Options(custom_resource_state_config_file=str(path))
    ext = CustomResourceState(options, parse(CONFIG))
    exporter = RecordingExporter()
    ext.bind(exporter, follow=False)  # type: ignore[arg-type]
    sink = ext.watches(options)[0].sink(None)
    sink.upsert(crd("myteam.io", "Foo", "foos", {"v1": True}))
    sink.upsert(crd("myteam.io", "Bar", "bars", {"v1": True}))
    bar, foo = "myteam.io/v1, Resource=bars", "myteam.io/v1, Resource=foos"
    assert sorted(exporter.added) == [bar, foo]
    assert not ext.poll_config(), "nothing changed"

    exporter.log.clear()
    changed = CONFIG + """\
        - name: bar_ready
          help: "Bar ready"
          each: {type: Gauge, gauge: {path: [status, ready], nilIsZero: yes}}
"""
    staged = tmp_path / "staged.yaml"
    staged.write_text(changed)
    staged.replace(path)  # a rename, as a ConfigMap update swaps the file
    assert ext.poll_config()
    assert exporter.log == [f"-{bar}", f"+{bar}"], "only the changed resource is watched anew"
    assert [f.name for f in exporter.added[bar][0].families] == ["bar_replicas", "bar_ready"]
    registry = exporter.telemetry.registry
    labels = {"type": "customresourceconfig", "filename": str(path)}
    assert registry.get_sample_value("kube_state_metrics_config_hash", labels) == \
        int.from_bytes(__import__("hashlib").md5(changed.encode()).digest()[:6], "little")

    exporter.log.clear()
    path.write_text("spec: [")
    assert not ext.poll_config()
    assert exporter.log == [] and sorted(exporter.added) == [bar, foo]
    assert registry.get_sample_value("kube_state_metrics_last_config_reload_successful", labels) == 0
