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

import ctypes
import dataclasses
import email.utils
import errno
import io
import logging
import os
import platform
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

# The unpatched primitives: a real OS thread, and an epoll wait that releases the GIL.
_Socket: Any = monkey.get_original("socket", "socket")
_epoll: Any = monkey.get_original("select", "epoll")
_start_thread: Any = monkey.get_original("_thread", "start_new_thread")
_get_ident: Callable[[], int] = monkey.get_original("_thread", "get_ident")
_EPOLLIN, _EPOLLET, _EPOLLRDHUP = 0x001, 1 << 31, 0x2000
_EPOLL_CTL_ADD, _EPOLL_CTL_DEL = 1, 2

# The socket calls of a probe through libc, *keeping* the GIL (ctypes.PyDLL): every one is
# non-blocking and takes microseconds, while each release would hand the GIL back to the busy
# event loop thread and cost a wait of a switch interval (and, on a loaded node, of the
# scheduler) to get it again.  A probe then takes the GIL once or twice instead of six times.
_libc = ctypes.PyDLL(None, use_errno=True)
_accept4 = _libc.accept4
_accept4.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32), ctypes.c_int]
_accept4.restype = ctypes.c_int
_recv = _libc.recv
_recv.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_recv.restype = ctypes.c_ssize_t
_send = _libc.send
_send.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
_send.restype = ctypes.c_ssize_t
_close = _libc.close
_close.argtypes = [ctypes.c_int]
_close.restype = ctypes.c_int


class _EpollEvent(ctypes.Structure):
    if platform.machine().lower() in ("x86_64", "amd64", "i386", "i686"):
        _pack_ = 1  # struct epoll_event is packed on x86 only
    _fields_ = [("events", ctypes.c_uint32), ("data", ctypes.c_uint64)]


_epoll_ctl = _libc.epoll_ctl
_epoll_ctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.POINTER(_EpollEvent)]
_epoll_ctl.restype = ctypes.c_int

MAIN_PROBES = frozenset({"/healthz", "/livez"})
TELEMETRY_PROBES = frozenset({"/readyz"})
# A request head longer than this is not a probe's: gevent deals with it.
HEAD_LIMIT = 8192
# A connection that has not sent its request head by then goes to gevent (and its timeouts).
HEAD_TIMEOUT = 5.0
# How long the GIL-holding thread runs before a waiting one gets it (CPython's default is 5 ms).
# The probe thread asks for the GIL once or twice per probe; nothing else competes for it, so a
# shorter interval only shortens the probe's waits.
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
    # (host, port) the listener is bound to, for SERVER_NAME and SERVER_PORT.
    bound: tuple[str, int] = ("", 0)


class _Conn:
    __slots__ = ("fd", "family", "port", "address", "deadline", "watched")

    def __init__(self, fd: int, family: int, port: ProbePort, address: Any, deadline: float) -> None:
        self.fd, self.family, self.port, self.address, self.deadline = fd, family, port, address, deadline
        self.watched = False


def _peer(raw: bytes) -> tuple[int, tuple[str, int]]:
    """(family, (host, port)) of a ``struct sockaddr`` from accept()."""
    family = int.from_bytes(raw[:2], sys.byteorder)
    port = int.from_bytes(raw[2:4], "big")
    if family == socket.AF_INET6:
        return family, (socket.inet_ntop(socket.AF_INET6, raw[8:24]), port)
    return family, (socket.inet_ntop(socket.AF_INET, raw[4:8]), port)


