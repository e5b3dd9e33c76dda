"""A scriptable HTTP server on 127.0.0.1 for the bridge tests (fake ksm-py, fake receiver)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclasses.dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Reply = tuple[int, dict[str, str], bytes]
Route = Callable[[Request], Reply]


class FakeServer:
    """Answers each path with a fixed reply, a list of replies (one per request, the last repeats)
    or a function; records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply | list[Reply] | Route] = {}
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                req = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                              self.rfile.read(length) if length else b"")
                status, headers, body = server.reply(req)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def reply(self, req: Request) -> Reply:
        with self.lock:
            self.requests.append(req)
            route = self.routes.get(req.path.split("?", 1)[0])
            if route is None:
                return 404, {}, b"not found"
            if isinstance(route, list):
                return route.pop(0) if len(route) > 1 else route[0]
            if callable(route):
                return route(req)
            return route

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    s = FakeServer()
    yield s
    s.close()
