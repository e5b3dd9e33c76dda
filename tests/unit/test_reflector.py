"""The list/watch loop against canned API answers (no cluster): ordering, 410, bad input, backoff."""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from ksm_py.families import RESOURCES
from ksm_py.kube.client import ApiError, ApiResource, StreamIdle
from ksm_py.kube.reflector import Backoff, Reflector, ReflectorSettings
from ksm_py.shape import Decoders
from ksm_py.sinks import Collect

PODS = ApiResource("", "v1", "pods", True)


def pod(name: str, rv: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}", "resourceVersion": rv}}


def page(items: list[dict[str, Any]], rv: str, cont: str = "") -> bytes:
    return json.dumps({"kind": "PodList", "metadata": {"resourceVersion": rv, "continue": cont}, "items": items}).encode()


def event(kind: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": kind, "object": obj}).encode()


class FakeSource:
    """Answers LISTs from ``lists`` and WATCHes from ``watches`` in order; records the requests."""

    def __init__(self, lists: list[Any], watches: list[Any]) -> None:
        self.lists, self.watches = lists, watches
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def get(self, path: str, params: dict[str, Any] | None = None, *, accept: str = "", timeout: float = 0) -> bytes:
        self.requests.append(("list", dict(params or {})))
        answer = self.lists.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[no-any-return]

    def stream_lines(self, path: str, params: dict[str, Any], *, accept: str = "", read_timeout: float = 0) -> Iterator[bytes]:
        # Like KubeClient: a refused watch raises here, an accepted one returns its stream.
        self.requests.append(("watch", {**params, "read_timeout": read_timeout}))
        answer = self.watches.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return iter(answer)


class RecordingSink:
    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.replaced = 0

    def upsert(self, obj: dict[str, Any]) -> None:
        self.objects[obj["metadata"]["uid"]] = obj

    def delete(self, obj: dict[str, Any]) -> None:
        self.objects.pop(obj["metadata"]["uid"], None)

    def replacement(self) -> Any:
        return Collect(lambda obj: (obj["metadata"]["uid"], obj), self._replace)

    def _replace(self, objects: dict[str, Any]) -> None:
        self.objects = objects
        self.replaced += 1


class Stats:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def list_request(self, resource: str, ok: bool) -> None:
        self.calls.append(("list request", str(ok)))

    def list_done(self, resource: str, ok: bool, objects: int) -> None:
        self.calls.append(("list", str(ok), str(objects)))

    def watch_request(self, resource: str, ok: bool) -> None:
        self.calls.append(("watch", str(ok)))

    def watch_closed(self, resource: str, reason: str) -> None:
        self.calls.append(("closed", reason))

    def event(self, resource: str, kind: str) -> None:
        self.calls.append(("event", kind))

    def bad_input(self, resource: str, reason: str) -> None:
        self.calls.append(("bad", reason))

    def error(self, resource: str, status: str) -> None:
        self.calls.append(("error", status))


def reflector(source: FakeSource, sink: RecordingSink, stats: Stats | None = None, sleeps: list[float] | None = None,
              decoders: Decoders | None = None) -> Reflector:
    return Reflector(source, PODS, [sink], name="pods", settings=ReflectorSettings(page_size=2), decoders=decoders,
                     stats=stats, sleep=(sleeps.append if sleeps is not None else lambda _s: None))


POD_SHAPE = Decoders(RESOURCES["pods"].reads or {})


def test_paginated_list_then_watch_from_list_resource_version() -> None:
    source = FakeSource(
        [page([pod("a", "5"), pod("b", "6")], "10", cont="tok"), page([pod("c", "7")], "10")],
        [[event("MODIFIED", pod("a", "11")), event("DELETED", pod("b", "12")), event("ADDED", pod("d", "13")),
          event("BOOKMARK", {"metadata": {"resourceVersion": "20"}})]],
    )
    sink = RecordingSink()
    r = reflector(source, sink)
    r.run(iterations=1)
    assert sorted(sink.objects) == ["uid-a", "uid-c", "uid-d"]
    assert sink.objects["uid-a"]["metadata"]["resourceVersion"] == "11"
    assert [p.get("continue") for kind, p in source.requests if kind == "list"] == ["", "tok"]
    watch = [p for kind, p in source.requests if kind == "watch"][0]
    # The watch starts at the LIST's resourceVersion, not at any object's.
    assert watch["resourceVersion"] == "10" and watch["allowWatchBookmarks"] == "true"
    assert 300 <= watch["timeoutSeconds"] < 600
    assert r.resource_version == "20" and r.synced


def test_410_in_stream_relists_and_replaces_so_deleted_objects_disappear() -> None:
    gone = event("ERROR", {"kind": "Status", "code": 410, "reason": "Expired"})
    source = FakeSource(
        [page([pod("a", "1"), pod("b", "2")], "5"), page([pod("a", "8")], "9")],
        [[event("MODIFIED", pod("a", "6")), gone], [event("ADDED", pod("c", "10"))]],
    )
    sink = RecordingSink()
    r = reflector(source, sink)
    r.run(iterations=2)
    # b was deleted while we were not watching: the relist must drop it.
    assert sorted(sink.objects) == ["uid-a", "uid-c"]
    assert sink.replaced == 2
    assert [p["resourceVersion"] for kind, p in source.requests if kind == "watch"] == ["5", "9"]


def test_http_410_on_watch_and_expired_continue_token_relist() -> None:
    source = FakeSource(
        [page([pod("a", "1"), pod("b", "2")], "5", cont="t1"), ApiError(410, "Expired"),
         page([pod("a", "3")], "7")],
        [[]],
    )
    sink = RecordingSink()
    r = reflector(source, sink)
    r.run(iterations=2)
    assert sorted(sink.objects) == ["uid-a"]
    assert [p.get("continue") for kind, p in source.requests if kind == "list"] == ["", "t1", ""]


def test_malformed_lines_are_counted_and_the_watch_goes_on() -> None:
    stats = Stats()
    source = FakeSource([page([], "1")], [[b"{not json", b'"a string"', b'{"type": "ADDED"}',
                                           event("WEIRD", pod("x", "2")), event("ADDED", pod("ok", "3"))]])
    sink = RecordingSink()
    reflector(source, sink, stats).run(iterations=1)
    assert list(sink.objects) == ["uid-ok"]
    assert [c for c in stats.calls if c[0] == "bad"] == [
        ("bad", "malformed watch event"), ("bad", "malformed watch event"), ("bad", "malformed watch event"),
        ("bad", "unknown event type WEIRD")]
    assert ("watch", "True") in stats.calls


def test_errors_back_off_exponentially_with_jitter_and_reset_after_success() -> None:
    sleeps: list[float] = []
    stats = Stats()
    source = FakeSource([ConnectionError("refused"), ApiError(500, "boom"), ApiError(403, "Forbidden"),
                         page([pod("a", "1")], "2")], [[]])
    sink = RecordingSink()
    r = reflector(source, sink, stats, sleeps)
    r.run(iterations=4)
    delays = [s for s in sleeps if s > 0]
    assert len(delays) == 3
    assert 0.8 <= delays[0] <= 1.6 and 1.6 <= delays[1] <= 3.2 and 3.2 <= delays[2] <= 6.4
    assert [c for c in stats.calls if c[0] == "error"] == [("error", "ConnectionError"), ("error", "500"),
                                                           ("error", "403")]
    assert r.synced and list(sink.objects) == ["uid-a"]


def test_backoff_is_capped() -> None:
    b = Backoff(1, 5)
    assert max(b.next() for _ in range(10)) <= 5


def test_shard_filter_applies_to_list_items_and_watch_events() -> None:
    source = FakeSource([page([pod("a", "1"), pod("b", "2")], "3")],
                        [[event("ADDED", pod("c", "4")), event("ADDED", pod("d", "5"))]])
    sink = RecordingSink()
    r = Reflector(source, PODS, [sink], name="pods", keep=lambda o: o["metadata"]["name"] in ("a", "d"),
                  sleep=lambda _s: None)
    r.run(iterations=1)
    assert sorted(sink.objects) == ["uid-a", "uid-d"]
    assert r.resource_version == "5"


@pytest.mark.parametrize("selector", ["metadata.namespace!=kube-system"])
def test_field_selector_on_list_and_watch(selector: str) -> None:
    source = FakeSource([page([], "1")], [[]])
    Reflector(source, PODS, [RecordingSink()], name="pods", field_selector=selector, sleep=lambda _s: None).run(1)
    assert all(p["fieldSelector"] == selector for _, p in source.requests)


@pytest.mark.parametrize("decoders", [None, POD_SHAPE], ids=["whole", "shaped"])
def test_malformed_objects_are_skipped_counted_and_do_not_end_the_watch(decoders: Decoders | None) -> None:
    stats = Stats()
    bad_meta = {"metadata": ["not", "a", "dict"]}
    no_name = {"metadata": {"uid": "u-x", "resourceVersion": "2"}}
    source = FakeSource([page([pod("a", "1"), bad_meta, 7], "2")],  # type: ignore[list-item]
                        [[event("ADDED", no_name), event("MODIFIED", {"metadata": {"name": "n", "uid": 5}}),
                          event("ADDED", pod("b", "3"))]])
    sink = RecordingSink()
    r = reflector(source, sink, stats, decoders=decoders)
    r.run(iterations=1)
    assert sorted(sink.objects) == ["uid-a", "uid-b"]
    assert [c[1] for c in stats.calls if c[0] == "bad"] == [
        "metadata is not an object", "item is not an object", "metadata.name is missing or not a string",
        "metadata.uid is not a string"]
    assert r.resource_version == "3"


def test_a_store_failing_on_one_object_does_not_end_the_watch() -> None:
    class Exploding(RecordingSink):
        def upsert(self, obj: dict[str, Any]) -> None:
            if obj["metadata"]["name"] == "boom":
                raise RuntimeError("boom")
            super().upsert(obj)

    stats = Stats()
    sink = Exploding()
    source = FakeSource([page([], "1")], [[event("ADDED", pod("boom", "2")), event("ADDED", pod("fine", "3"))]])
    reflector(source, sink, stats).run(iterations=1)
    assert list(sink.objects) == ["uid-fine"]
    assert ("bad", "object rejected by a store") in stats.calls
    assert not [c for c in stats.calls if c[0] == "error"]


def _stream(*lines: bytes, then: BaseException | None = None) -> Iterator[bytes]:
    yield from lines
    if then is not None:
        raise then


def test_stalled_watch_counts_as_failed_and_resumes_from_the_last_resource_version() -> None:
    stats = Stats()
    sleeps: list[float] = []
    source = FakeSource([page([pod("a", "1")], "2")],
                        [_stream(event("ADDED", pod("b", "3")), then=StreamIdle("no bytes")), []])
    r = reflector(source, RecordingSink(), stats, sleeps)
    r.run(iterations=2)
    # The watch request succeeded (upstream's meaning); the stream then ended early, as stalled.
    assert ("watch", "True") in stats.calls and ("watch", "False") not in stats.calls
    assert ("closed", "stalled") in stats.calls and ("error", "StreamIdle") in stats.calls
    assert [p["resourceVersion"] for kind, p in source.requests if kind == "watch"] == ["2", "3"]
    assert not [s for s in sleeps if s > 0], "a stalled stream is resumed at once (the timeout paced it)"


def test_a_watch_cut_after_it_was_accepted_restarts_the_backoff() -> None:
    sleeps: list[float] = []
    cut = ConnectionResetError("reset by peer")
    source = FakeSource([page([], "1")], [_stream(event("ADDED", pod("a", str(i + 2))), then=cut) for i in range(5)])
    reflector(source, RecordingSink(), Stats(), sleeps).run(iterations=5)
    delays = [s for s in sleeps if s > 0]
    # Five cuts in a row, each after a working watch: always the first step, never 30 s.
    assert len(delays) == 5 and all(0.8 <= d <= 1.6 for d in delays), delays


def test_watching_flag_and_last_sync_follow_the_stream() -> None:
    seen: list[tuple[bool, float]] = []
    r: Reflector

    def lines() -> Iterator[bytes]:
        seen.append((r.watching, r.last_sync))
        yield event("BOOKMARK", {"metadata": {"resourceVersion": "9"}})
        seen.append((r.watching, r.last_sync))

    source = FakeSource([page([], "1")], [lines()])
    r = reflector(source, RecordingSink())
    r.run(iterations=1)
    listed_at = seen[0][1]
    assert seen[0][0] and seen[1][0], "watching while the stream is open"
    assert seen[1][1] >= listed_at > 0, "a bookmark proves the data current"
    assert not r.watching and r.resource_version == "9"


def test_410_on_resuming_a_watch_is_an_expired_stream_and_a_relist_not_an_api_error() -> None:
    stats = Stats()
    source = FakeSource([page([], "1"), page([], "5")], [[event("ERROR", {"code": 410, "reason": "Expired"})], []])
    reflector(source, RecordingSink(), stats).run(iterations=2)
    assert ("closed", "expired") in stats.calls
    assert [c for c in stats.calls if c[0] == "list"] == [("list", "True", "0")] * 2
    assert not [c for c in stats.calls if c[0] == "error"]


def test_410_on_a_list_page_is_a_failed_list_and_an_api_error() -> None:
    stats = Stats()
    source = FakeSource([page([], "1", cont="t1"), ApiError(410, "Expired"), page([], "5")], [[], []])
    reflector(source, RecordingSink(), stats).run(iterations=2)
    assert ("error", "410") in stats.calls and ("list request", "False") in stats.calls


def test_the_next_page_is_requested_while_this_one_is_rendered() -> None:
    import threading

    second_page_requested = threading.Event()

    class SlowSource(FakeSource):
        def get(self, path: str, params: dict[str, Any] | None = None, *, accept: str = "", timeout: float = 0) -> bytes:
            if (params or {}).get("continue") == "tok":
                second_page_requested.set()
            return super().get(path, params, accept=accept, timeout=timeout)

    class WaitingSink(RecordingSink):
        def replacement(self) -> Any:
            inner = super().replacement()

            class R:
                def add(self, obj: dict[str, Any]) -> None:
                    if obj["metadata"]["name"] == "a":
                        # Without a prefetch the second page is only asked for after this returns.
                        assert second_page_requested.wait(5), "page 2 was not requested during page 1"
                    inner.add(obj)

                def commit(self) -> None:
                    inner.commit()
            return R()

    source = SlowSource([page([pod("a", "5"), pod("b", "6")], "10", cont="tok"), page([pod("c", "7")], "10")], [[]])
    sink = WaitingSink()
    reflector(source, sink).run(iterations=1)
    assert sorted(sink.objects) == ["uid-a", "uid-b", "uid-c"]
    assert [p.get("continue") for kind, p in source.requests if kind == "list"] == ["", "tok"]


def test_object_limit_lists_page_by_page_without_prefetch() -> None:
    source = FakeSource([page([pod("a", "5"), pod("b", "6")], "10", cont="t1"),
                         page([pod("c", "7")], "10", cont="t2")], [[]])
    sink = RecordingSink()
    Reflector(source, PODS, [sink], name="pods", settings=ReflectorSettings(page_size=2, object_limit=3),
              sleep=lambda _s: None).run(iterations=1)
    assert sorted(sink.objects) == ["uid-a", "uid-b", "uid-c"]
    # The second page asks for just what is left, and nothing is requested beyond the limit.
    assert [(p.get("continue"), p["limit"]) for kind, p in source.requests if kind == "list"] == [("", 2), ("t1", 1)]


def test_big_pages_and_event_backlogs_yield_to_the_event_loop() -> None:
    pauses: list[int] = []
    items = [pod(f"p{i}", str(i)) for i in range(120)]
    source = FakeSource([page(items, "200")], [[event("MODIFIED", pod(f"p{i}", str(300 + i))) for i in range(120)]])
    sink = RecordingSink()
    Reflector(source, PODS, [sink], name="pods", sleep=lambda _s: None,
              cooperate=lambda: pauses.append(len(sink.objects))).run(iterations=1)
    assert len(sink.objects) == 120
    # 2 pauses inside the page (the store is committed after the list) + 1 after it, then 2 inside
    # the backlog of 120 events.
    assert pauses == [0, 0, 0, 120, 120]


def test_watch_is_counted_when_the_request_is_made_not_when_the_stream_ends() -> None:
    """kube_state_metrics_watch_total as upstream counts it: success once the stream is open."""
    stats = Stats()
    seen_while_open: list[list[tuple[str, ...]]] = []

    def stream() -> Iterator[bytes]:
        seen_while_open.append(list(stats.calls))
        yield event("ADDED", pod("b", "3"))

    source = FakeSource([page([pod("a", "1")], "2", "tok"), page([], "2")], [stream(), ApiError(403, "Forbidden")])
    r = reflector(source, RecordingSink(), stats)
    r.run(iterations=2)
    assert ("watch", "True") in seen_while_open[0] and ("closed", "closed") not in seen_while_open[0]
    # One count per LIST request (page), as upstream counts List calls; the refused watch is an
    # error of the request and no stream was ever closed for it.
    assert [c for c in stats.calls if c[0] in ("list request", "watch", "closed")] == [
        ("list request", "True"), ("list request", "True"), ("watch", "True"), ("closed", "closed"),
        ("watch", "False")]


def test_a_quiet_watch_is_given_its_whole_timeout_before_it_counts_as_stalled() -> None:
    source = FakeSource([page([], "1")], [[], []])
    reflector(source, RecordingSink(), Stats()).run(iterations=2)
    for kind, p in source.requests:
        if kind == "watch":
            # The server ends the stream at timeoutSeconds; only silence beyond that (plus a grace)
            # is a stall. Silence before it is an idle resource, not an error.
            assert p["read_timeout"] == p["timeoutSeconds"] + ReflectorSettings().stall_grace
            assert ReflectorSettings().stall_grace >= 10


def test_forbidden_is_remembered_with_the_api_servers_reason_and_cleared_once_allowed() -> None:
    status = json.dumps({"kind": "Status", "code": 403, "message": 'events.events.k8s.io is forbidden: User "x" '
                         'cannot list resource "events" in API group "events.k8s.io" at the cluster scope'}).encode()
    source = FakeSource([ApiError(403, "Forbidden", status), page([pod("a", "1")], "2")], [[]])
    r = reflector(source, RecordingSink())
    r.run(iterations=1)
    assert not r.synced and r.forbidden.startswith("403 events.events.k8s.io is forbidden: User")
    r.run(iterations=1)
    assert r.synced and r.forbidden == ""


def managed_pod(name: str, rv: str, managers: list[dict[str, Any]]) -> dict[str, Any]:
    obj = pod(name, rv)
    obj["metadata"]["managedFields"] = managers
    obj["spec"] = {"containers": [{"name": "c", "args": ["--x=[1]", '"managedFields":[2]']}]}
    return obj


TRICKY_MANAGERS = [
    {"manager": 'kube]ctl "x"} ], \\"', "operation": "Update", "apiVersion": "v1", "time": "2024-01-01T00:00:00Z",
     "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:conditions": {'k:{"type":"Ready"}': {".": {}}}},
                                            "f:metadata": {"f:labels": {"f:a\\\\b": {}, "f:c]d": {}}}}},
    {"manager": "kubelet", "operation": "Update", "subresource": "status", "fieldsV1": {"f:spec": {}}},
]


