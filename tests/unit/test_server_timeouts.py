"""The ``--server-*-timeout`` bounds of both ports, against real sockets.

A ``BoundedWSGIServer`` runs in a child process (as in ksm-py: gevent, no threads) with short
timeouts; plain blocking sockets play the clients: one that never reads a 32 MiB response, one
that never finishes its request header (or dribbles it), one that keeps an idle connection open.
The child reports when a response generator is closed, i.e. when the response stopped pinning
memory.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WRITE, HEADER, IDLE = 1.0, 0.6, 1.5

SERVER = f"""
import sys, time
from ksm_py.server import BoundedWSGIServer, Timeouts

PIECE = b"x" * (256 << 10)

def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/small":
        start_response("200 OK", [("Content-Length", "5")])
        return [b"small"]
    count = 128 if path == "/big" else 8  # 32 MiB: more than any socket buffer holds; 2 MiB
    start_response("200 OK", [("Content-Type", "text/plain")])
    def body():
        sent = 0
        try:
            for _ in range(count):
                yield PIECE
                sent += 1
        finally:
            print(f"closed {{path}} sent={{sent}} at={{time.monotonic()}}", flush=True)
    return body()

server = BoundedWSGIServer(("127.0.0.1", 0), app, log=None,
                           timeouts=Timeouts(read=30, read_header={HEADER}, write={WRITE}, idle={IDLE}))
server.start()
print(f"port {{server.server_port}} now={{time.monotonic()}}", flush=True)
server.serve_forever()
"""


class Server:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
        first = self.line(30)
        self.port = int(first.split()[1])

    def line(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, f"the server said nothing within {timeout}s"
        return self.proc.stdout.readline().strip()

    def connect(self, rcvbuf: int | None = None) -> socket.socket:
        s = socket.socket()
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(10)
        s.connect(("127.0.0.1", self.port))
        return s


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.proc.kill()
    s.proc.wait(10)


def read_until_closed(s: socket.socket, limit: float = 10) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and when it closed it."""
    data = b""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(1 << 20)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    else:
        pytest.fail(f"the connection was still open after {limit}s")
    return data, time.monotonic()


def test_a_client_that_never_reads_loses_its_response_at_the_write_timeout(server: Server) -> None:
    s = server.connect(rcvbuf=4096)
    sent = time.monotonic()
    s.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
    line = server.line(WRITE + 10)  # the response generator is closed: nothing of it stays pinned
    elapsed = float(line.split("at=")[1]) - sent
    assert line.startswith("closed /big"), line
    pieces = int(line.split("sent=")[1].split()[0])
    assert pieces < 128, "the whole response fit in the socket buffers: the test proves nothing"
    assert WRITE - 0.2 <= elapsed <= WRITE + 3, elapsed
    data, _ = read_until_closed(s)
    assert data.startswith(b"HTTP/1.1 200") and len(data) < 32 << 20
    s.close()


def test_a_fast_client_gets_whole_responses_on_one_connection(server: Server) -> None:
    s = server.connect()
    for _ in range(3):
        s.sendall(b"GET /medium HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while not data.endswith(b"0\r\n\r\n"):
            data += s.recv(1 << 20)
        assert data.startswith(b"HTTP/1.1 200") and len(data) > 2 << 20
        assert server.line(5).startswith("closed /medium sent=8 ")
    s.close()


def test_an_unfinished_request_header_is_closed_without_an_answer(server: Server) -> None:
    s = server.connect()
    started = time.monotonic()
    s.sendall(b"GET /small HTTP/1.1\r\nHost: x\r\n")  # no blank line: the header never ends
    data, closed = read_until_closed(s)
    assert data == b"" and HEADER - 0.2 <= closed - started <= HEADER + 3, (data, closed - started)
    s.close()


def test_a_header_dribbled_byte_by_byte_still_has_one_deadline(server: Server) -> None:
    s = server.connect()
    started = time.monotonic()
    request = b"GET /small HTTP/1.1\r\nX-Slow: " + b"a" * 200
    try:
        for byte in request:
            s.sendall(bytes([byte]))
            time.sleep(0.1)  # each byte well within any per-read timeout
            if time.monotonic() - started > HEADER + 5:
                break
    except (BrokenPipeError, ConnectionResetError):
        pass
    data, closed = read_until_closed(s)
    assert data == b"" and closed - started <= HEADER + 3, closed - started
    s.close()


def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(server: Server) -> None:
    s = server.connect()
    s.sendall(b"GET /small HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while not data.endswith(b"small"):
        data += s.recv(4096)
    answered = time.monotonic()
    rest, closed = read_until_closed(s)
    assert rest == b"" and IDLE - 0.2 <= closed - answered <= IDLE + 3, closed - answered
    s.close()