class ProbeServer:
    def __init__(self, ports: list[ProbePort]) -> None:
        # TLS: the thread cannot read the request line; that port stays with gevent alone.
        self.ports = [p for p in ports if not getattr(p.server, "ssl_enabled", False)]
        self._running = False
        self._stopped = False
        # True once the thread has closed its listeners (and before it ever starts).
        self._finished = True
        self._threadsafe: Callable[..., Any] | None = None
        self._ident = 0
        self._buf = ctypes.create_string_buffer(HEAD_LIMIT)

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
            host, number = listener.getsockname()[:2]
            port.bound = (str(host), int(number))
        sys.setswitchinterval(SWITCH_INTERVAL)
        self._running = True
        self._finished = False
        self._ident = _start_thread(self._run, ())

    def stop(self) -> None:
        """The thread closes its listeners and connections within a quarter second."""
        self._running = False

    def join(self, timeout: float = 5.0) -> bool:
        """After ``stop``: wait (yielding to the event loop) until the thread has closed its
        listeners, so the ports can be bound again; False if it has not within ``timeout``."""
        deadline = time.monotonic() + timeout
        while not self._finished and time.monotonic() < deadline:
            gevent.sleep(0.02)
        return self._finished

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
            self._finished = True

    @staticmethod
    def _resume_gevent(port: ProbePort) -> None:
        if port.server.started and not port.server.closed:
            port.server.start_accepting()

    def _accept(self, port: ProbePort, poller: Any, conns: dict[int, _Conn]) -> None:
        raw = ctypes.create_string_buffer(128)
        size = ctypes.c_uint32()
        while True:
            size.value = 128
            fd = _accept4(port.listener.fileno(), raw, ctypes.byref(size), socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC)
            if fd < 0:
                code = ctypes.get_errno()
                if code not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR):
                    # EMFILE and the like: gevent's server would log and go on too
                    logger.warning("accept failed: %s", os.strerror(code))
                return
            family, address = _peer(raw.raw[:size.value])
            conn = _Conn(fd, family, port, address, time.monotonic() + HEAD_TIMEOUT)
            conns[fd] = conn
            self._advance(conn, poller, conns)

    def _watch(self, conn: _Conn, poller: Any) -> None:
        """Wake up when more of the request arrives (edge-triggered: not again for what is there)."""
        if not conn.watched:
            event = _EpollEvent(_EPOLLIN | _EPOLLRDHUP | _EPOLLET, conn.fd)
            if _epoll_ctl(poller.fileno(), _EPOLL_CTL_ADD, conn.fd, ctypes.byref(event)) == 0:
                conn.watched = True

    def _forget(self, conn: _Conn, poller: Any, conns: dict[int, _Conn]) -> None:
        conns.pop(conn.fd, None)
        if conn.watched:
            _epoll_ctl(poller.fileno(), _EPOLL_CTL_DEL, conn.fd, None)
            conn.watched = False

    def _advance(self, conn: _Conn, poller: Any, conns: dict[int, _Conn]) -> None:
        """Look at what the client sent so far (without reading it): answer, hand over or wait."""
        buf = self._buf
        n = _recv(conn.fd, buf, HEAD_LIMIT, socket.MSG_PEEK)
        if n < 0:
            if ctypes.get_errno() in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR):
                self._watch(conn, poller)
            else:
                self._drop(conn, poller, conns)
            return
        if n == 0:
            self._drop(conn, poller, conns)
            return
        data = buf.raw[:n]
        line_end = data.find(b"\r\n")
        if line_end < 0:
            if len(data) >= HEAD_LIMIT:
                self._hand_over(conn, poller, conns)
            else:
                self._watch(conn, poller)
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
            else:
                self._watch(conn, poller)
            return
        headers = _headers(data[line_end + 2:head_end])
        if headers is None or headers.get("CONTENT_LENGTH", "0") not in ("", "0") or "HTTP_TRANSFER_ENCODING" in headers:
            self._hand_over(conn, poller, conns)
            return
        version = parts[2].decode()
        try:
            if _recv(conn.fd, buf, head_end + 4, 0) != head_end + 4:  # what was peeked is there
                raise ConnectionResetError("request head not read whole")
            response, close = answer(conn.port, version, path, query, headers, conn.address)
            self._send(conn.fd, response)
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
            self._hand_over(conn, poller, conns)

    @staticmethod
    def _send(fd: int, response: bytes) -> None:
        sent = _send(fd, response, len(response), socket.MSG_NOSIGNAL)
        if sent == len(response):
            return
        # A full socket buffer (a few hundred bytes never fill a fresh one): wait, releasing the GIL.
        rest = response[max(0, sent):]
        sock = _Socket(fileno=os.dup(fd))
        try:
            sock.settimeout(HEAD_TIMEOUT)
            sock.sendall(rest)
        finally:
            sock.close()

    def _drop(self, conn: _Conn, poller: Any, conns: dict[int, _Conn]) -> None:
        self._forget(conn, poller, conns)
        _close(conn.fd)

    def _hand_over(self, conn: _Conn, poller: Any, conns: dict[int, _Conn]) -> None:
        self._forget(conn, poller, conns)
        assert self._threadsafe is not None
        self._threadsafe(_adopt, conn.port.server, conn.fd, conn.family, conn.address)


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
    host, server_port = port.bound
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
