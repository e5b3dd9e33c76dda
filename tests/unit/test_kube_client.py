"""The API client's requests, against a local HTTP server that answers as kube-apiserver does."""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest

from ksm_py.kube.client import KubeClient

PAGE = orjson.dumps({"kind": "PodList", "metadata": {"resourceVersion": "7"},
                     "items": [{"metadata": {"name": f"pod-{i}", "namespace": "default",
                                             "uid": hashlib.sha256(b"%d" % i).hexdigest()}} for i in range(5000)]})

VERSION = b'{"major": "1", "minor": "37", "gitVersion": "v1.37.2"}'


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[str | None] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        encoding = self.headers.get("Accept-Encoding")
        self.seen.append(encoding)
        page = VERSION if self.path.startswith("/version") else PAGE
        # kube-apiserver gzips an answer over 128 KiB for a client that accepts it, in HTTP chunks.
        body = gzip.compress(page, 1) if encoding and "gzip" in encoding and len(page) > 128 << 10 else page
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if body is not page:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(0, len(body), 4096):
            piece = body[i:i + 4096]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the http.server API
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Handler.seen = []
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_list_is_asked_compressed_and_returned_decompressed(server: str) -> None:
    client = KubeClient(apiserver=server)
    assert len(PAGE) > 128 << 10  # big enough for kube-apiserver to compress
    assert client.get("/api/v1/pods", {"limit": 500}) == PAGE
    assert Handler.seen == ["gzip"]


def test_big_compressed_pages_are_gunzipped_by_the_offload_and_small_answers_in_place(server: str) -> None:
    calls: list[tuple[int, int]] = []

    def on_another_thread(fn: Callable[..., bytes], args: tuple[Any, ...]) -> bytes:
        result: list[bytes] = []
        worker = threading.Thread(target=lambda: result.append(fn(*args)))
        worker.start()
        worker.join()
        calls.append((len(args[0]), len(result[0])))
        return result[0]

    client = KubeClient(apiserver=server, offload=on_another_thread)
    assert client.get("/api/v1/pods", {"limit": 500}) == PAGE
    assert len(calls) == 1 and calls[0][1] == len(PAGE) and calls[0][0] < len(PAGE) // 2  # the gzip body went
    assert client.get("/version") == VERSION
    assert len(calls) == 1  # not compressed: nothing to hand over
    # a client for another OS thread gunzips in that thread
    assert client.fork().get("/api/v1/pods", {"limit": 500}) == PAGE
    assert len(calls) == 1
