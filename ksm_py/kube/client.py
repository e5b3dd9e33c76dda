"""The only module that talks to the Kubernetes API.

Configuration and authentication come from ``config`` (kubeconfig, in-cluster service account
with token re-reading, ``--apiserver``); requests go through urllib3 and responses stay raw
bytes: no model classes are ever built.
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
from typing import Any, Callable, Iterator, NamedTuple
from urllib.parse import urlencode

import orjson
import urllib3
from zlib_ng import zlib_ng

from .. import __version__
from . import config as kube_config

logger = logging.getLogger(__name__)

USER_AGENT = f"ksm-py/{__version__}"
ACCEPT_JSON = "application/json"
# Metadata-only representations: object contents (e.g. ConfigMap data) never reach the process.
ACCEPT_METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
ACCEPT_METADATA = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"


# Runs ``fn(*args)`` on another OS thread and returns its result: gevent's native thread pool
# (``gevent.get_hub().threadpool.apply``) under the exporter.
Offload = Callable[[Callable[..., bytes], tuple[Any, ...]], bytes]
# Compressed bodies at least this big are gunzipped by ``offload`` (a LIST page of 500 pods is
# about 400 KiB): below it, handing over costs more than it frees.
OFFLOAD_BYTES = 64 * 1024


class StreamIdle(Exception):
    """No bytes arrived on a watch for the read timeout: the stream is dead or just quiet."""


class ApiError(Exception):
    """A non-2xx answer from the API server."""

    def __init__(self, status: int, reason: str, body: bytes = b"") -> None:
        super().__init__(f"HTTP {status} {reason}: {body[:300].decode(errors='replace')}")
        self.status = status
        self.body = body


class ApiResource(NamedTuple):
    """Where a resource lives in the API (``/api/v1/pods``, ``/apis/apps/v1/namespaces/x/deployments``)."""

    group: str
    version: str
    plural: str
    namespaced: bool

    def path(self, namespace: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"


def _stamps(conn: kube_config.Connection) -> list[tuple[int, int, int] | None]:
    stamps: list[tuple[int, int, int] | None] = []
    for path in (conn.ssl_ca_cert, conn.cert_file, conn.key_file):
        try:
            # In-memory copies of kubeconfig *-data fields never change.
            st = os.stat(path) if path and not path.startswith(kube_config.IN_MEMORY) else None
        except OSError:
            st = None
        stamps.append((st.st_ino, st.st_mtime_ns, st.st_size) if st else None)
    return stamps


def _ssl_context(conn: kube_config.Connection) -> ssl.SSLContext:
    """One TLS context for every connection: the CA and the client key are read once, not at each
    of the 30-odd connections the reflectors open at start-up (about 1 ms of CPU each)."""
    ctx = urllib3.util.ssl_.create_urllib3_context(
        cert_reqs=ssl.CERT_REQUIRED if conn.verify_ssl else ssl.CERT_NONE)
    if conn.ssl_ca_cert:
        ctx.load_verify_locations(cafile=conn.ssl_ca_cert)
    else:
        ctx.load_default_certs()
    if conn.cert_file:
        ctx.load_cert_chain(conn.cert_file, conn.key_file)
    return ctx


# TCP keepalive on every connection, as client-go's dialer has (30 s): a peer or path that died
# under a quiet watch is found by the kernel in about a minute, without reading any byte.
SOCKET_OPTIONS = [
    *urllib3.connection.HTTPConnection.default_socket_options,
    (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
    *[(socket.IPPROTO_TCP, opt, value) for name, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10),
                                                         ("TCP_KEEPCNT", 3)) if (opt := getattr(socket, name, None))],
]


class KubeClient:
    def __init__(self, *, kubeconfig: str = "", apiserver: str = "", pool_size: int = 64,
                 offload: Offload | None = None) -> None:
        """``offload``: where big LIST pages are gunzipped. zlib-ng lets go of the GIL while it
        inflates, so on another OS thread a page is gunzipped while the event loop's thread renders
        the one before (otherwise, in the caller's thread)."""
        self.config = kube_config.load(kubeconfig, apiserver)
        self._offload = offload
        self.host = str(self.config.host).rstrip("/")
        self._tls = self.host.startswith("https")
        # One connection per long-lived watch, plus room for lists and /livez.
        self._pool_args: dict[str, Any] = {"num_pools": 2, "maxsize": pool_size, "block": False, "retries": False,
                                           "socket_options": SOCKET_OPTIONS}
        if self._tls:
            self._pool_args["cert_reqs"] = "CERT_REQUIRED" if self.config.verify_ssl else "CERT_NONE"
            if self.config.tls_server_name:
                self._pool_args["server_hostname"] = self.config.tls_server_name
        self._new_pool()

    def _new_pool(self, tls: tuple[list[tuple[int, int, int] | None], ssl.SSLContext] | None = None) -> None:
        args = dict(self._pool_args)
        if self._tls:
            self._tls_stamps, self._ssl_context = tls or (_stamps(self.config), _ssl_context(self.config))
            args["ssl_context"] = self._ssl_context
        self._pool = urllib3.PoolManager(**args)

    @property
    def pool(self) -> urllib3.PoolManager:
        """The connections; made again when the CA or client certificate files change on disk, so
        a rotated certificate is used from the next request on (connections in use finish)."""
        if self._tls and _stamps(self.config) != self._tls_stamps:
            logger.info("TLS files of the kubeconfig changed; new connections use them")
            old = self._pool
            self._new_pool()
            old.clear()
        return self._pool

    def close(self) -> None:
        """Close the pooled connections (an exporter replaced by a --config reload)."""
        self.pool.clear()

    def fork(self, pool_size: int = 2) -> KubeClient:
        """The same API server and credentials with connections of its own: for another OS thread
        (under gevent a connection belongs to the thread that opened it)."""
        other = object.__new__(KubeClient)
        other.config, other.host, other._tls = self.config, self.host, self._tls
        other._offload = None  # gevent's pool is the event loop thread's: the other thread gunzips itself
        other._pool_args = {**self._pool_args, "maxsize": pool_size}
        # The same TLS context (reading the CA and the client key again costs 1 ms of CPU), with the
        # stamps of the files it was read from: if they changed since, ``pool`` makes a new one.
        other._new_pool((self._tls_stamps, self._ssl_context) if self._tls else None)
        return other

    def _headers(self, accept: str) -> dict[str, str]:
        headers = {"Accept": accept, "User-Agent": USER_AGENT}
        # Asked at every request, so a rotated token is used on the next one.
        authorization = self.config.authorization()
        if authorization:
            headers["Authorization"] = authorization
        return headers

    def _url(self, path: str, params: dict[str, Any] | None) -> str:
        query = urlencode({k: v for k, v in (params or {}).items() if v not in (None, "")})
        return f"{self.host}{path}?{query}" if query else f"{self.host}{path}"

    def get(self, path: str, params: dict[str, Any] | None = None, *, accept: str = ACCEPT_JSON,
            timeout: float = 60) -> bytes:
        # Compressed, as client-go asks too (Go's transport does by default). kube-apiserver gzips
        # answers over 128 KiB, so a LIST page arrives in a tenth of the TLS records: reading
        # 10,000 pods' pages (84 MB) costs 0.15-0.25 s of CPU instead of 0.50-0.71, gunzipping
        # included, and kube-apiserver spent no more CPU for them (six runs each way).
        headers = {**self._headers(accept), "Accept-Encoding": "gzip"}
        resp = self.pool.request("GET", self._url(path, params), headers=headers,
                                 timeout=urllib3.Timeout(connect=10, read=timeout), preload_content=False,
                                 decode_content=False)
        try:
            body = resp.read(decode_content=False)
        finally:
            resp.release_conn()
        encoding = resp.headers.get("Content-Encoding")
        if self._offload is not None and encoding == "gzip" and len(body) >= OFFLOAD_BYTES:
            body = self._offload(_decoded, (body, encoding))
        else:
            body = _decoded(body, encoding)
        if resp.status >= 300:
            raise ApiError(resp.status, resp.reason or "", body)
        return body

    def create_review(self, path: str, review: dict[str, Any], *, timeout: float = 10) -> bytes:
        """POST a review (TokenReview, SubjectAccessReview: ``--auth-filter``) and return the answer.
        Reviews are the only objects ksm-py creates; they are answered, never stored."""
        headers = {**self._headers(ACCEPT_JSON), "Content-Type": "application/json"}
        resp = self.pool.request("POST", self._url(path, None), body=orjson.dumps(review), headers=headers,
                                 timeout=urllib3.Timeout(connect=10, read=timeout), preload_content=True)
        if resp.status >= 300:
            raise ApiError(resp.status, resp.reason or "", resp.data)
        return bytes(resp.data)

    def stream_lines(self, path: str, params: dict[str, Any], *, accept: str = ACCEPT_JSON,
                     read_timeout: float = 75) -> Iterator[bytes]:
        """A watch. Returns once the API server accepted it (raises ApiError otherwise); the iterator
        yields each newline-terminated JSON event as raw bytes until the server ends the stream."""
        resp = self.pool.request("GET", self._url(path, params), headers=self._headers(accept),
                                 timeout=urllib3.Timeout(connect=10, read=read_timeout), preload_content=False)
        if resp.status >= 300:
            try:
                raise ApiError(resp.status, resp.reason or "", resp.read())
            finally:
                resp.close()
        return _lines(resp)

    def livez(self) -> bool:
        try:
            self.get("/livez", timeout=5)
        except Exception as e:  # noqa: BLE001 - any failure is "not live"
            logger.debug("apiserver /livez failed: %r", e)
            return False
        return True

    def server_version(self) -> bytes:
        return self.get("/version", timeout=10)


def _decoded(body: bytes, encoding: str | None) -> bytes:
    """The body, gunzipped at once with zlib-ng: twice as fast as the zlib module, and three
    times as fast as urllib3 decompressing each HTTP chunk as it comes (a 4 MB page of pods:
    2.8 ms against 5.6 and 9.7)."""
    if not encoding or encoding == "identity":
        return body
    if encoding != "gzip":
        raise ApiError(502, f"unexpected Content-Encoding {encoding!r}")
    return zlib_ng.decompress(body, 31, max(16384, len(body) * 12))


def _lines(resp: urllib3.BaseHTTPResponse) -> Iterator[bytes]:
    try:
        pending = b""
        for chunk in _chunks(resp):
            pending += chunk
            if b"\n" not in chunk:
                continue
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line.strip():
                    yield line
        if pending.strip():
            yield pending
    finally:
        # A watch cut short can be neither drained (it may never end) nor reused.
        resp.close()


def _chunks(resp: urllib3.BaseHTTPResponse) -> Iterator[bytes]:
    try:
        yield from resp.stream(64 * 1024, decode_content=True)
    except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as e:
        raise StreamIdle(str(e)) from e