def strip(obj: dict[str, Any]) -> dict[str, Any]:
    return {**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k != "managedFields"}}


def test_managed_fields_are_dropped_before_parsing_and_nothing_else() -> None:
    import orjson

    from ksm_py.kube.reflector import without_managed_fields

    objs = [managed_pod("a", "1", TRICKY_MANAGERS), managed_pod("b", "1", []), pod("c", "1"),
            # A string that looks like the field, in a ConfigMap's data: kept.
            {"metadata": {"name": "d", "uid": "uid-d"}, "data": {"k": ',"managedFields":[{"x":1}]'}}]
    raw = orjson.dumps({"kind": "PodList", "metadata": {"resourceVersion": "1"}, "items": objs})
    parsed = orjson.loads(without_managed_fields(raw))
    assert parsed["items"] == [strip(objs[0]), strip(objs[1]), objs[2], objs[3]]
    assert len(without_managed_fields(raw)) < len(raw) - 300
    # An array nested in the managed fields (none is today) is not matched: the object stays whole.
    nested = managed_pod("e", "1", [{"manager": "m", "fieldsV1": {"f:x": [1, 2]}}])
    assert orjson.loads(without_managed_fields(orjson.dumps(nested))) == nested
    # A watch event alike.
    line = orjson.dumps({"type": "MODIFIED", "object": objs[0]})
    assert orjson.loads(without_managed_fields(line)) == {"type": "MODIFIED", "object": strip(objs[0])}


