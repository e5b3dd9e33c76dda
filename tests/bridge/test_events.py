"""Kubernetes events -> StackState events: categories, mapping, and each occurrence sent once."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ksm_py.bridge.events import EventMapper, EventSink, occurrence
from ksm_py.event_categories import ACTIVITIES, ALERTS, CHANGES, OTHERS, category
from ksm_py.event_categories import CATEGORIES as DEFAULT_CATEGORIES
from ksm_py.kube.reflector import Reflector

NOW = 1_700_000_000.0


def event(uid: str = "e1", reason: str = "Pulled", type: str = "Normal", count: int | None = None,
          kind: str = "Pod", name: str = "web-1", namespace: str = "shop", field_path: str = "",
          last: str = "2023-11-14T22:13:10Z") -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": f"{name}.{uid}", "namespace": namespace, "uid": uid, "resourceVersion": "1",
                     "creationTimestamp": "2023-11-14T22:00:00Z"},
        "regarding": {"kind": kind, "name": name, "namespace": namespace, "fieldPath": field_path},
        "reason": reason, "note": f"{reason} happened", "type": type,
        "deprecatedSource": {"component": "kubelet", "host": "node-1"},
        "deprecatedLastTimestamp": last, "reportingController": "kubelet",
    }
    if count is not None:
        obj["series"] = {"count": count, "lastObservedTime": last}
    return obj


@pytest.mark.parametrize(("type", "reason", "expected"), [
    ("Normal", "Pulled", ACTIVITIES),
    ("Normal", "ScalingReplicaSet", ACTIVITIES),
    ("Normal", "SuccessfulCreate", ACTIVITIES),
    ("Normal", "Created", ACTIVITIES),
    ("Normal", "BackOff", ALERTS),
    ("Normal", "SandboxChanged", CHANGES),
    ("Normal", "Updated", CHANGES),
    ("Normal", "Pending", OTHERS),
    ("Normal", "SomethingNew", OTHERS),
    # any Warning is an Alert, whatever its reason
    ("Warning", "Pulled", ALERTS),
    ("Warning", "SandboxChanged", ALERTS),
    ("Warning", "FailedScheduling", ALERTS),
])
def test_category(type: str, reason: str, expected: str) -> None:
    assert category(type, reason) == expected


def test_category_override_wins() -> None:
    assert category("Warning", "BackOff", {"BackOff": CHANGES}) == CHANGES


def test_category_table_matches_the_agent_table() -> None:
    counts = {c: sum(1 for v in DEFAULT_CATEGORIES.values() if v == c) for c in (ACTIVITIES, ALERTS, CHANGES, OTHERS)}
    assert counts == {ACTIVITIES: 50, ALERTS: 10, CHANGES: 10, OTHERS: 6}


def test_mapping_matches_the_agent_shape() -> None:
    e = EventMapper("prod").map(event(reason="BackOff", type="Warning", count=3,
                                      field_path="spec.containers{nginx}"))
    assert e == {
        "msg_title": "BackOff - web-1 Pod (3x)",
        "msg_text": "BackOff happened",
        "timestamp": 1699999990,  # 2023-11-14T22:13:10Z
        "priority": "normal",
        "host": "node-1-prod",
        "alert_type": "warning",
        "source_type_name": "kubernetes",
        "event_type": "BackOff",
        "tags": ["kube_namespace:shop", "kube_container_name:nginx", "source_component:kubelet",
                 "kube_object_name:web-1", "kube_object_kind:Pod", "kube_cluster_name:prod", "kube_reason:BackOff",
                 "alert_type:warning"],
        "context": {
            "source": "kubernetes", "category": "Alerts", "source_identifier": "e1",
            "element_identifiers": ["urn:kubernetes:/prod:shop:pod/web-1:container/nginx",
                                    "urn:kubernetes:/prod:shop:pod/web-1"],
            "source_links": [], "data": {},
        },
    }


def test_mapping_of_cluster_scoped_and_unknown_kinds() -> None:
    node = EventMapper("prod").map(event(kind="Node", name="node-1", namespace="", reason="NodeReady"))
    assert node is not None
    assert node["context"]["element_identifiers"] == ["urn:kubernetes:/prod:node/node-1"]
    assert node["context"]["category"] == ACTIVITIES
    assert "kube_namespace:shop" not in node["tags"]
    deploy = EventMapper("prod").map(event(kind="Deployment", name="web", reason="ScalingReplicaSet"))
    assert deploy is not None and "host" not in deploy  # host only for Node and Pod events
    assert deploy["msg_title"] == "ScalingReplicaSet - web Deployment (1x)"
    lease = EventMapper("prod").map(event(kind="Lease", name="x", reason="LeaderElection"))
    assert lease is not None and lease["context"]["element_identifiers"] == []


def test_incomplete_events_are_dropped() -> None:
    for broken in ({"reason": ""}, {"note": ""}, {"regarding": {"kind": "Pod"}}, {"regarding": {"name": "x"}}):
        obj = event()
        obj.update(broken)
        assert EventMapper("prod").map(obj) is None


def sink(clock: list[float], **kwargs: Any) -> EventSink:
    return EventSink(EventMapper("prod"), clock=lambda: clock[0], **kwargs)


def test_each_occurrence_is_queued_once() -> None:
    clock = [NOW]
    s = sink(clock)
    s.upsert(event("a"))
    s.upsert(event("a"))  # an update that changes nothing we send
    replacement = s.replacement()  # a relist after 410 Gone offers it again
    replacement.add(event("a"))
    replacement.commit()
    assert [k for k, _ in s.queue] == ["a:1"]
    s.upsert(event("a", count=2))  # it happened again: a new occurrence
    s.upsert(event("b"))
    s.upsert(event("a", count=2))
    assert [k for k, _ in s.queue] == ["a:1", "a:2", "b:1"]
    assert occurrence(event("a", count=7)) == "a:7"


def test_old_events_are_not_forwarded() -> None:
    clock = [NOW]
    s = sink(clock, max_age=300)
    s.upsert(event("old", last="2023-11-14T21:00:00Z"))
    s.upsert(event("new", last="2023-11-14T22:13:10Z"))
    assert [k for k, _ in s.queue] == ["new:1"]
    everything = sink(clock, max_age=0)
    everything.upsert(event("old", last="2023-11-14T21:00:00Z"))
    assert len(everything.queue) == 1


def test_dedup_cache_is_bounded_by_size_and_time() -> None:
    clock = [NOW]
    s = sink(clock, max_age=0, cache_size=2, cache_ttl=60)
    for uid in ("a", "b", "c"):
        s.upsert(event(uid))
    assert len(s.sent) == 2
    clock[0] += 61
    s.queue.clear()
    s.upsert(event("c"))  # expired from the cache: an event that old is long gone from the API
    assert len(s.queue) == 1


def test_queue_is_bounded() -> None:
    s = sink([NOW], max_age=0, queue_size=2)
    for uid in ("a", "b", "c"):
        s.upsert(event(uid))
    assert [k for k, _ in s.queue] == ["b:1", "c:1"]


class CannedSource:
    """A list answer and one watch stream, like the API server."""

    def __init__(self, items: list[dict[str, Any]], stream: list[tuple[str, dict[str, Any]]]) -> None:
        self.items, self.stream = items, stream

    def get(self, path: str, params: dict[str, Any] | None = None, *, accept: str = "", timeout: float = 0) -> bytes:
        import orjson

        assert path == "/apis/events.k8s.io/v1/events"
        return orjson.dumps({"metadata": {"resourceVersion": "10"}, "items": self.items})

    def stream_lines(self, path: str, params: dict[str, Any], *, accept: str = "", read_timeout: float = 0):  # type: ignore[no-untyped-def]
        import orjson

        for kind, obj in self.stream:
            yield orjson.dumps({"type": kind, "object": obj})


def test_reflector_feeds_the_sink() -> None:
    from ksm_py.kube.client import ApiResource

    s = sink([NOW], max_age=0)
    a2 = event("a", count=2)
    source = CannedSource([event("a"), event("b")],
                          [("MODIFIED", copy.deepcopy(event("a"))), ("MODIFIED", a2), ("DELETED", a2),
                           ("ADDED", event("c", reason="FailedMount", type="Warning"))])
    r = Reflector(source, ApiResource("events.k8s.io", "v1", "events", True), [s], name="events",
                  sleep=lambda _: None)
    r.run(iterations=1)
    assert [k for k, _ in s.queue] == ["a:1", "b:1", "a:2", "c:1"]
    assert s.queue[-1][1]["context"]["category"] == ALERTS
