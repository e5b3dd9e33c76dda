"""Output rules of /metrics: order, headers, negotiation, filters, gzip (KSM spec section 3)."""

from __future__ import annotations

import gzip
import zlib

import pytest

from ksm_py.builder import compile_resources
from ksm_py.exposition import ResourceWriter, gzip_stream, iter_exposition, negotiate, render_body, select, wants_gzip
from ksm_py.options import Options
from ksm_py.store import MetricsStore

NS = {"apiVersion": "v1", "kind": "Namespace",
      "metadata": {"name": "ns1", "uid": "u1", "creationTimestamp": "2017-08-01T06:30:18Z"},
      "status": {"phase": "Active"}}
DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": {"name": "d", "namespace": "ns1", "uid": "u2", "generation": 3},
          "spec": {"replicas": 2}, "status": {"replicas": 2}}


def writers(objs_by_resource: dict[str, list[dict]], **opts: object) -> list[ResourceWriter]:
    options = Options(resources=sorted(objs_by_resource), **opts)  # type: ignore[arg-type]
    out = []
    for compiled in compile_resources(options):
        store = MetricsStore(compiled)
        store.replace(objs_by_resource[compiled.name])
        out.append(ResourceWriter(compiled, [store]))
    return out


def test_resources_sorted_families_in_declaration_order_headers_even_when_empty() -> None:
    body = render_body(writers({"namespaces": [NS], "deployments": [DEPLOY]})).decode()
    names = [line.split()[2] for line in body.splitlines() if line.startswith("# HELP")]
    assert names[0].startswith("kube_deployment_") and names[-1].startswith("kube_namespace_")
    assert names.index("kube_deployment_owner") < names.index("kube_deployment_created")
    # _labels has no series without an allowlist, but its header is still written.
    assert "# HELP kube_namespace_labels [STABLE] Kubernetes labels converted to Prometheus labels.\n" in body
    assert "\nkube_namespace_labels{" not in body
    assert 'kube_namespace_created{namespace="ns1"} 1.501569018e+09\n' in body
    assert 'kube_namespace_status_phase{namespace="ns1",phase="Active"} 1\n' in body


def test_empty_resource_writes_nothing() -> None:
    assert render_body(writers({"namespaces": []})) == b""


def test_each_family_is_contiguous_across_objects() -> None:
    many = [{**NS, "metadata": {**NS["metadata"], "name": f"n{i}", "uid": f"u{i}"}} for i in range(300)]
    body = render_body(writers({"namespaces": many})).decode()
    seen: list[str] = []
    for line in body.splitlines():
        if line.startswith("#"):
            continue
        name = line.split("{")[0]
        if not seen or seen[-1] != name:
            assert name not in seen, f"{name} is split"
            seen.append(name)
    assert body.count("kube_namespace_created{") == 300


def test_openmetrics_negotiation_and_eof() -> None:
    fmt = negotiate("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
    assert fmt.openmetrics
    assert fmt.content_type == "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores"
    body = b"".join(iter_exposition(writers({"namespaces": [NS]}), fmt))
    assert body.endswith(b"# EOF\n")
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
    assert {f.name for f in text_string_to_metric_families(body.decode())} >= {"kube_namespace_created"}


@pytest.mark.parametrize("accept, openmetrics", [
    (None, False), ("", False), ("text/plain", False), ("text/plain;version=0.0.4", False),
    ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,"
     "application/openmetrics-text;version=1.0.0;q=0.5", False),  # protobuf first → text, not OM
    ("text/plain;q=0.2,application/openmetrics-text;version=0.0.1;q=0.9", True),
    ("application/json", False),
])
def test_negotiate(accept: str | None, openmetrics: bool) -> None:
    assert negotiate(accept).openmetrics is openmetrics


def test_query_filters() -> None:
    ws = writers({"namespaces": [NS], "deployments": [DEPLOY]})
    assert [w.name for w in select(ws, ["namespaces"])] == ["namespaces"]
    assert [w.name for w in select(ws, [], ["namespaces"])] == ["deployments"]
    assert [w.name for w in select(ws, ["namespaces"], ["namespaces"])] == []


def test_gzip_round_trip_and_accept_encoding_rules() -> None:
    ws = writers({"namespaces": [NS]})
    plain = render_body(ws)
    assert gzip.decompress(b"".join(gzip_stream(iter_exposition(ws)))) == plain
    assert wants_gzip("gzip") and wants_gzip("br, gzip;q=0") and not wants_gzip("deflate, br") and not wants_gzip(None)


