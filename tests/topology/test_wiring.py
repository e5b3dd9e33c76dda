"""``topology`` and ``events`` as --resources keys: defaults, extension wiring, shared watches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gevent
import pytest

from ksm_py.app import Exporter
from ksm_py.builder import compile_resources
from ksm_py.cli import build_extensions
from ksm_py.events import EventsExtension
from ksm_py.kube.reflector import Reflector
from ksm_py.options import (
    ALL_RESOURCES,
    DEFAULT_RESOURCES,
    KSM_RESOURCES,
    OptionError,
    Options,
    build_parser,
    options_from_args,
)
from ksm_py.render import render
from ksm_py.topology.extension import TopologyExtension
from ksm_py.topology.graph import TopologySink

from ._util import obj, pod


def parse(*argv: str) -> Options:
    return options_from_args(build_parser().parse_args(list(argv)))


def test_keys() -> None:
    assert len(KSM_RESOURCES) == 39
    assert set(ALL_RESOURCES) == set(KSM_RESOURCES) | {"events", "topology"}
    # Off by default: with no flags ksm-py serves exactly kube-state-metrics' 32 default resources.
    assert len(DEFAULT_RESOURCES) == 32 and not {"events", "topology"} & set(DEFAULT_RESOURCES)
    assert not {"events", "topology"} & set(parse().resources)
    assert parse("--resources=pods,topology").resources == ["pods", "topology"]
    with pytest.raises(OptionError):
        parse("--resources=pods,topologies")


def test_cluster_name_flag() -> None:
    assert parse().topology_cluster_name == "kubernetes"
    assert parse("--topology-cluster-name=prod").topology_cluster_name == "prod"


def test_extensions_follow_resources() -> None:
    assert build_extensions(parse()) == []  # the defaults are kube-state-metrics' own
    assert [type(e) for e in build_extensions(parse("--resources=pods,events,topology"))] == [
        EventsExtension, TopologyExtension]
    assert [type(e) for e in build_extensions(parse("--resources=pods,events"))] == [EventsExtension]
    assert build_extensions(parse("--resources=pods,nodes")) == []
    # The KSM families ignore the extension keys.
    assert [c.name for c in compile_resources(parse("--resources=pods,events,topology"))] == ["pods"]


def test_ksm_only_render_is_untouched(tmp_path: Path) -> None:
    """Without the extension keys nothing is added: the output is kube-state-metrics' own."""
    f = tmp_path / "objs.yaml"
    import yaml

    f.write_text(yaml.safe_dump_all([pod("p", node="n1"), obj("v1", "Node", "n1", None)]))
    ksm = parse("--resources=pods,nodes")
    assert build_extensions(ksm) == []
    plain = render(compile_resources(ksm), ksm, [f])
    assert b"kube_topology" not in plain and b"kube_event" not in plain
    both = parse("--resources=pods,nodes,topology")
    with_topology = render(compile_resources(both), both, [f], build_extensions(both))
    # The KSM part is the same bytes, the topology families come after (sorted resource order).
    assert with_topology.startswith(plain) and b"kube_topology_component{" in with_topology[len(plain):]


class _NoClient:
    def livez(self) -> bool:
        return True

    def fork(self) -> _NoClient:
        return self


def _reflectors(exporter: Exporter) -> dict[str, Reflector]:
    by_name = {r.name: r for r in exporter.reflectors}
    assert len(by_name) == len(exporter.reflectors), "a resource is listed/watched twice"
    return by_name


def test_exporter_shares_one_watch_per_kind() -> None:
    options = parse("--resources=pods,secrets,events,topology")
    exporter = Exporter(options, _NoClient(), extensions=build_extensions(options))  # type: ignore[arg-type]
    refs = _reflectors(exporter)
    assert {"pods", "secrets", "configmaps", "endpointslices", "events", "volumeattachments"} <= set(refs)
    assert len(refs["pods"].sinks) == 2 and any(isinstance(s, TopologySink) for s in refs["pods"].sinks)
    assert refs["secrets"].metadata_only is False  # kube_secret_type needs the whole object
    assert refs["configmaps"].metadata_only is True
    assert [w.name for w in exporter.writers] == ["events", "pods", "secrets", "topology"]
    assert "/topology" in exporter.main_app().routes