@pytest.mark.parametrize("drop", [True, False])
def test_the_reflector_drops_managed_fields_only_when_told(drop: bool) -> None:
    import orjson

    a, b = managed_pod("a", "1", TRICKY_MANAGERS), managed_pod("b", "2", TRICKY_MANAGERS)
    # Compact JSON, as the API server writes it.
    source = FakeSource([orjson.dumps({"kind": "PodList", "metadata": {"resourceVersion": "1"}, "items": [a]})],
                        [[orjson.dumps({"type": "ADDED", "object": b})], StreamIdle("done")])
    sink = RecordingSink()
    r = Reflector(source, PODS, [sink], name="pods", drop_managed_fields=drop, sleep=lambda _s: None)
    r.run(iterations=2)
    assert sink.objects == ({"uid-a": strip(a), "uid-b": strip(b)} if drop else {"uid-a": a, "uid-b": b})


def test_what_was_stored_is_reported_once_its_page_or_event_is_freed() -> None:
    source = FakeSource(
        [page([pod("a", "5"), pod("b", "6"), {"metadata": {}}], "10", cont="tok"), page([pod("c", "7")], "10")],
        [[event("MODIFIED", pod("a", "11")), event("BOOKMARK", {"metadata": {"resourceVersion": "12"}}),
          event("DELETED", pod("b", "13"))]],
    )
    calls: list[tuple[int, bool, bool]] = []
    page_lock = threading.Lock()
    locked_while_stored: list[bool] = []

    def stored(n: int) -> None:
        # The exporter collects the young GC generation here: no LIST page may still be alive,
        # and the page lock (one parsed page in the process at a time) is free again.
        pages_alive = any(isinstance(o, dict) and o.get("kind") == "PodList" for o in gc.get_objects())
        calls.append((n, pages_alive, page_lock.locked()))

    class Tracked(Collect):
        def add(self, obj: dict[str, Any]) -> None:
            locked_while_stored.append(page_lock.locked())
            super().add(obj)

    sink = RecordingSink()
    sink.replacement = lambda: Tracked(lambda obj: (obj["metadata"]["uid"], obj), sink._replace)  # type: ignore[method-assign]
    r = Reflector(source, PODS, [sink], name="pods", settings=ReflectorSettings(page_size=3),
                  sleep=lambda _s: None, stored=stored, page_lock=page_lock)
    r.run(iterations=1)
    # Two pages (the malformed item is not stored), then one call per applied event, none for the bookmark.
    assert calls == [(2, False, False), (1, False, False), (1, False, False), (1, False, False)]
    assert locked_while_stored == [True, True, True], "each listed object is stored under the page lock"