def test_metric_denylist_and_allowlist_remove_families_with_their_headers() -> None:
    body = render_body(writers({"namespaces": [NS]}, metric_denylist=["kube_namespace_status"])).decode()
    assert "kube_namespace_status" not in body and "kube_namespace_created" in body
    body = render_body(writers({"namespaces": [NS]}, metric_allowlist=["^kube_namespace_created$"])).decode()
    assert [line for line in body.splitlines() if line.startswith("# TYPE")] == ["# TYPE kube_namespace_created gauge"]


def test_render_failure_in_one_family_keeps_the_others() -> None:
    errors: list[tuple[str, str]] = []
    options = Options(resources=["namespaces"])
    compiled = compile_resources(options, on_render_error=lambda r, f, e: errors.append((r, f)))[0]
    store = MetricsStore(compiled)
    bad = {**NS, "status": {"phase": "Active", "conditions": "not-a-list"}}
    store.upsert(bad)
    body = render_body([ResourceWriter(compiled, [store])]).decode()
    assert errors == [("namespaces", "kube_namespace_status_condition")]
    assert 'kube_namespace_status_phase{namespace="ns1",phase="Active"} 1' in body


def test_upsert_delete_and_replace() -> None:
    compiled = compile_resources(Options(resources=["namespaces"]))[0]
    store = MetricsStore(compiled)
    store.upsert(NS)
    store.upsert({**NS, "status": {"phase": "Terminating"}})
    assert len(store) == 1
    body = render_body([ResourceWriter(compiled, [store])]).decode()
    assert 'phase="Terminating"} 1' in body and 'phase="Active"} 1' not in body
    store.delete(NS)
    assert len(store) == 0 and render_body([ResourceWriter(compiled, [store])]) == b""
    store.replace([NS, {**NS, "metadata": {"name": "ns2", "uid": "u9"}}])
    assert len(store) == 2


def test_gzip_compresses_a_huge_family_in_slices() -> None:
    import hashlib

    from ksm_py import exposition

    big = b"".join(b'kube_pod_info{namespace="ns",pod="%s"} 1\n' % hashlib.md5(b"%d" % i).hexdigest().encode()
                   for i in range(100_000))
    pieces = [p for p in gzip_stream([big]) if p]
    assert len(big) > 4 * exposition.GZIP_SLICE
    # One output piece per slice or so, not one piece after compressing everything.
    assert len(pieces) >= len(big) // exposition.GZIP_SLICE
    assert gzip.decompress(b"".join(pieces)) == big


def test_a_big_scrape_yields_to_the_event_loop_between_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    from ksm_py import exposition
    from ksm_py.server import MainApp
    from ksm_py.telemetry import Telemetry

    pods = [{"metadata": {"name": f"p{i}", "namespace": "ns", "uid": f"u{i}"}, "status": {"phase": "Running"}}
            for i in range(2000)]
    sent: list[bytes] = []
    pauses: list[int] = []  # bytes of plain text sent before each pause
    app = MainApp(writers({"pods": pods}), livez=lambda: True, telemetry=Telemetry(), enable_gzip=True,
                  cooperate=lambda: pauses.append(sum(map(len, sent))))
    whole = render_body(app.writers)
    # 64 KiB slices and 16 KiB pieces: this small body then has as many pieces as a 50k-pod one.
    monkeypatch.setattr(exposition, "GZIP_SLICE", 1 << 16)
    monkeypatch.setattr(exposition, "PIECE", 1 << 14)
    for accept_encoding in ("", "gzip"):
        sent.clear()
        pauses.clear()
        for piece in app({"PATH_INFO": "/metrics", "HTTP_ACCEPT_ENCODING": accept_encoding}, lambda *a: None):
            sent.append(piece)
        body = b"".join(sent)
        if not accept_encoding:
            assert body == whole
            # A pause after every piece; a family of more than PIECE bytes is several pieces.
            assert pauses == [sum(map(len, sent[:i + 1])) for i in range(len(sent))]
            assert len(sent) > 2 * body.count(b"# HELP ")
            assert max(map(len, sent)) < (1 << 14) + 2048
        else:
            assert gzip.decompress(body) == whole
            # A pause per slice of input or so, however little zlib has emitted so far.
            assert len(pauses) >= len(whole) // (2 * exposition.GZIP_SLICE)


