"""One answer for one event's last_seen: the kube_event_* metrics and the StackState bridge agree."""

from __future__ import annotations

from typing import Any

import pytest

from ksm_py.bridge.events import EventMapper, EventSink
from ksm_py.event_categories import last_seen
from tests.expo import series
from tests.topology._util import render

CREATED = "2024-05-01T10:00:00Z"  # 1714557600


def event(**body: Any) -> dict[str, Any]:
    return {"apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "web-1.a", "namespace": "shop", "uid": "uid-a", "creationTimestamp": CREATED},
            "regarding": {"kind": "Pod", "name": "web-1", "namespace": "shop"},
            "reason": "BackOff", "type": "Warning", "note": "Back-off restarting", **body}


# (fields of the event, expected Unix seconds)
CASES = [
    pytest.param({"series": {"count": 2, "lastObservedTime": "2024-05-01T10:05:30.123456Z"},
                  "deprecatedLastTimestamp": "2024-05-01T10:04:00Z", "eventTime": "2024-05-01T10:01:00.000000Z"},
                 1714557930, id="series-wins"),
    pytest.param({"deprecatedLastTimestamp": "2024-05-01T10:04:00Z", "eventTime": "2024-05-01T10:01:00.000000Z",
                  "deprecatedFirstTimestamp": "2024-05-01T10:00:30Z"}, 1714557840, id="last-timestamp"),
    pytest.param({"eventTime": "2024-05-01T10:01:00.999999Z", "deprecatedFirstTimestamp": "2024-05-01T10:00:30Z"},
                 1714557660, id="event-time-floored"),
    # Written through core/v1 with only firstTimestamp: the bridge used to skip it for the creation time.
    pytest.param({"deprecatedFirstTimestamp": "2024-05-01T10:00:30Z"}, 1714557630, id="first-timestamp"),
    pytest.param({}, 1714557600, id="creation"),
    pytest.param({"deprecatedLastTimestamp": "not-a-time", "deprecatedFirstTimestamp": "2024-05-01T10:00:30Z"},
                 1714557630, id="unreadable-passed-over"),
    pytest.param({"eventTime": "2024-05-01T10:01:00z"}, 1714557660, id="lowercase-z"),
    pytest.param({"eventTime": "2024-05-01T12:01:00+02:00"}, 1714557660, id="offset"),
    pytest.param({"series": None, "deprecatedLastTimestamp": 5, "eventTime": ""}, 1714557600, id="wrong-types"),
]


@pytest.mark.parametrize(("body", "want"), CASES)
def test_last_seen_is_the_same_for_metrics_and_bridge(body: dict[str, Any], want: int) -> None:
    obj = event(**body)
    assert last_seen(obj) == want
    text = render([obj], resources=["events"])
    (value,) = series(text, prefix="kube_event_last_seen_timestamp_seconds{").values()
    assert float(value) == want
    mapped = EventMapper("prod").map(obj)
    assert mapped is not None and mapped["timestamp"] == want


def test_bridge_age_filter_uses_the_same_time() -> None:
    # A core/v1 event first seen 10 minutes ago and created 2 hours ago: 10 minutes is within max_age.
    obj = event(deprecatedFirstTimestamp="2024-05-01T10:00:30Z")
    obj["metadata"]["creationTimestamp"] = "2024-05-01T08:00:00Z"
    sink = EventSink(EventMapper("prod"), max_age=900, clock=lambda: 1714557630 + 600)
    sink.offer(obj)
    assert len(sink.queue) == 1


def test_no_time_at_all() -> None:
    obj = event()
    del obj["metadata"]["creationTimestamp"]
    assert last_seen(obj) is None
    assert "kube_event_last_seen_timestamp_seconds{" not in render([obj], resources=["events"])
