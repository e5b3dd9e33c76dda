"""kube_event_* (events.k8s.io/v1 Events with their StackState category)."""

from __future__ import annotations

from typing import Any

import pytest

from ksm_py.event_categories import ACTIVITIES, ALERTS, CHANGES, OTHERS, category, count, last_seen

from ._util import render


def event(name: str, *, reason: str, type: str = "Normal", **body: Any) -> dict[str, Any]:
    return {"apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": name, "namespace": "shop", "uid": f"uid-{name}",
                         "creationTimestamp": "2024-05-01T10:00:00Z"},
            "regarding": {"kind": "Pod", "name": "web-1", "namespace": "shop", "uid": "p1"},
            "reason": reason, "type": type, "note": "Back-off pulling image \"registry.example/x:1\"",
            "reportingController": "kubelet", "reportingInstance": "n1", "action": "Pulling", **body}


@pytest.mark.parametrize(("type_", "reason", "want"), [
    ("Warning", "Failed", ALERTS),
    ("Warning", "BackOff", ALERTS),
    ("Warning", "ScalingReplicaSet", ALERTS),   # any Warning is an Alert, whatever the reason
    ("Warning", "SomethingNew", ALERTS),
    ("Normal", "BackOff", ALERTS),              # the current agent table moved BackOff to Alerts
    ("Normal", "ScalingReplicaSet", ACTIVITIES),
    ("Normal", "SuccessfulCreate", ACTIVITIES),  # Changes in the old docs table, Activities now
    ("Normal", "Created", ACTIVITIES),
    ("Normal", "NodeReady", ACTIVITIES),
    ("Normal", "Scheduled", ACTIVITIES),
    ("Normal", "SandboxChanged", CHANGES),
    ("Normal", "DeploymentCreated", CHANGES),
    ("Normal", "Updated", CHANGES),
    ("Normal", "WaitForFirstConsumer", OTHERS),
    ("Normal", "SomethingNew", OTHERS),
    ("", "", OTHERS),
])
def test_category(type_: str, reason: str, want: str) -> None:
    assert category(type_, reason) == want


@pytest.mark.parametrize(("body", "want"), [
    ({}, 1),                                                         # a singleton
    ({"deprecatedCount": 7}, 7),                                     # written through core/v1 (count)
    ({"series": {"count": 3, "lastObservedTime": "2024-05-01T10:05:00.000000Z"}}, 3),
    ({"series": {"count": 3}, "deprecatedCount": 9}, 3),
    ({"deprecatedCount": 0}, 1),
])
def test_count(body: dict[str, Any], want: int) -> None:
    assert count(event("e", reason="Pulling", **body)) == want


@pytest.mark.parametrize(("body", "want"), [
    ({"series": {"count": 2, "lastObservedTime": "2024-05-01T10:05:30.123456Z"},
      "eventTime": "2024-05-01T10:01:00.000000Z"}, 1714557930),
    ({"deprecatedLastTimestamp": "2024-05-01T10:04:00Z", "eventTime": "2024-05-01T10:01:00.000000Z"}, 1714557840),
    ({"eventTime": "2024-05-01T10:01:00.999999Z"}, 1714557660),
    ({"deprecatedFirstTimestamp": "2024-05-01T10:00:30Z"}, 1714557630),
    ({}, 1714557600),  # creationTimestamp
])
def test_last_seen(body: dict[str, Any], want: int) -> None:
    assert last_seen(event("e", reason="Pulling", **body)) == want


def test_exposition() -> None:
    text = render([
        event("web-1.a", reason="Failed", type="Warning", series={"count": 4, "lastObservedTime": "2024-05-01T10:05:00Z"}),
        event("web-1.b", reason="Scheduled", eventTime="2024-05-01T10:00:01.5Z"),
        {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "core", "namespace": "shop"}},  # not events.k8s.io
    ], resources=["events"])
    assert text.splitlines() == [
        "# HELP kube_event_occurrences_total The number of times the event occurred (series.count or "
        "deprecatedCount, else 1), with its StackState category.",
        "# TYPE kube_event_occurrences_total counter",
        *sorted([
            'kube_event_occurrences_total{namespace="shop",event="web-1.a",involved_kind="Pod",involved_name="web-1",'
            'reason="Failed",type="Warning",category="Alerts"} 4',
            'kube_event_occurrences_total{namespace="shop",event="web-1.b",involved_kind="Pod",involved_name="web-1",'
            'reason="Scheduled",type="Normal",category="Activities"} 1',
        ], key=lambda line: text.index(line)),
        "# HELP kube_event_last_seen_timestamp_seconds Unix timestamp of the last occurrence of the event "
        "(whole seconds).",
        "# TYPE kube_event_last_seen_timestamp_seconds gauge",
        *sorted([
            'kube_event_last_seen_timestamp_seconds{namespace="shop",event="web-1.a",involved_kind="Pod",'
            'involved_name="web-1",reason="Failed",type="Warning",category="Alerts"} 1.7145579e+09',
            'kube_event_last_seen_timestamp_seconds{namespace="shop",event="web-1.b",involved_kind="Pod",'
            'involved_name="web-1",reason="Scheduled",type="Normal",category="Activities"} 1.714557601e+09',
        ], key=lambda line: text.index(line)),
    ]
    assert "registry.example" not in text and "Back-off" not in text  # no message text


def test_two_events_with_the_same_reason_about_one_object_are_two_series() -> None:
    text = render([event("web.1", reason="ScalingReplicaSet", deprecatedCount=1),
                   event("web.2", reason="ScalingReplicaSet", deprecatedCount=2)], resources=["events"])
    lines = [line for line in text.splitlines() if line.startswith("kube_event_occurrences_total{")]
    assert len(lines) == 2 and len(set(lines)) == 2


def test_namespaces_flag_gives_one_store_per_namespace() -> None:
    other = event("x", reason="Pulled")
    other["metadata"]["namespace"] = "other"
    text = render([event("a", reason="Pulled"), other], resources=["events"], namespaces=["other"])
    assert 'event="x"' in text and 'event="a"' not in text