def test_a_relist_serves_the_new_content_at_once_and_frees_the_old_in_slices() -> None:
    from ksm_py import store as store_module

    (compiled,) = compile_resources(Options(resources=["namespaces"]))
    many = [{**NS, "metadata": {**NS["metadata"], "name": f"n{i}", "uid": f"u{i}"}} for i in range(5000)]
    seen_during_release: list[int] = []
    store = MetricsStore(compiled, cooperate=lambda: seen_during_release.append(len(store)))
    store.replace(many)
    seen_during_release.clear()
    store.replace(many[:10])
    assert len(store) == 10
    # One pause per slice of 2,000 old objects, each with the new content already in place.
    assert seen_during_release == [10] * -(-5000 // store_module.RELEASE_SLICE)


def _pods(n: int, phase: str = "Running") -> list[dict]:
    return [{"metadata": {"name": f"p{i}", "namespace": "ns", "uid": f"u{i}"}, "status": {"phase": phase}}
            for i in range(n)]


@pytest.mark.parametrize("accept", ["", "application/openmetrics-text; version=1.0.0"])
def test_gzip_members_decode_to_the_plain_body_through_updates_deletes_and_adds(
        monkeypatch: pytest.MonkeyPatch, accept: str) -> None:
    from ksm_py import store as store_module
    from ksm_py.exposition import iter_gzip

    monkeypatch.setattr(store_module, "SEGMENT", 7)  # many segments, some partly filled
    fmt = negotiate(accept)
    ws = writers({"pods": _pods(50), "namespaces": [NS]})
    store = ws[1].stores[0]

    def check() -> bytes:
        body = b"".join(iter_gzip(ws, fmt))
        assert gzip.decompress(body) == render_body(ws, fmt)
        return body
    check()
    check()  # from kept members only
    store.upsert({**_pods(50)[3], "status": {"phase": "Pending"}})
    store.delete(_pods(50)[20])
    for i in range(14, 21):  # empties a whole segment
        store.delete(_pods(50)[i])
    store.upsert({"metadata": {"name": "new", "namespace": "ns", "uid": "new"}, "status": {"phase": "Failed"}})
    body = check()
    text = gzip.decompress(body).decode()
    assert 'pod="p3",uid="u3",phase="Pending"} 1' in text and 'pod="p20"' not in text and 'pod="new"' in text
    # Several members in a row (a reader of one member would stop after the first header).
    first = zlib.decompressobj(31)
    assert first.decompress(body) != render_body(ws, fmt) and first.unused_data


def test_gzip_compresses_again_only_the_members_an_update_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    from ksm_py import exposition
    from ksm_py import store as store_module

    monkeypatch.setattr(store_module, "SEGMENT", 10)
    ws = writers({"pods": _pods(100)})
    store = ws[0].stores[0]
    compressed: list[bytes] = []
    real = exposition.gzip_member
    monkeypatch.setattr(exposition, "gzip_member", lambda data: compressed.append(data) or real(data))
    b"".join(exposition.iter_gzip(ws))
    families = len(ws[0].compiled.families)
    assert 0 < len(compressed) <= 10 * families  # every (segment, family) once, empty columns skipped
    compressed.clear()
    b"".join(exposition.iter_gzip(ws))
    assert compressed == []  # nothing changed: every member reused
    store.upsert(_pods(100)[42])  # the same object again: nothing to compress
    b"".join(exposition.iter_gzip(ws))
    assert compressed == []
    store.upsert({**_pods(100)[42], "status": {"phase": "Succeeded"}})
    body = b"".join(exposition.iter_gzip(ws))
    # Only the phase family of the segment holding p42 changed (ten pods, one line per phase each).
    assert len(compressed) == 1 and compressed[0].count(b"\n") == 10 * 5
    assert b'pod="p42",uid="u42",phase="Succeeded"} 1' in compressed[0]
    assert gzip.decompress(body) == render_body(ws)


def test_a_gzip_scrape_shows_one_state_even_if_objects_change_while_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from ksm_py import exposition
    from ksm_py import store as store_module

    monkeypatch.setattr(store_module, "SEGMENT", 10)
    monkeypatch.setattr(exposition, "GZIP_PIECE", 1)  # a piece after every member
    ws = writers({"pods": _pods(30)})
    store = ws[0].stores[0]
    b"".join(exposition.iter_gzip(ws))  # members kept
    store.upsert({**_pods(30)[5], "status": {"phase": "Failed"}})  # one stale member
    before = render_body(ws)
    pieces = exposition.iter_gzip(ws)
    body = [next(pieces)]
    # Changes after the scrape started (its state was taken) do not show in it.
    store.upsert({**_pods(30)[5], "status": {"phase": "Unknown"}})
    store.upsert({**_pods(30)[25], "status": {"phase": "Pending"}})
    store.delete(_pods(30)[0])
    body.extend(pieces)
    assert gzip.decompress(b"".join(body)) == before
    assert gzip.decompress(b"".join(exposition.iter_gzip(ws))) == render_body(ws) != before
