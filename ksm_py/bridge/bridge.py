"""One snapshot round and one event flush: read, map, chunk, send; or skip and say why."""

from __future__ import annotations

import logging
import sys
import time
from typing import IO, Any, Callable, Protocol

import orjson

from .events import EventSink
from .intake import IntakeError, IntakeRejected
from .model import Topology
from .sources import SourceIncomplete
from .stackstate import MAX_CHUNK_ELEMENTS, Mapper, envelope
from .telemetry import BridgeTelemetry

logger = logging.getLogger(__name__)


class Source(Protocol):
    def describe(self) -> str: ...
    def read(self) -> Topology: ...


class Sender(Protocol):
    def describe(self) -> str: ...
    def post(self, payload: dict[str, Any]) -> None: ...


class PrintSender:
    """``--dry-run``: one JSON payload per line on stdout instead of a POST."""

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out

    def describe(self) -> str:
        return "stdout (--dry-run)"

    def post(self, payload: dict[str, Any]) -> None:
        out = self.out or sys.stdout
        out.write(orjson.dumps(payload).decode() + "\n")
        out.flush()


class Bridge:
    def __init__(self, source: Source, mapper: Mapper, sender: Sender, *, hostname: str,
                 telemetry: BridgeTelemetry | None = None, chunk_size: int = MAX_CHUNK_ELEMENTS,
                 clock: Callable[[], float] = time.time) -> None:
        self.source = source
        self.mapper = mapper
        self.sender = sender
        self.hostname = hostname
        self.telemetry = telemetry or BridgeTelemetry()
        self.chunk_size = chunk_size
        self.clock = clock
        self.last_skip = ""

    def _envelope(self, **parts: Any) -> dict[str, Any]:
        return envelope(hostname=self.hostname, timestamp=int(self.clock()), **parts)

    def skip(self, reason: str, detail: str) -> None:
        self.last_skip = reason
        self.telemetry.snapshots.labels("skipped", reason).inc()
        logger.warning("snapshot skipped (%s): %s; nothing sent, StackState keeps the previous snapshot",
                       reason, detail)

    def push_snapshot(self) -> bool:
        """Read the source and send one full snapshot; False when skipped or refused."""
        started = time.monotonic()
        try:
            topology = self.source.read()
        except SourceIncomplete as e:
            self.skip(e.reason, e.detail)
            return False
        if not any(key.type != "cluster" for key in topology.components):
            # Cannot be a real cluster (there is always a namespace): sending it would delete
            # every component.
            self.skip("empty", f"{self.source.describe()} returned no component")
            return False
        snapshot = self.mapper.snapshot(topology)
        chunks = list(self.mapper.chunks(snapshot, self.chunk_size))
        for i, chunk in enumerate(chunks, 1):
            try:
                self.sender.post(self._envelope(topologies=[chunk]))
            except IntakeError as e:
                kind = "rejected" if isinstance(e, IntakeRejected) else "unavailable"
                self.telemetry.snapshots.labels("failed", kind).inc()
                self.telemetry.errors.labels("snapshot", str(e.status or kind)).inc()
                logger.error("snapshot chunk %d of %d not accepted by %s: %s%s", i, len(chunks),
                             self.sender.describe(), e,
                             "; not retried until the next round" if isinstance(e, IntakeRejected) else "")
                return False
            self.telemetry.chunks.inc()
        self.telemetry.snapshots.labels("sent", "").inc()
        self.telemetry.elements.labels("components").set(len(snapshot.components))
        self.telemetry.elements.labels("relations").set(len(snapshot.relations))
        self.telemetry.dropped_relations.set(snapshot.dropped_relations)
        self.telemetry.last_success.labels("snapshot").set(self.clock())
        self.telemetry.push_duration.observe(time.monotonic() - started)
        self.last_skip = ""
        logger.info("snapshot sent: %d components, %d relations (%d dropped: an end is missing) in %d chunk(s)",
                    len(snapshot.components), len(snapshot.relations), snapshot.dropped_relations, len(chunks))
        return True

    def flush_events(self, sink: EventSink, batch: int = 1000) -> int:
        """Send the queued events; returns how many were accepted.

        A refused batch (4xx) is dropped and reported; an unreachable receiver keeps the batch at
        the head of the queue for the next flush (the queue is bounded by the sink).
        """
        sent = 0
        while sink.queue:
            items = [sink.queue.popleft() for _ in range(min(batch, len(sink.queue)))]
            events = [e for _, e in items]
            try:
                self.sender.post(self._envelope(events={"kubernetes": events}))
            except IntakeRejected as e:
                self.telemetry.errors.labels("events", str(e.status)).inc()
                self.telemetry.events_failed(len(items), "rejected")
                logger.error("%d event(s) refused by %s and dropped: %s", len(items), self.sender.describe(), e)
                continue
            except IntakeError as e:
                self.telemetry.errors.labels("events", str(e.status or "unavailable")).inc()
                sink.queue.extendleft(reversed(items))
                logger.error("%d event(s) not delivered to %s, kept for the next flush: %s", len(items),
                             self.sender.describe(), e)
                break
            sent += len(events)
            self.telemetry.events_sent(events)
            self.telemetry.last_success.labels("events").set(self.clock())
        if sent:
            logger.info("%d event(s) sent", sent)
        return sent