def test_managed_fields_dropped_as_the_regex_alone_dropped_them() -> None:
    """The bytes-method fast path and its regex fallback remove exactly what the regex removes,
    on arrays whose strings hold brackets, quotes and backslashes in every combination."""
    import random

    import orjson

    from ksm_py.kube.reflector import _MANAGED_FIELDS, without_managed_fields

    rng = random.Random(7)
    alphabet = ['a', '[', ']', '"', '\\', '{', '}', ',', ':', ' ', 'é', 'f:x']

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))

    def managers() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for _ in range(rng.randint(0, 3)):
            fields: dict[str, Any] = {text(): {} for _ in range(rng.randint(0, 3))}
            if rng.random() < 0.1:
                fields["f:list"] = [1, text()]  # a nested array: left whole by both
            out.append({"manager": text(), "operation": "Update", "fieldsV1": fields})
        return out

    for _ in range(400):
        objs = [managed_pod(f"p{i}", "1", managers()) for i in range(rng.randint(1, 4))]
        raw = orjson.dumps({"kind": "PodList", "metadata": {"resourceVersion": "1"}, "items": objs})
        fast = without_managed_fields(raw)
        assert fast == _MANAGED_FIELDS.sub(b"", raw)
        parsed = orjson.loads(fast)["items"]
        for before, after in zip(objs, parsed, strict=True):
            nested = any(isinstance(v, list) for m in before["metadata"]["managedFields"] for v in m["fieldsV1"].values())
            assert after == (before if nested else strip(before))


