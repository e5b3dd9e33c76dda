"""Where the API server is and how to authenticate: kubeconfig files, the in-cluster service
account, ``--apiserver``.

The common cases (client certificates, bearer tokens and token files, basic auth, the in-cluster
service account) are read here; kubeconfigs that need more (``exec`` credential plugins,
``auth-provider`` users) and malformed ones go to the ``kubernetes`` package's loader, which
also makes the error messages. Importing that package costs about 0.2 s of CPU at every start
(it imports every API model class), more than ksm-py's own start-up.
"""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path
from typing import Any, Callable

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
# The kubernetes package re-reads the projected token every minute (client-go: at most every minute too).
TOKEN_REREAD_S = 60.0
IN_MEMORY = "/proc/self/fd/"


class Unsupported(Exception):
    """This kubeconfig needs the ``kubernetes`` package (or is malformed: it makes the error)."""


class Connection:
    """What the client needs: the server's URL, TLS files and the Authorization header."""

    def __init__(self, host: str, *, verify_ssl: bool = True, ssl_ca_cert: str | None = None,
                 cert_file: str | None = None, key_file: str | None = None, tls_server_name: str | None = None,
                 authorization: Callable[[], str | None] = lambda: None) -> None:
        self.host = host
        self.verify_ssl = verify_ssl
        self.ssl_ca_cert = ssl_ca_cert
        self.cert_file = cert_file
        self.key_file = key_file
        self.tls_server_name = tls_server_name
        # Called before each request: a rotated token is used on the next one.
        self.authorization = authorization


def in_memory_file(data: bytes, _paths: dict[bytes, str] = {}) -> str:  # noqa: B006 - a process-wide cache
    """A path to ``data`` that is never on disk (memfd): kubeconfig ``*-data`` fields (CA, client
    certificate and key) under a read-only root filesystem without a writable /tmp."""
    if data not in _paths:
        fd = os.memfd_create("ksm-py-kubeconfig-data")  # close-on-exec; lives as long as the process
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        _paths[data] = f"{IN_MEMORY}{fd}"
    return _paths[data]


def _keep_kubeconfig_data_in_memory(kube_config: Any) -> None:
    """Make the ``kubernetes`` loader put ``*-data`` fields in memfd files, as this module does."""
    if not hasattr(os, "memfd_create") or not hasattr(kube_config, "_create_temp_file_with_content"):
        return

    def in_memory(content: str | bytes, temp_file_path: str | None = None, force_recreate: bool = False) -> str:
        return in_memory_file(content.encode() if isinstance(content, str) else bytes(content))

    kube_config._create_temp_file_with_content = in_memory


def _with_kubernetes_package(kubeconfig: str, in_cluster: bool) -> Connection:
    from kubernetes import config as loaders
    from kubernetes.client import Configuration
    from kubernetes.config import kube_config

    _keep_kubeconfig_data_in_memory(kube_config)
    cfg = Configuration()
    if in_cluster:
        # Installs a hook that re-reads the projected token when it rotates.
        loaders.load_incluster_config(client_configuration=cfg)
    else:
        # persist_config=False: refreshed auth-provider tokens are never written back to the file.
        loaders.load_kube_config(config_file=kubeconfig or None, client_configuration=cfg, persist_config=False)

    def authorization() -> str | None:
        # auth_settings() runs the token refresh hook (exec plugins, expiring auth-provider tokens).
        auth: Any
        for auth in cfg.auth_settings().values():
            if auth.get("in") == "header" and auth.get("key", "").lower() == "authorization" and auth.get("value"):
                return str(auth["value"])
        return None

    return Connection(str(cfg.host), verify_ssl=bool(cfg.verify_ssl), ssl_ca_cert=cfg.ssl_ca_cert,
                      cert_file=cfg.cert_file, key_file=cfg.key_file, tls_server_name=cfg.tls_server_name,
                      authorization=authorization)


def _named(config: dict[str, Any], kind: str, name: Any, *, required: bool = True) -> tuple[Any, Path] | None:
    """The entry ``name`` of ``config[kind]`` (each entry remembers the file it came from)."""
    found = [e for e in config[kind] if e["name"] == name]
    if len(found) != 1:
        if required or len(found) > 1:
            raise Unsupported(f"{kind} {name!r}")
        return None
    return found[0]["value"], found[0]["path"]


