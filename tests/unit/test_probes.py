"""Probes on their own OS thread: same bytes as gevent's server, answered while the event loop is busy."""

from __future__ import annotations

import re
import socket
import threading
import time
from typing import Any, Callable, Iterator

import gevent
import pytest
from gevent.pywsgi import WSGIServer

from ksm_py import probes
from ksm_py.server import MainApp, TelemetryApp
from ksm_py.telemetry import Telemetry


def drive(fn: Callable[[], Any], timeout: float = 30) -> Any:
    """Run ``fn`` on a real thread while this one runs the gevent hub; its result."""
    out: list[Any] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            out.append(fn())
        except BaseException as e:  # noqa: BLE001 - re-raised on the test's thread
            errors.append(e)
    t = threading.Thread(target=target, daemon=True)
    t.start()
    deadline = time.monotonic() + timeout
    while t.is_alive() and time.monotonic() < deadline:
        gevent.sleep(0.002)
    if errors:
        raise errors[0]
    assert out, "the client thread did not finish"
    return out[0]


def raw(port: int, request: bytes) -> bytes:
    """Send ``request`` and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


class Live:
    def __init__(self) -> None:
        self.ok = True
        self.threads: list[bool] = []

    def __call__(self) -> bool:
        self.threads.append(probes.on_probe_thread())
        return self.ok


@pytest.fixture
def servers() -> Iterator[tuple[int, int, int, int, Live, probes.ProbeServer]]:
    """(main port and telemetry port with the probe thread, the same two served by gevent alone)."""
    live = Live()
    main_app = MainApp([], livez=live, telemetry=Telemetry())
    tele_app = TelemetryApp(Telemetry(), ready=lambda: True)
    started = [WSGIServer(("127.0.0.1", 0), app, log=None) for app in (main_app, tele_app, main_app, tele_app)]
    for s in started:
        s.start()
    ps = probes.ProbeServer([probes.ProbePort(started[0], main_app, probes.MAIN_PROBES),
                             probes.ProbePort(started[1], tele_app, probes.TELEMETRY_PROBES)])
    ps.start()
    yield started[0].server_port, started[1].server_port, started[2].server_port, started[3].server_port, live, ps
    ps.stop()
    for s in started:
        s.stop()


def same_but_date(a: bytes, b: bytes) -> None:
    date = re.compile(rb"\r\nDate: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\r\n")
    assert date.search(a) and date.search(b), (a, b)
    assert date.sub(b"\r\nDate: -\r\n", a) == date.sub(b"\r\nDate: -\r\n", b)


REQUESTS = [
    (0, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    (0, b"GET /healthz HTTP/1.0\r\n\r\n"),
    (0, b"GET /livez?verbose=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: kube-probe/1.33\r\nConnection: close\r\n\r\n"),
    (1, b"GET /readyz HTTP/1.0\r\nAccept: */*\r\n\r\n"),
    (0, b"GET /metrics HTTP/1.0\r\n\r\n"),
    (0, b"GET / HTTP/1.0\r\n\r\n"),
    (0, b"HEAD /healthz HTTP/1.0\r\n\r\n"),
    (1, b"GET /nothing HTTP/1.0\r\n\r\n"),
]


def test_probe_answers_are_the_bytes_gevent_sends(servers: Any) -> None:
    main, tele, plain_main, plain_tele, live, _ = servers

    def both() -> list[tuple[bytes, bytes]]:
        return [(raw((main, tele)[i], req), raw((plain_main, plain_tele)[i], req)) for i, req in REQUESTS]
    for threaded, plain in drive(both):
        same_but_date(threaded, plain)
    live.ok = False
    threaded, plain = drive(lambda: (raw(main, REQUESTS[2][1]), raw(plain_main, REQUESTS[2][1])))
    same_but_date(threaded, plain)
    assert threaded.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    # /livez ran on the probe thread for the threaded port, on the loop for the other.
    assert live.threads == [True, False, True, False]


def test_probes_are_answered_while_the_event_loop_is_busy(servers: Any) -> None:
    main, tele, *_ = servers
    busy_until: list[float] = []

    def spin() -> None:
        # CPU-bound work that never yields, like rendering a LIST page.
        busy_until.append(time.monotonic() + 2.0)
        while time.monotonic() < busy_until[0]:
            pass

    def client() -> dict[str, float]:
        while not busy_until:
            time.sleep(0.001)
        time.sleep(0.2)
        times = {}
        for name, port, req in (("healthz", main, REQUESTS[0][1]), ("livez", main, REQUESTS[2][1]),
                                ("readyz", tele, REQUESTS[3][1])):
            t = time.monotonic()
            assert raw(port, req).startswith(b"HTTP/1.1 200 OK\r\n")
            times[name] = time.monotonic() - t
        t = time.monotonic()
        assert raw(main, b"GET /metrics HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.1 200 OK\r\n")
        times["metrics_done_after_busy"] = time.monotonic() - busy_until[0]
        times["metrics"] = time.monotonic() - t
        return times

    gevent.spawn_later(0.05, spin)
    times = drive(client)
    assert max(times["healthz"], times["livez"], times["readyz"]) < 0.25, times
    # /metrics is still the event loop's: it waited for the busy greenlet.
    assert times["metrics_done_after_busy"] >= 0 and times["metrics"] > 0.5, times


def test_a_kept_alive_probe_connection_goes_on_with_gevent(servers: Any) -> None:
    import http.client

    main, *_ = servers

    def client() -> list[tuple[int, bytes]]:
        conn = http.client.HTTPConnection("127.0.0.1", main, timeout=10)
        out = []
        for path in ("/healthz", "/metrics", "/healthz", "/livez"):
            conn.request("GET", path)
            resp = conn.getresponse()
            out.append((resp.status, resp.read()))
        conn.close()
        return out
    assert drive(client) == [(200, b"OK"), (200, b""), (200, b"OK"), (200, b"OK")]


def test_slow_and_silent_clients_do_not_hold_up_probes(servers: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    main, *_ = servers

    def client() -> tuple[bytes, bytes]:
        silent = socket.create_connection(("127.0.0.1", main))  # connects, sends nothing
        slow = socket.create_connection(("127.0.0.1", main))
        slow.sendall(b"GET /heal")  # half a request line
        answer = raw(main, REQUESTS[0][1])
        slow.sendall(b"thz HTTP/1.0\r\n\r\n")
        slow.settimeout(10)
        rest = b""
        while chunk := slow.recv(4096):
            rest += chunk
        silent.close()
        slow.close()
        return answer, rest
    answer, rest = drive(client)
    assert answer.endswith(b"\r\n\r\nOK") and rest.endswith(b"\r\n\r\nOK")


def test_after_stop_gevent_accepts_again(servers: Any) -> None:
    main, *_, ps = servers
    ps.stop()
    gevent.sleep(0.6)
    assert not probes._probe_threads
    live = servers[4]
    live.threads.clear()
    assert drive(lambda: raw(main, REQUESTS[2][1])).startswith(b"HTTP/1.1 200 OK\r\n")
    assert live.threads == [False]
