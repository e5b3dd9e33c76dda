"""WSGI apps for the main port (/metrics, /healthz, /livez, /) and the telemetry port, and the
HTTP server both run on: gevent's, bounded by the ``--server-*-timeout`` flags."""

from __future__ import annotations

import errno
import gzip
import time
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence
from urllib.parse import parse_qs

import gevent
from gevent.pywsgi import WSGIHandler, WSGIServer

from .exposition import ResourceWriter, iter_exposition, iter_gzip, negotiate, select, wants_gzip
from .telemetry import Telemetry

StartResponse = Callable[..., Any]
Environ = dict[str, Any]

LANDING = b"""<html>
             <head><title>Kube Metrics Server</title></head>
             <body>
             <h1>Kube Metrics</h1>
             <ul>
             <li><a href='/metrics'>metrics</a></li>
             <li><a href='/healthz'>healthz</a></li>
             <li><a href='/livez'>livez</a></li>
             </ul>
             </body>
             </html>"""

# With the topology explorer, the landing page links to it (without, it is upstream's, byte for byte).
LANDING_WITH_EXPLORER = LANDING.replace(
    b"<li><a href='/livez'>livez</a></li>",
    b"<li><a href='/livez'>livez</a></li>\n             <li><a href='/topology/ui'>topology explorer</a></li>")

# What client_golang's promhttp answers for the text format.
TELEMETRY_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"

TELEMETRY_LANDING = b"""<html>
             <head><title>Kube-State-Metrics Metrics Server</title></head>
             <body>
             <h1>Kube-State-Metrics Metrics</h1>
             <ul>
             <li><a href='/metrics'>metrics</a></li>
             <li><a href='/readyz'>readyz</a></li>
             </ul>
             </body>
             </html>"""


def _plain(start_response: StartResponse, status: str, body: bytes,
           content_type: str = "text/plain; charset=utf-8") -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def _csv_params(query: dict[str, list[str]], name: str) -> list[str]:
    return [v.strip() for raw in query.get(name, []) for v in raw.split(",") if v.strip()]


