"""A minimal JSON REST client for the harness itself (bootstrapping nodes, RBAC, tokens).

Tests talk to the cluster through the official ``kubernetes`` client; the harness uses this so
that starting a cluster does not depend on that client's version quirks.
"""

from __future__ import annotations

import base64
import json
import ssl
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

# kind -> (api prefix, plural, namespaced) for what the harness creates.
KINDS: dict[str, tuple[str, str, bool]] = {
    "Namespace": ("/api/v1", "namespaces", False),
    "Node": ("/api/v1", "nodes", False),
    "ServiceAccount": ("/api/v1", "serviceaccounts", True),
    "ConfigMap": ("/api/v1", "configmaps", True),
    "Service": ("/api/v1", "services", True),
    "Endpoints": ("/api/v1", "endpoints", True),
    "ClusterRole": ("/apis/rbac.authorization.k8s.io/v1", "clusterroles", False),
    "ClusterRoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "clusterrolebindings", False),
    "Role": ("/apis/rbac.authorization.k8s.io/v1", "roles", True),
    "RoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "rolebindings", True),
    "Deployment": ("/apis/apps/v1", "deployments", True),
    "StatefulSet": ("/apis/apps/v1", "statefulsets", True),
    "DaemonSet": ("/apis/apps/v1", "daemonsets", True),
}


class ApiError(RuntimeError):
    def __init__(self, status: int, body: str, url: str) -> None:
        super().__init__(f"HTTP {status} from {url}: {body[:500]}")
        self.status = status


def object_path(obj: dict[str, Any], *, with_name: bool = True) -> str:
    prefix, plural, namespaced = KINDS[obj["kind"]]
    meta = obj["metadata"]
    path = prefix
    if namespaced:
        path += f"/namespaces/{meta.get('namespace', 'default')}"
    path += f"/{plural}"
    if with_name:
        path += f"/{meta['name']}"
    return path


class Rest:
    def __init__(self, kubeconfig: Path) -> None:
        cfg = yaml.safe_load(kubeconfig.read_text())
        ctx_name = cfg["current-context"]
        ctx = next(c["context"] for c in cfg["contexts"] if c["name"] == ctx_name)
        cluster = next(c["cluster"] for c in cfg["clusters"] if c["name"] == ctx["cluster"])
        user = next(u["user"] for u in cfg["users"] if u["name"] == ctx["user"])
        self.server = cluster["server"].rstrip("/")
        self.ssl = ssl.create_default_context()
        if "certificate-authority-data" in cluster:
            self.ssl.load_verify_locations(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
        elif "certificate-authority" in cluster:
            self.ssl.load_verify_locations(cafile=cluster["certificate-authority"])
        self.headers: dict[str, str] = {}
        if "token" in user:
            self.headers["Authorization"] = f"Bearer {user['token']}"
        if "client-certificate-data" in user:
            # ssl can only load a client cert from files; keep them next to nothing but the process.
            self._tmp = tempfile.TemporaryDirectory(prefix="ksm-py-rest-")
            crt, key = Path(self._tmp.name, "c.crt"), Path(self._tmp.name, "c.key")
            crt.write_bytes(base64.b64decode(user["client-certificate-data"]))
            key.write_bytes(base64.b64decode(user["client-key-data"]))
            self.ssl.load_cert_chain(crt, key)
        elif "client-certificate" in user:
            self.ssl.load_cert_chain(user["client-certificate"], user["client-key"])

    def request(self, method: str, path: str, body: Any = None, *, content_type: str = "application/json",
                timeout: float = 30) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.server + path, data=data, method=method,
                                     headers={**self.headers, "Content-Type": content_type,
                                              "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, context=self.ssl, timeout=timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            raise ApiError(e.code, e.read().decode(errors="replace"), self.server + path) from None
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode()

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def apply(self, obj: dict[str, Any]) -> Any:
        """Server-side apply (create or update) of one object."""
        return self.request("PATCH", object_path(obj) + "?fieldManager=ksm-py-tests&force=true", obj,
                            content_type="application/apply-patch+yaml")

    def delete(self, obj: dict[str, Any]) -> None:
        try:
            self.request("DELETE", object_path(obj))
        except ApiError as e:
            if e.status != 404:
                raise
