"""``/healthz``, ``/livez`` and telemetry ``/readyz`` answered on an OS thread of their own.

Everything else in the exporter runs on one OS thread under gevent: parsing LIST pages, rendering
and compressing are CPU-bound, and a request waits for the slice of work in progress (hundreds of
milliseconds at 50,000 pods on a busy node).  A kubelet whose liveness probe times out restarts a
healthy exporter, so probes must not wait for the event loop.

One native thread accepts every connection of the plain-HTTP ports and peeks at the request
line.  A ``GET`` of a probe path is read and answered there, by the same WSGI application (its
authentication wrappers included), with the bytes gevent's server would send.  Any other
connection is handed over unread to the gevent server, as if it had accepted it: ``/metrics`` and
the rest are served exactly as before.  A probe connection that stays open after its answer is
handed over too.  With TLS the thread does not take part (the handshake needs the request first).
"""

from __future__ import annotations

import dataclasses
import email.utils
import io
import logging
import os
import socket
import sys
import time
from typing import Any, Callable, Iterable
from urllib.parse import unquote

import gevent
import gevent.socket
from gevent import monkey

logger = logging.getLogger(__name__)

WSGIApp = Callable[..., Iterable[bytes]]

# The unpatched primitives: a real OS thread, blocking calls that release the GIL.
_Socket: Any = monkey.get_original("socket", "socket")
_epoll: Any = monkey.get_original("select", "epoll")
_start_thread: Any = monkey.get_original("_thread", "start_new_thread")
_get_ident: Callable[[], int] = monkey.get_original("_thread", "get_ident")
_EPOLLIN, _EPOLLET, _EPOLLRDHUP = 0x001, 1 << 31, 0x2000

MAIN_PROBES = frozenset({"/healthz", "/livez"})
TELEMETRY_PROBES = frozenset({"/readyz"})
# A request head longer than this is not a probe's: gevent deals with it.
HEAD_LIMIT = 8192
# A connection that has not sent its request head by then goes to gevent (and its timeouts).
HEAD_TIMEOUT = 5.0
# How long the GIL-holding thread runs before a waiting one gets it (CPython's default is 5 ms).
# A probe takes the GIL about five times (accept, read, answer, write, close); nothing else
# competes for it, so a shorter interval only shortens the probe's waits.
SWITCH_INTERVAL = 0.001

_probe_threads: set[int] = set()


def on_probe_thread() -> bool:
    return _get_ident() in _probe_threads


def per_thread(on_loop: Callable[[], bool], on_probe: Callable[[], bool]) -> Callable[[], bool]:
    """``on_probe`` on the probe thread, ``on_loop`` elsewhere: for checks that do I/O (``/livez``
    asks the API server), whose connections belong to the thread that opened them."""
    def check() -> bool:
        return on_probe() if on_probe_thread() else on_loop()
    return check


@dataclasses.dataclass
class ProbePort:
    """A started gevent server (``WSGIServer``), the WSGI app it serves, and the paths answered here."""

    server: Any
    app: WSGIApp
    paths: frozenset[str]
    listener: Any = None


class _Conn:
    __slots__ = ("sock", "port", "address", "deadline")

    def __init__(self, sock: Any, port: ProbePort, address: Any, deadline: float) -> None:
        self.sock, self.port, self.address, self.deadline = sock, port, address, deadline