class MainApp:
    def __init__(self, writers: Sequence[ResourceWriter], *, livez: Callable[[], bool], telemetry: Telemetry,
                 enable_gzip: bool = False, routes: dict[str, Callable[..., Iterable[bytes]]] | None = None,
                 cooperate: Callable[[], None] = lambda: time.sleep(0)) -> None:
        self.writers = list(writers)
        # Called between pieces of a response (the exporter passes gevent.idle).
        self.cooperate = cooperate
        self.routes = routes or {}
        self.livez = livez
        self.telemetry = telemetry
        self.enable_gzip = enable_gzip

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            return self.metrics(environ, start_response)
        if path == "/healthz":
            return _plain(start_response, "200 OK", b"OK")
        if path == "/livez":
            if self.livez():
                return _plain(start_response, "200 OK", b"OK")
            return _plain(start_response, "503 Service Unavailable", b"Service Unavailable")
        if path == "/":
            landing = LANDING_WITH_EXPLORER if "/topology/ui" in self.routes else LANDING
            return _plain(start_response, "200 OK", landing, "text/html; charset=utf-8")
        if path in self.routes:
            return self.routes[path](environ, start_response)
        return _plain(start_response, "404 Not Found", b"404 page not found")

    def metrics(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        started = time.monotonic()
        fmt = negotiate(environ.get("HTTP_ACCEPT"))
        query = parse_qs(environ.get("QUERY_STRING", ""))
        writers = select(self.writers, _csv_params(query, "resources"), _csv_params(query, "exclude_resources"))
        headers = [("Content-Type", fmt.content_type)]
        encoding = "identity"
        if self.enable_gzip and wants_gzip(environ.get("HTTP_ACCEPT_ENCODING")):
            body = iter_gzip(writers, fmt)
            headers.append(("Content-Encoding", "gzip"))
            encoding = "gzip"
        else:
            body = iter_exposition(writers, fmt)
        start_response("200 OK", headers)
        return self._timed(body, started, encoding, environ.get("REQUEST_METHOD", "GET"))

    def _timed(self, body: Iterator[bytes], started: float, encoding: str, method: str) -> Iterator[bytes]:
        try:
            for piece in body:
                if piece:
                    yield piece
                # Joining and compressing are CPU-bound and a fast reader never blocks the writes:
                # yield to the event loop between pieces (each a few ms) so /healthz, other scrapes
                # and watch events are served during a scrape of hundreds of MB.
                self.cooperate()
        finally:
            took = time.monotonic() - started
            self.telemetry.scrape_duration.labels(encoding).observe(took)
            self.telemetry.metrics_request(method, took)


class TelemetryApp:
    def __init__(self, telemetry: Telemetry, *, ready: Callable[[], bool],
                 report: Callable[[], list[str]] = list) -> None:
        self.telemetry = telemetry
        self.ready = ready
        self.report = report

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            # promhttp's handler: the text format only (no OpenMetrics offered), gzip when asked.
            body = self.telemetry.render()
            headers = [("Content-Type", TELEMETRY_CONTENT_TYPE)]
            if wants_gzip(environ.get("HTTP_ACCEPT_ENCODING")):
                body = gzip.compress(body)
                headers.append(("Content-Encoding", "gzip"))
            start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
            return [body]
        if path == "/readyz":
            # Ready only once every enabled resource finished its initial list (upstream is ready
            # as soon as the process is up, and serves partial metrics meanwhile).
            # The first line is upstream's body; then one line per forbidden or not yet listed resource.
            ready, lines = self.ready(), self.report()
            body = "\n".join(["OK" if ready else "Service Unavailable", *lines]).encode()
            return _plain(start_response, "200 OK" if ready else "503 Service Unavailable", body)
        if path == "/":
            return _plain(start_response, "200 OK", TELEMETRY_LANDING, "text/html; charset=utf-8")
        return _plain(start_response, "404 Not Found", b"404 page not found")


# --- the HTTP servers of both ports: Go's http.Server timeouts for gevent's pywsgi -----------------

class Timeouts(NamedTuple):
    """``--server-*-timeout`` in seconds; zero or less is no limit, as for Go's http.Server."""

    read: float = 60.0
    read_header: float = 5.0
    write: float = 60.0
    idle: float = 300.0

    def header(self) -> float | None:
        """The request line and headers must arrive within this (Go: ReadHeaderTimeout, else ReadTimeout)."""
        limits = [t for t in (self.read_header, self.read) if t > 0]
        return min(limits) if limits else None

    def keep_alive(self) -> float | None:
        """How long a kept-alive connection waits for the next request (Go: IdleTimeout, else ReadTimeout)."""
        for t in (self.idle, self.read):
            if t > 0:
                return t
        return None


def _timed_out(what: str) -> OSError:
    return OSError(errno.ETIMEDOUT, f"{what} timeout")


class BoundedHandler(WSGIHandler):
    """pywsgi's request handler with deadlines: a client that sends its request slowly, stays idle
    or does not read its response has its connection closed, and the response it pinned (the
    generator and the piece in flight) is freed, instead of holding them forever."""

    # A write past the deadline ends the connection as quietly as a peer that went away.
    ignored_socket_errors = (*WSGIHandler.ignored_socket_errors, errno.ETIMEDOUT)
    server: BoundedWSGIServer

    def __init__(self, sock: Any, address: Any, server: Any, rfile: Any = None) -> None:
        super().__init__(sock, address, server, rfile)
        self._requests = 0
        self._header_timer: gevent.Timeout | None = None
        self._write_deadline: float | None = None

    def read_requestline(self) -> str:
        timeouts = self.server.timeouts
        self._write_deadline = None
        if self._requests:
            # Keep-alive: wait for the next request's first byte, then its header deadline starts.
            self.socket.settimeout(timeouts.keep_alive())
            self.rfile.peek(1)
        self._requests += 1
        header = timeouts.header()
        self.socket.settimeout(header)
        if header is not None:
            self._header_timer = gevent.Timeout.start_new(header, _timed_out("request header"))
        line: str = super().read_requestline()
        return line

    def read_request(self, raw_requestline: str) -> bool:
        try:
            ok: bool = super().read_request(raw_requestline)
        finally:
            self._cancel_header_timer()
        write = self.server.timeouts.write
        # Go starts the write deadline once the request header is read.
        self._write_deadline = time.monotonic() + write if write > 0 else None
        self.socket.settimeout(write if write > 0 else None)
        return ok

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.close()
            self._header_timer = None

    def handle_one_request(self) -> Any:
        try:
            return super().handle_one_request()
        except OSError as e:  # the keep-alive wait ran out (raised by peek)
            if e.errno == errno.ETIMEDOUT or isinstance(e, TimeoutError):
                return None
            raise
        finally:
            self._cancel_header_timer()

    def _handle_client_error(self, ex: BaseException) -> Any:
        if isinstance(ex, OSError) and (ex.errno == errno.ETIMEDOUT or isinstance(ex, TimeoutError)):
            return None  # a request that did not arrive in time: close without an answer, as Go does
        return super()._handle_client_error(ex)

    def _sendall(self, data: bytes) -> None:
        if self._write_deadline is not None:
            remaining = self._write_deadline - time.monotonic()
            if remaining <= 0:
                raise _timed_out("response write")
            self.socket.settimeout(remaining)
        try:
            super()._sendall(data)
        except TimeoutError:
            raise _timed_out("response write") from None


class BoundedWSGIServer(WSGIServer):
    """gevent's WSGI server with ``Timeouts`` on every connection, the TLS handshake included."""

    handler_class = BoundedHandler

    def __init__(self, *args: Any, timeouts: Timeouts = Timeouts(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeouts = timeouts

    def wrap_socket_and_handle(self, client_socket: Any, address: Any) -> Any:
        # A client that opens a TLS connection and never completes the handshake is bounded like
        # one that never sends its request header.
        client_socket.settimeout(self.timeouts.header())
        return super().wrap_socket_and_handle(client_socket, address)