def full_pod(name: str, rv: str) -> dict[str, Any]:
    """A pod as kube-apiserver sends it, with what no pod family reads."""
    return {
        "metadata": {**pod(name, rv)["metadata"], "labels": {"app": "x"}, "managedFields": [{"manager": "kubectl"}]},
        "spec": {"nodeName": "n1", "dnsPolicy": "ClusterFirst",
                 "containers": [{"name": "app", "image": "app:1", "resources": {"requests": {"cpu": "1"}},
                                 "env": [{"name": "A", "value": "1"}], "volumeMounts": [{"name": "v", "mountPath": "/v"}],
                                 "readinessProbe": {"httpGet": {"path": "/", "port": 80}}}],
                 "volumes": [{"name": "v", "configMap": {"name": "cm"}}, {"name": "d", "persistentVolumeClaim": {"claimName": "c"}}]},
        "status": {"phase": "Running", "podIP": "10.0.0.1"},
    }


def read_of(obj: dict[str, Any]) -> dict[str, Any]:
    """What the pods' shape keeps of ``full_pod``."""
    meta = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
    (container,) = obj["spec"]["containers"]
    spec = {"nodeName": "n1", "dnsPolicy": "ClusterFirst",
            "containers": [{k: container[k] for k in ("name", "image", "resources")}],
            "volumes": [{"name": "v"}, {"name": "d", "persistentVolumeClaim": {"claimName": "c"}}]}
    return {"metadata": meta, "spec": spec, "status": obj["status"]}


def test_with_a_shape_the_sinks_get_only_what_the_families_read() -> None:
    gone = event("ERROR", {"kind": "Status", "code": 410, "reason": "Expired"})
    source = FakeSource(
        [page([full_pod("a", "1"), full_pod("b", "2")], "2", cont="tok"), page([full_pod("c", "3")], "3"),
         page([full_pod("a", "9")], "9")],
        [[event("MODIFIED", full_pod("a", "4")), gone],
         [event("ADDED", full_pod("d", "10")), event("BOOKMARK", {"metadata": {"resourceVersion": "11"}})]],
    )
    sink = RecordingSink()
    r = reflector(source, sink, decoders=POD_SHAPE)
    r.run(iterations=1)
    assert sink.objects == {"uid-a": read_of(full_pod("a", "4")), "uid-b": read_of(full_pod("b", "2")),
                            "uid-c": read_of(full_pod("c", "3"))}
    r.run(iterations=1)  # the ERROR 410 (parsed whole: its object is a Status) made it list again
    assert sink.objects == {"uid-a": read_of(full_pod("a", "9")), "uid-d": read_of(full_pod("d", "10"))}
    assert r.resource_version == "11"  # the bookmark, parsed whole