def _merged(paths: list[Path]) -> dict[str, Any]:
    """Several kubeconfig files as one, as kubectl and the kubernetes package merge them: the
    first file naming a cluster, context or user wins; the last current-context wins."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    merged: dict[str, Any] = {"clusters": [], "contexts": [], "users": []}
    for path in paths:
        with path.open() as f:
            config = yaml.load(f, Loader=loader)  # noqa: S506 - a safe loader
        if not isinstance(config, dict):
            raise Unsupported(f"{path}: not a kubeconfig")
        for kind in ("clusters", "contexts", "users"):
            for entry in config.get(kind) or []:
                if not isinstance(entry, dict) or "name" not in entry:
                    raise Unsupported(f"{path}: {kind}")
                if all(e["name"] != entry["name"] for e in merged[kind]):
                    merged[kind].append({"name": entry["name"], "value": entry.get(kind[:-1]), "path": path})
        if "current-context" in config:
            merged["current-context"] = config["current-context"]
    return merged


def _directory(path: str | Path) -> Path:
    return Path(os.path.abspath(os.path.dirname(path)))  # not resolve(): a mounted Secret's symlinks stay


def _file_or_data(entry: dict[str, Any], key: str, base: Path) -> str | None:
    """``<key>-data`` (base64) as an in-memory file, else ``<key>`` relative to the kubeconfig's directory."""
    data = entry.get(f"{key}-data")
    if data:
        if not hasattr(os, "memfd_create"):
            raise Unsupported("no memfd_create")
        return in_memory_file(base64.standard_b64decode(data))
    if entry.get(key):
        path = os.path.normpath(base / entry[key])
        if not os.path.isfile(path):
            raise Unsupported(f"file {path} does not exist")  # the kubernetes package says so
        return path
    return None


def _from_kubeconfig(kubeconfig: str) -> Connection:
    spec = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
    paths = [Path(p).expanduser() for p in spec.split(":") if p]
    paths = [p for p in paths if p.exists()]
    if not paths:
        raise Unsupported("no kubeconfig file")
    config = _merged(paths)
    context_entry = _named(config, "contexts", config.get("current-context"))
    assert context_entry is not None
    context = context_entry[0]
    if not isinstance(context, dict) or not context.get("cluster"):
        raise Unsupported("context without a cluster")
    cluster_entry = _named(config, "clusters", context["cluster"])
    assert cluster_entry is not None
    cluster, cluster_file = cluster_entry
    user_entry = _named(config, "users", context["user"], required=False) if context.get("user") else None
    user, user_file = user_entry if user_entry and isinstance(user_entry[0], dict) else ({}, cluster_file)
    if not isinstance(cluster, dict) or not cluster.get("server"):
        raise Unsupported("cluster without a server")
    if "exec" in user or "auth-provider" in user:
        raise Unsupported("credential plugin")
    host = str(cluster["server"]).rstrip("/")
    conn = Connection(host, verify_ssl=not cluster.get("insecure-skip-tls-verify", False),
                      tls_server_name=cluster.get("tls-server-name"))
    if host.startswith("https"):
        # Relative paths are relative to the directory of the file that holds the cluster entry,
        # for the client certificate and key too (as the kubernetes package reads them).
        base = _directory(cluster_file)
        conn.ssl_ca_cert = _file_or_data(cluster, "certificate-authority", base)
        conn.cert_file = _file_or_data(user, "client-certificate", base)
        conn.key_file = _file_or_data(user, "client-key", base)
    token = user.get("token")
    if not token and user.get("tokenFile"):
        with open(os.path.normpath(_directory(user_file) / user["tokenFile"])) as f:
            token = f.read()
    if token:
        header = f"Bearer {token}"
        conn.authorization = lambda: header
    elif "username" in user and "password" in user:
        basic = "Basic " + base64.b64encode(f"{user['username']}:{user['password']}".encode()).decode()
        conn.authorization = lambda: basic
    return conn


def _in_cluster(directory: Path = SERVICE_ACCOUNT_DIR) -> Connection:
    host, port = os.environ.get("KUBERNETES_SERVICE_HOST", ""), os.environ.get("KUBERNETES_SERVICE_PORT", "")
    token_file, ca_file = directory / "token", directory / "ca.crt"
    if not (host and port and token_file.is_file() and ca_file.is_file() and ca_file.stat().st_size):
        raise Unsupported("incomplete in-cluster environment")  # the kubernetes package names what is missing
    if ":" in host or "%" in host:
        host = f"[{host}]"
    header, read_at = "", -TOKEN_REREAD_S

    def authorization() -> str | None:
        # The projected token rotates: read it again at most once a minute.
        nonlocal header, read_at
        now = time.monotonic()
        if now - read_at >= TOKEN_REREAD_S:
            token = token_file.read_text().strip()
            if token:
                header = f"Bearer {token}"
            read_at = now
        return header or None

    if authorization() is None:
        raise Unsupported("empty service account token")
    return Connection(f"https://{host}:{port}", ssl_ca_cert=str(ca_file), authorization=authorization)


def load(kubeconfig: str = "", apiserver: str = "") -> Connection:
    """The connection for --kubeconfig / in-cluster / --apiserver, in the kubernetes package's order."""
    in_cluster = not kubeconfig and bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
    if not kubeconfig and not in_cluster and apiserver:
        conn = Connection(apiserver)  # no kubeconfig is read, as before
    else:
        try:
            conn = _in_cluster() if in_cluster else _from_kubeconfig(kubeconfig)
        except Exception:  # noqa: BLE001 - anything unusual or malformed: the kubernetes package decides
            conn = _with_kubernetes_package(kubeconfig, in_cluster)
    if apiserver:
        conn.host = apiserver
    return conn