class ProbeServer:
    def __init__(self, ports: list[ProbePort]) -> None:
        # TLS: the thread cannot read the request line; that port stays with gevent alone.
        self.ports = [p for p in ports if not getattr(p.server, "ssl_enabled", False)]
        self._running = False
        self._stopped = False
        self._threadsafe: Callable[..., Any] | None = None
        self._ident = 0

    def start(self) -> None:
        """Take over accepting from the (started) gevent servers and start the thread."""
        if not self.ports:
            return
        self._threadsafe = gevent.get_hub().loop.run_callback_threadsafe
        for port in self.ports:
            port.server.stop_accepting()
            listener = _Socket(fileno=os.dup(port.server.socket.fileno()))
            listener.setblocking(False)
            port.listener = listener
        sys.setswitchinterval(SWITCH_INTERVAL)
        self._running = True
        self._ident = _start_thread(self._run, ())

    def stop(self) -> None:
        """The thread closes its listeners and connections within a quarter second."""
        self._running = False

    # -- the thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        _probe_threads.add(_get_ident())
        poller = _epoll()
        listeners: dict[int, ProbePort] = {}
        conns: dict[int, _Conn] = {}
        for port in self.ports:
            listeners[port.listener.fileno()] = port
            poller.register(port.listener.fileno(), _EPOLLIN)
        try:
            while self._running:
                for fd, _ in poller.poll(0.25):
                    if fd in listeners:
                        self._accept(listeners[fd], poller, conns)
                    elif fd in conns:
                        self._advance(conns[fd], poller, conns)
                now = time.monotonic()
                for conn in [c for c in conns.values() if c.deadline < now]:
                    self._hand_over(conn, poller, conns)
        except Exception:  # noqa: BLE001 - the thread must not die silently: gevent serves all again
            logger.exception("probe thread failed; gevent serves the probes again")
            self._running = False
        finally:
            for conn in list(conns.values()):
                self._hand_over(conn, poller, conns)
            for port in self.ports:
                port.listener.close()
            poller.close()
            if not self._stopped:
                self._stopped = True
                assert self._threadsafe is not None
                for port in self.ports:
                    self._threadsafe(self._resume_gevent, port)
            _probe_threads.discard(_get_ident())

    @staticmethod
    def _resume_gevent(port: ProbePort) -> None:
        if port.server.started and not port.server.closed:
            port.server.start_accepting()

    def _accept(self, port: ProbePort, poller: Any, conns: dict[int, _Conn]) -> None:
        while True:
            try:
                sock, address = port.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:  # EMFILE and the like: gevent's server would log and go on too
                logger.warning("accept failed: %r", e)
                return
            sock.setblocking(False)
            conn = _Conn(sock, port, address, time.monotonic() + HEAD_TIMEOUT)
            conns[sock.fileno()] = conn
            poller.register(sock.fileno(), _EPOLLIN | _EPOLLRDHUP | _EPOLLET)
            self._advance(conn, poller, conns)

    def _advance(self, conn: _Conn, poller: Any, conns: dict[int, _Conn]) -> None:
        """Look at what the client sent so far (without reading it): answer, hand over or wait."""
        try:
            data = conn.sock.recv(HEAD_LIMIT, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(conn, poller, conns)
            return
        if not data:
            self._drop(conn, poller, conns)
            return
        line_end = data.find(b"\r\n")
        if line_end < 0:
            if len(data) >= HEAD_LIMIT:
                self._hand_over(conn, poller, conns)
            return
        parts = data[:line_end].split(b" ")
        if len(parts) != 3 or parts[0] != b"GET" or parts[2] not in (b"HTTP/1.1", b"HTTP/1.0"):
            self._hand_over(conn, poller, conns)
            return
        target = parts[1].decode("latin-1")
        path, _, query = target.partition("?")
        if unquote(path, "latin-1") not in conn.port.paths:
            self._hand_over(conn, poller, conns)
            return
        head_end = data.find(b"\r\n\r\n")
        if head_end < 0:
            if len(data) >= HEAD_LIMIT:
                self._hand_over(conn, poller, conns)
            return
        headers = _headers(data[line_end + 2:head_end])
        if headers is None or headers.get("CONTENT_LENGTH", "0") not in ("", "0") or "HTTP_TRANSFER_ENCODING" in headers:
            self._hand_over(conn, poller, conns)
            return
        version = parts[2].decode()
        try:
            _read_exactly(conn.sock, head_end + 4)
            response, close = answer(conn.port, version, path, query, headers, conn.address)
            conn.sock.settimeout(HEAD_TIMEOUT)
            conn.sock.sendall(response)
        except OSError:
            self._drop(conn, poller, conns)
            return
        except Exception:  # noqa: BLE001 - a failing app: this connection ends, the thread goes on
            logger.exception("answering %s failed", path)
            self._drop(conn, poller, conns)
            return
        if close:
            self._drop(conn, poller, conns)
        else:
            # Kept alive: whatever it asks next is gevent's to serve.
            conn.sock.setblocking(False)
            self._hand_over(conn, poller, conns)

    def _drop(self, conn: _Conn, poller: Any, conns: dict[int, _Conn]) -> None:
        fd = conn.sock.fileno()
        conns.pop(fd, None)
        poller.unregister(fd)
        conn.sock.close()

    def _hand_over(self, conn: _Conn, poller: Any, conns: dict[int, _Conn]) -> None:
        fd = conn.sock.fileno()
        conns.pop(fd, None)
        poller.unregister(fd)
        family = conn.sock.family
        conn.sock.detach()
        assert self._threadsafe is not None
        self._threadsafe(_adopt, conn.port.server, fd, family, conn.address)


def _adopt(server: Any, fd: int, family: int, address: Any) -> None:
    """On the event loop: what gevent's server does with a connection it accepted itself."""
    sock = gevent.socket.socket(family, socket.SOCK_STREAM, 0, fileno=fd)
    server.do_handle(sock, address)


def _read_exactly(sock: Any, n: int) -> None:
    while n > 0:
        got = sock.recv(n)
        if not got:
            raise ConnectionResetError("closed while its request was read")
        n -= len(got)


def _headers(block: bytes) -> dict[str, str] | None:
    """Request headers as WSGI environ keys (``HTTP_X``, ``CONTENT_TYPE``); None if malformed."""
    out: dict[str, str] = {}
    for raw in block.split(b"\r\n") if block else ():
        name, sep, value = raw.partition(b":")
        if not sep or not name or name != name.strip():
            return None
        key = name.decode("latin-1").upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        text = value.strip().decode("latin-1")
        out[key] = f"{out[key]},{text}" if key in out else text
    return out


def answer(port: ProbePort, version: str, path: str, query: str, headers: dict[str, str],
           address: Any) -> tuple[bytes, bool]:
    """Call the app as gevent's ``WSGIHandler`` would and format its answer the same way:
    (response bytes, whether to close the connection afterwards)."""
    host, server_port = port.listener.getsockname()[:2]
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": unquote(path, "latin-1"), "QUERY_STRING": query,
        "SERVER_NAME": str(host), "SERVER_PORT": str(server_port), "SERVER_PROTOCOL": version,
        "REMOTE_ADDR": str(address[0]), "REMOTE_PORT": str(address[1]), "GATEWAY_INTERFACE": "CGI/1.1",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
        "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False, **headers,
    }
    conntype = headers.get("HTTP_CONNECTION", "").lower()
    close = conntype == "close" if version == "HTTP/1.1" else conntype != "keep-alive"
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started[:] = [(status, list(response_headers))]

    result = port.app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        closer = getattr(result, "close", None)
        if closer is not None:
            closer()
    status, response_headers = started[0]
    provided = {name.lower(): value for name, value in response_headers}
    # The order gevent's pywsgi writes them in: the app's, Connection (HTTP/1.0), Date, Content-Length.
    if version == "HTTP/1.0" and "connection" not in provided:
        response_headers.append(("Connection", "close" if close else "keep-alive"))
    elif provided.get("connection") == "close":
        close = True
    if "date" not in provided:
        response_headers.append(("Date", email.utils.formatdate(usegmt=True)))
    if "content-length" not in provided:
        response_headers.append(("Content-Length", str(len(body))))
    head = "".join(f"{name}: {value}\r\n" for name, value in response_headers)
    return f"HTTP/1.1 {status}\r\n{head}\r\n".encode("latin-1") + body, close
