"""WSGI apps for the main port (/metrics, /healthz, /livez, /) and the telemetry port."""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Iterator, Sequence
from urllib.parse import parse_qs

from prometheus_client import exposition as prom_exposition

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
        return self._timed(body, started, encoding)

    def _timed(self, body: Iterator[bytes], started: float, encoding: str) -> Iterator[bytes]:
        try:
            for piece in body:
                if piece:
                    yield piece
                # Joining and compressing are CPU-bound and a fast reader never blocks the writes:
                # yield to the event loop between pieces (each a few ms) so /healthz, other scrapes
                # and watch events are served during a scrape of hundreds of MB.
                self.cooperate()
        finally:
            self.telemetry.scrape_duration.labels(encoding).observe(time.monotonic() - started)


class TelemetryApp:
    def __init__(self, telemetry: Telemetry, *, ready: Callable[[], bool],
                 report: Callable[[], list[str]] = list) -> None:
        self.metrics_app = prom_exposition.make_wsgi_app(telemetry.registry)
        self.ready = ready
        self.report = report

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            return self.metrics_app(environ, start_response)
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
