"""A snapshot round: send complete snapshots, skip (and say why) on an incomplete source."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from prometheus_client import generate_latest

from ksm_py.bridge.bridge import Bridge, PrintSender
from ksm_py.bridge.events import EventMapper, EventSink
from ksm_py.bridge.intake import IntakeError, IntakeRejected, IntakeUnavailable
from ksm_py.bridge.model import Key, Topology
from ksm_py.bridge.sources import SourceIncomplete
from ksm_py.bridge.stackstate import Mapper
from ksm_py.bridge.telemetry import BridgeTelemetry


class FakeSource:
    def __init__(self, *results: Topology | SourceIncomplete) -> None:
        self.results = list(results)

    def describe(self) -> str:
        return "fake"

    def read(self) -> Topology:
        result = self.results.pop(0) if len(self.results) > 1 else self.results[0]
        if isinstance(result, SourceIncomplete):
            raise result
        return result


class FakeSender:
    def __init__(self, failures: list[IntakeError | None] | None = None) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.failures = failures or []

    def describe(self) -> str:
        return "fake receiver"

    def post(self, payload: dict[str, Any]) -> None:
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            raise failure
        self.payloads.append(payload)


def topology(pods: int = 3) -> Topology:
    t = Topology()
    t.component(Key("cluster", "", "kubernetes"))
    t.component(Key("namespace", "a", "a"))
    for i in range(pods):
        t.component(Key("pod", "a", f"p{i}"))
        t.relation("encloses", Key("namespace", "a", "a"), Key("pod", "a", f"p{i}"))
    return t


def sample(telemetry: BridgeTelemetry, name: str, **labels: str) -> float:
    value = telemetry.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def bridge(source: FakeSource, sender: FakeSender, chunk_size: int = 10_000) -> Bridge:
    return Bridge(source, Mapper("prod"), sender, hostname="bridge-0", telemetry=BridgeTelemetry(),
                  chunk_size=chunk_size, clock=lambda: 1_700_000_000.5)


def test_a_complete_source_is_sent_as_one_snapshot() -> None:
    sender = FakeSender()
    b = bridge(FakeSource(topology()), sender)
    assert b.push_snapshot()
    (payload,) = sender.payloads
    assert payload["collection_timestamp"] == 1_700_000_000
    assert payload["internalHostname"] == "bridge-0"
    (chunk,) = payload["topologies"]
    assert chunk["start_snapshot"] and chunk["stop_snapshot"]
    assert len(chunk["components"]) == 5 and len(chunk["relations"]) == 3
    assert sample(b.telemetry, "ksm_py_bridge_snapshots_total", result="sent", reason="") == 1
    assert sample(b.telemetry, "ksm_py_bridge_snapshot_elements", kind="components") == 5
    assert sample(b.telemetry, "ksm_py_bridge_last_success_timestamp_seconds", operation="snapshot") > 0


def test_large_snapshots_are_chunked() -> None:
    sender = FakeSender()
    b = bridge(FakeSource(topology(pods=10)), sender, chunk_size=8)
    assert b.push_snapshot()
    chunks = [p["topologies"][0] for p in sender.payloads]
    assert [len(c["components"]) + len(c["relations"]) for c in chunks] == [8, 8, 6]
    assert [(c["start_snapshot"], c["stop_snapshot"]) for c in chunks] == [(True, False), (False, False),
                                                                          (False, True)]


@pytest.mark.parametrize("problem", [
    SourceIncomplete("not_ready", "http://ksm:8081/readyz answered 503"),
    SourceIncomplete("scrape_error", "connection refused"),
    SourceIncomplete("bad_response", "cut off"),
    SourceIncomplete("no_topology", "no kube_topology_component"),
])
def test_an_incomplete_source_skips_the_round(problem: SourceIncomplete, caplog: pytest.LogCaptureFixture) -> None:
    sender = FakeSender()
    b = bridge(FakeSource(problem), sender)
    with caplog.at_level(logging.WARNING):
        assert not b.push_snapshot()
    assert sender.payloads == []
    assert sample(b.telemetry, "ksm_py_bridge_snapshots_total", result="skipped", reason=problem.reason) == 1
    assert f"snapshot skipped ({problem.reason})" in caplog.text
    assert problem.detail in caplog.text


def test_a_source_with_no_component_is_never_sent() -> None:
    """Only the cluster (ksm-py just started, or its stores are empty): an empty snapshot would
    delete every component of the cluster in StackState."""
    only_cluster = Topology()
    only_cluster.component(Key("cluster", "", "kubernetes"))
    for t in (Topology(), only_cluster):
        sender = FakeSender()
        b = bridge(FakeSource(t), sender)
        assert not b.push_snapshot()
        assert sender.payloads == []
        assert sample(b.telemetry, "ksm_py_bridge_snapshots_total", result="skipped", reason="empty") == 1


def test_skip_then_recover() -> None:
    sender = FakeSender()
    b = bridge(FakeSource(SourceIncomplete("not_ready", "503"), topology()), sender)
    assert not b.push_snapshot()
    assert b.last_skip == "not_ready"
    assert b.push_snapshot()
    assert b.last_skip == ""
    assert len(sender.payloads) == 1


@pytest.mark.parametrize(("error", "kind"), [(IntakeRejected(403, "HTTP 403"), "rejected"),
                                             (IntakeUnavailable("HTTP 503", 503), "unavailable")])
def test_a_refused_chunk_ends_the_snapshot(error: IntakeError, kind: str) -> None:
    sender = FakeSender([None, error])
    b = bridge(FakeSource(topology(pods=10)), sender, chunk_size=8)
    assert not b.push_snapshot()
    assert len(sender.payloads) == 1  # the first chunk; no stop_snapshot was ever sent
    assert not any(p["topologies"][0]["stop_snapshot"] for p in sender.payloads)
    assert sample(b.telemetry, "ksm_py_bridge_snapshots_total", result="failed", reason=kind) == 1


def _sink_with(n: int) -> EventSink:
    sink = EventSink(EventMapper("prod"), max_age=0)
    for i in range(n):
        sink.upsert({"metadata": {"uid": f"u{i}", "namespace": "a"}, "reason": "Pulled", "note": "x", "type": "Normal",
                     "regarding": {"kind": "Pod", "name": "p", "namespace": "a"}})
    return sink


def test_events_are_flushed_in_batches() -> None:
    sender = FakeSender()
    b = bridge(FakeSource(topology()), sender)
    sink = _sink_with(5)
    assert b.flush_events(sink, batch=2) == 5
    assert [len(p["events"]["kubernetes"]) for p in sender.payloads] == [2, 2, 1]
    assert all(p["topologies"] == [] for p in sender.payloads)
    assert sample(b.telemetry, "ksm_py_bridge_events_sent_total", category="Activities") == 5


def test_undeliverable_events_are_kept_refused_ones_dropped() -> None:
    sink = _sink_with(3)
    b = bridge(FakeSource(topology()), FakeSender([IntakeUnavailable("down")]))
    assert b.flush_events(sink) == 0
    assert len(sink.queue) == 3  # kept, in order, for the next flush
    assert [k for k, _ in sink.queue] == ["u0:1", "u1:1", "u2:1"]
    b = bridge(FakeSource(topology()), FakeSender([IntakeRejected(400, "bad")]))
    assert b.flush_events(sink) == 0
    assert not sink.queue
    assert sample(b.telemetry, "ksm_py_bridge_events_failed_total", reason="rejected") == 3


def test_dry_run_prints_one_json_payload_per_line() -> None:
    import io

    import orjson

    out = io.StringIO()
    b = Bridge(FakeSource(topology()), Mapper("prod"), PrintSender(out), hostname="h")
    assert b.push_snapshot()
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert orjson.loads(lines[0])["topologies"][0]["instance"] == {"type": "kubernetes", "url": "prod"}


def test_telemetry_exposition() -> None:
    b = bridge(FakeSource(SourceIncomplete("not_ready", "503")), FakeSender())
    b.push_snapshot()
    text = generate_latest(b.telemetry.registry).decode()
    assert 'ksm_py_bridge_snapshots_total{reason="not_ready",result="skipped"} 1.0' in text