def test_topology_alone_reads_secrets_as_metadata_only() -> None:
    options = parse("--resources=topology")
    exporter = Exporter(options, _NoClient(), extensions=build_extensions(options))  # type: ignore[arg-type]
    refs = _reflectors(exporter)
    assert refs["secrets"].metadata_only is True and refs["configmaps"].metadata_only is True
    assert refs["pods"].metadata_only is False


def test_namespaces_flag_makes_one_sink_per_namespace() -> None:
    options = parse("--resources=topology", "--namespaces=a,b")
    exporter = Exporter(options, _NoClient(), extensions=build_extensions(options))  # type: ignore[arg-type]
    pods = [r for r in exporter.reflectors if r.name == "pods"]
    nodes = [r for r in exporter.reflectors if r.name == "nodes"]
    assert sorted(str(r.namespace) for r in pods) == ["a", "b"] and [r.namespace for r in nodes] == [None]
    writer: Any = next(w for w in exporter.writers if w.name == "topology")
    sinks = [s for r in (*pods, *nodes) for s in r.sinks if isinstance(s, TopologySink)]
    assert len(sinks) == 3 and all(any(s.store is store for store in writer.stores) for s in sinks)


def _render_errors(exporter: Exporter, resource: str, family: str) -> float:
    value = exporter.telemetry.registry.get_sample_value("ksm_py_render_errors_total",
                                                         {"resource": resource, "family": family})
    return value or 0.0


def test_extension_stores_get_the_same_rendering_as_ksm_stores() -> None:
    """The wiring plan gives every served store, the extensions' too, the exporter's cooperation
    (yield during relists) and its render-error accounting; before it, topology and events
    stores had neither."""
    options = parse("--resources=pods,events,topology")
    exporter = Exporter(options, _NoClient(), extensions=build_extensions(options))  # type: ignore[arg-type]
    stores = {w.name: w.stores for w in exporter.writers}
    assert set(stores) == {"events", "pods", "topology"} and all(stores.values())
    for name, served in stores.items():
        for store in served:
            assert store.cooperate is gevent.idle, name
            assert store.compiled.on_render_error == exporter.telemetry.render_error, name


def test_events_and_topology_render_errors_are_counted() -> None:
    """A family that fails on an object is counted in ksm_py_render_errors_total for the events and
    topology stores too (no family fails on valid objects, so one is made to)."""
    options = parse("--resources=events,topology")
    exporter = Exporter(options, _NoClient(), extensions=build_extensions(options))  # type: ignore[arg-type]
    refs = _reflectors(exporter)

    def boom(_obj: Any) -> Any:
        raise RuntimeError("boom")

    event = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e1", "namespace": "ns", "uid": "u1"},
             "regarding": {"kind": "Pod", "name": "p"}, "reason": "Started", "type": "Normal"}
    (events_sink,) = refs["events"].sinks
    events_sink.compiled.fns.append(("kube_event_boom", boom))
    events_sink.upsert(event)
    assert _render_errors(exporter, "events", "kube_event_boom") == 1
    # Through a relist (replacement) as well.
    replacement = events_sink.replacement()
    replacement.add(event)
    replacement.commit()
    assert _render_errors(exporter, "events", "kube_event_boom") == 2
    (pod_sink,) = [s for s in refs["pods"].sinks if isinstance(s, TopologySink)]
    compiled = pod_sink.store.compiled
    compiled.fns.append(("kube_topology_boom", boom))
    pod_sink.upsert(pod("p", node="n1"))
    assert _render_errors(exporter, compiled.name, "kube_topology_boom") == 1


def test_a_pod_watch_parses_only_what_the_pod_families_read_unless_an_extension_feeds_on_it() -> None:
    from ksm_py.families import RESOURCES
    from ksm_py.wiring import plan

    def pod_feed(*argv: str) -> Any:
        options = parse(*argv)
        (feed,) = [f for f in plan(options, compile_resources(options), build_extensions(options)).feeds
                   if f.resource == "pods"]
        return feed

    assert pod_feed("--resources=pods").shape is RESOURCES["pods"].reads is not None
    # An extension sink may read any field of a pod: whole objects.
    assert pod_feed("--resources=pods,topology").shape is None
    assert pod_feed("--resources=nodes,topology").shape is None  # the extension's own pod watch
