"""A fast, thread-safe JSON client for populating a cluster: one keep-alive TLS connection per
thread (``http.client``), the admin client certificate, retries on connection loss and 429/5xx."""

from __future__ import annotations

import http.client
import itertools
import ssl
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import quote, urlsplit

import orjson

from ._util import Progress

METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"

# kind -> (api prefix, plural, namespaced)
KINDS: dict[str, tuple[str, str, bool]] = {
    "Namespace": ("/api/v1", "namespaces", False),
    "ServiceAccount": ("/api/v1", "serviceaccounts", True),
    "Pod": ("/api/v1", "pods", True),
    "Service": ("/api/v1", "services", True),
    "ConfigMap": ("/api/v1", "configmaps", True),
    "Secret": ("/api/v1", "secrets", True),
    "Deployment": ("/apis/apps/v1", "deployments", True),
    "ReplicaSet": ("/apis/apps/v1", "replicasets", True),
    "Job": ("/apis/batch/v1", "jobs", True),
    "EndpointSlice": ("/apis/discovery.k8s.io/v1", "endpointslices", True),
    "Node": ("/api/v1", "nodes", False),
}


def collection_path(kind: str, namespace: str | None = None) -> str:
    prefix, plural, namespaced = KINDS[kind]
    if namespaced and namespace:
        return f"{prefix}/namespaces/{namespace}/{plural}"
    return f"{prefix}/{plural}"


def object_path(obj: dict[str, Any], subresource: str = "") -> str:
    meta = obj["metadata"]
    path = f"{collection_path(obj['kind'], meta.get('namespace'))}/{meta['name']}"
    return f"{path}/{subresource}" if subresource else path


class ApiFailure(RuntimeError):
    def __init__(self, status: int, body: bytes, what: str) -> None:
        super().__init__(f"HTTP {status} for {what}: {body[:300]!r}")
        self.status = status


class Api:
    def __init__(self, server: str, ca: Path, cert: Path, key: Path) -> None:
        url = urlsplit(server)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 443
        self.ctx = ssl.create_default_context(cafile=str(ca))
        self.ctx.load_cert_chain(str(cert), str(key))
        self._local = threading.local()

    def _conn(self) -> http.client.HTTPSConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=60)
            self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def request(self, method: str, path: str, body: Any = None, *, content_type: str = "application/json",
                accept: str = "application/json", ok: Sequence[int] = (), attempts: int = 6) -> tuple[int, bytes]:
        data = None if body is None else (body if isinstance(body, bytes) else orjson.dumps(body))
        headers = {"Accept": accept}
        if data is not None:
            headers["Content-Type"] = content_type
        delay = 0.2
        for attempt in range(attempts):
            try:
                conn = self._conn()
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException):
                self._drop()
                if attempt == attempts - 1:
                    raise
                time.sleep(delay)
                delay *= 2
                continue
            if resp.status < 300 or resp.status in ok:
                return resp.status, raw
            if resp.status in (429, 500, 502, 503, 504) and attempt < attempts - 1:
                time.sleep(delay)
                delay *= 2
                continue
            raise ApiFailure(resp.status, raw, f"{method} {path}")
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        return orjson.loads(self.request(method, path, body, **kw)[1])

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        """POST; an object that already exists is read back instead (re-runs are harmless)."""
        status, raw = self.request("POST", collection_path(obj["kind"], obj["metadata"].get("namespace")), obj,
                                   ok=(409,))
        if status == 409:
            return self.json("GET", object_path(obj))
        return orjson.loads(raw)

    def merge_patch(self, obj_path: str, patch: dict[str, Any]) -> dict[str, Any]:
        return self.json("PATCH", obj_path, patch, content_type="application/merge-patch+json")

    def count(self, kind: str) -> int:
        """Objects of a kind, from one metadata-only page (``remainingItemCount`` + items)."""
        page = self.json("GET", collection_path(kind) + "?limit=1", accept=METADATA_LIST)
        return len(page.get("items") or []) + int(page.get("metadata", {}).get("remainingItemCount") or 0)


    def uids(self, kind: str, page: int = 5000) -> list[str]:
        """Every object's UID of a kind (metadata-only pages, followed by ``continue``)."""
        out: list[str] = []
        token = ""
        while True:
            query = f"?limit={page}" + (f"&continue={quote(token, safe='')}" if token else "")
            body = self.json("GET", collection_path(kind) + query, accept=METADATA_LIST)
            out.extend(item["metadata"]["uid"] for item in body.get("items") or [])
            token = (body.get("metadata") or {}).get("continue") or ""
            if not token:
                return out


def parallel(label: str, items: Iterable[Any], fn: Callable[[Any], Any], *, total: int, workers: int = 16,
             timeout: float = 3600) -> tuple[list[Any], float]:
    """Run ``fn`` over ``items`` in ``workers`` threads with a progress bar; results in input order.

    Returns (results, seconds).  Stops early (raising) on the first failure or after ``timeout``.
    """
    results: list[Any] = [None] * total
    source = iter(enumerate(items))
    lock = threading.Lock()
    done = itertools.count(1)
    progress = Progress(label, total)
    errors: list[BaseException] = []
    deadline = time.monotonic() + timeout

    def worker() -> None:
        while not errors and time.monotonic() < deadline:
            with lock:
                try:
                    i, item = next(source)
                except StopIteration:
                    return
            try:
                results[i] = fn(item)
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller
                errors.append(e)
                return
            n = next(done)
            progress.done = max(progress.done, n)

    threads = [threading.Thread(target=worker, daemon=True, name=f"{label}-{k}") for k in range(workers)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        for t in threads:
            t.join(0.5)
        progress.update(progress.done)
    elapsed = progress.close()
    if errors:
        raise errors[0]
    if time.monotonic() >= deadline:
        raise TimeoutError(f"{label}: not finished within {timeout:.0f}s")
    return results, elapsed
