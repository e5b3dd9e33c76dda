"""``--tls-config``: the exporter-toolkit web configuration (TLS and basic auth) for both ports.

Supported keys: ``tls_server_config`` (``cert_file``, ``key_file``, ``client_auth_type``,
``client_ca_file``, ``min_version``, ``max_version``) and ``basic_auth_users`` (user -> bcrypt
hash).  Unknown keys are an error, so a typo never silently disables authentication.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import hmac
import logging
import os
import ssl
from typing import TYPE_CHECKING, Any, Callable, Iterable

# yaml, bcrypt and cachetools are imported where --tls-config is read: most exporters start without it.
if TYPE_CHECKING:
    from cachetools import TTLCache

logger = logging.getLogger(__name__)

_TLS_VERSIONS = {"TLS10": ssl.TLSVersion.TLSv1, "TLS11": ssl.TLSVersion.TLSv1_1,
                 "TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}
# exporter-toolkit's client_auth_type values. A requested certificate that is never verified is never used
# either, so RequestClientCert does not ask for one; "require any" verifies against client_ca_file.
_CLIENT_AUTH = {
    "NoClientCert": ssl.CERT_NONE, "RequestClientCert": ssl.CERT_NONE, "RequireAnyClientCert": ssl.CERT_REQUIRED,
    "RequireClientCert": ssl.CERT_REQUIRED, "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
_TLS_KEYS = {"cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version", "max_version",
             "cipher_suites", "prefer_server_cipher_suites", "curve_preferences"}


class WebConfigError(ValueError):
    pass


@dataclasses.dataclass
class WebConfig:
    ssl_context: ssl.SSLContext | None
    users: dict[str, bytes]
    # The configuration file and the files it names (certificate, key, client CA).
    files: tuple[str, ...] = ()

    def wrap(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        return BasicAuth(app, self.users) if self.users else app


def load(path: str) -> WebConfig:
    import yaml

    try:
        with open(path) as f:
            doc = yaml.safe_load(f) or {}
    except OSError as e:
        raise WebConfigError(f"--tls-config: cannot read {path}: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise WebConfigError(f"--tls-config: {path} is not valid YAML: {e}") from None
    if not isinstance(doc, dict):
        raise WebConfigError(f"--tls-config: {path} must be a mapping")
    unknown = set(doc) - {"tls_server_config", "basic_auth_users", "http_server_config"}
    if unknown:
        raise WebConfigError(f"--tls-config: unknown key(s) {', '.join(sorted(unknown))} in {path}")
    context = _tls(doc.get("tls_server_config"), path)
    raw_users = doc.get("basic_auth_users") or {}
    if not isinstance(raw_users, dict):
        raise WebConfigError(f"--tls-config: basic_auth_users in {path} must map user names to bcrypt hashes")
    users = {}
    for user, hashed in raw_users.items():
        if not isinstance(hashed, str) or not _valid_bcrypt(hashed.encode()):
            raise WebConfigError(f"--tls-config: basic_auth_users.{user} must be a bcrypt hash")
        users[str(user)] = hashed.encode()
    tls = doc.get("tls_server_config") or {}
    named = [tls.get(k) for k in ("cert_file", "key_file", "client_ca_file")] if isinstance(tls, dict) else []
    return WebConfig(context, users, (path, *(str(f) for f in named if f)))


def _valid_bcrypt(hashed: bytes) -> bool:
    """exporter-toolkit checks every hash at start-up the same way: compare it with an empty password."""
    import bcrypt

    try:
        bcrypt.checkpw(b"", hashed)
    except ValueError:
        return False
    return True


def _tls(cfg: Any, path: str) -> ssl.SSLContext | None:
    if not cfg:
        return None
    if not isinstance(cfg, dict) or set(cfg) - _TLS_KEYS:
        raise WebConfigError(f"--tls-config: unsupported keys in tls_server_config of {path}")
    if not cfg.get("cert_file") or not cfg.get("key_file"):
        raise WebConfigError("--tls-config: tls_server_config needs cert_file and key_file")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(cfg["cert_file"], cfg["key_file"])
    except (OSError, ssl.SSLError) as e:
        raise WebConfigError(f"--tls-config: cannot load cert_file/key_file: {e}") from None
    for key in ("min_version", "max_version"):
        if cfg.get(key) is not None and cfg[key] not in _TLS_VERSIONS:
            raise WebConfigError(f"--tls-config: unknown TLS version {cfg[key]!r} in tls_server_config.{key} "
                                 f"(one of {', '.join(_TLS_VERSIONS)})")
    ctx.minimum_version = _TLS_VERSIONS[cfg.get("min_version") or "TLS12"]
    if cfg.get("max_version"):
        ctx.maximum_version = _TLS_VERSIONS[cfg["max_version"]]
        if ctx.maximum_version < ctx.minimum_version:
            raise WebConfigError("--tls-config: tls_server_config.max_version is below min_version")
    auth = cfg.get("client_auth_type") or "NoClientCert"
    if auth not in _CLIENT_AUTH:
        raise WebConfigError(f"--tls-config: invalid client_auth_type {auth!r}; one of {', '.join(_CLIENT_AUTH)}")
    ca = cfg.get("client_ca_file")
    if ca and auth == "NoClientCert":
        raise WebConfigError("--tls-config: client_ca_file is set without a client_auth_type (client CA's have "
                             "been configured without a Client Auth Policy)")
    if auth in ("RequireAnyClientCert", "RequireClientCert") and not ca:
        # Python's ssl cannot require a certificate without verifying it.
        raise WebConfigError(f"--tls-config: client_auth_type {auth} needs client_ca_file (client certificates are "
                             "verified against it)")
    ctx.verify_mode = _CLIENT_AUTH[auth]
    if ctx.verify_mode != ssl.CERT_NONE:
        try:
            if ca:
                ctx.load_verify_locations(ca)
            else:
                ctx.load_default_certs(ssl.Purpose.CLIENT_AUTH)
        except (OSError, ssl.SSLError) as e:
            raise WebConfigError(f"--tls-config: cannot load client_ca_file: {e}") from None
    return ctx


class WebConfigWatch:
    """``--tls-config``, re-read when it or a file it names changes, as exporter-toolkit reads it
    per connection: a new TLS connection gets the certificate on disk (rotated in place, or by a
    mounted ConfigMap's symlink swap), a new request the ``basic_auth_users`` on disk.  A change
    that does not load keeps the last good configuration (logged); TLS on or off is fixed at
    start-up, as the listening sockets are."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.config = load(path)  # WebConfigError: a bad file at start-up is fatal
        self._stamps = _stamps(self.config.files)
        # The context the servers listen with; each handshake may swap in a reloaded one.
        self.ssl_context = self.config.ssl_context
        if self.ssl_context is not None:
            self.ssl_context.sni_callback = self._client_hello

    def current(self) -> WebConfig:
        """The configuration as on disk now (a few stat calls when nothing changed)."""
        stamps = _stamps(self.config.files)
        if stamps == self._stamps:
            return self.config
        self._stamps = stamps
        try:
            new = load(self.path)
        except WebConfigError as e:
            logger.error("%s; keeping the previous configuration", e)
            return self.config
        if (new.ssl_context is None) != (self.ssl_context is None):
            logger.error("--tls-config: %s turns TLS %s; that needs a restart, keeping the previous configuration",
                         self.path, "on" if new.ssl_context else "off")
            return self.config
        logger.info("--tls-config: reloaded %s", self.path)
        self.config = new
        self._stamps = _stamps(new.files)
        return new

    def _client_hello(self, conn: Any, server_name: str | None, context: ssl.SSLContext) -> None:
        reloaded = self.current().ssl_context
        if reloaded is not None and reloaded is not context:
            conn.context = reloaded

    def wrap(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        return BasicAuth(app, lambda: self.current().users)


def _stamps(files: Iterable[str]) -> tuple[tuple[int, int, int] | None, ...]:
    """What tells a changed file: stat() follows symlinks, so a swapped ConfigMap directory shows."""
    out: list[tuple[int, int, int] | None] = []
    for f in files:
        try:
            st = os.stat(f)
        except OSError:
            out.append(None)
            continue
        out.append((st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(out)


class BasicAuth:
    """HTTP basic auth against bcrypt hashes; verified credentials are cached for a minute
    because bcrypt is deliberately slow and Prometheus sends the same header every scrape."""

    def __init__(self, app: Callable[..., Iterable[bytes]],
                 users: dict[str, bytes] | Callable[[], dict[str, bytes]]) -> None:
        self.app = app
        self._users = users if callable(users) else (lambda: users)
        self.users: dict[str, bytes] = {}
        from cachetools import TTLCache

        self.verified: TTLCache[bytes, bool] = TTLCache(maxsize=256, ttl=60)
        _dummy()  # made now, so that the first unknown user is not answered more slowly than the next

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        users = self._users()
        if users is not self.users:
            self.users = users
            self.verified.clear()  # a removed user or a changed password must not stay authorized
        if not users:
            return self.app(environ, start_response)
        if self._authorized(environ.get("HTTP_AUTHORIZATION", "")):
            return self.app(environ, start_response)
        body = b"Unauthorized\n"
        start_response("401 Unauthorized", [("Content-Type", "text/plain; charset=utf-8"),
                                            ("WWW-Authenticate", 'Basic realm="ksm-py"'),
                                            ("Content-Length", str(len(body)))])
        return [body]

    def _authorized(self, header: str) -> bool:
        import bcrypt

        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "basic":  # the scheme is case-insensitive (Go's Request.BasicAuth)
            return False
        digest = hashlib.sha256(header.encode(errors="surrogateescape")).digest()
        if self.verified.get(digest):
            return True
        try:
            raw = base64.b64decode(credentials.strip(), validate=True)
        except ValueError:
            return False
        user_bytes, sep, password = raw.partition(b":")
        if not sep:
            return False
        hashed = self.users.get(user_bytes.decode(errors="surrogateescape"))
        # Compare against a dummy hash for unknown users so timing does not reveal user names.
        try:
            ok = bcrypt.checkpw(password, hashed or _dummy()) and hashed is not None
        except ValueError:  # e.g. a password longer than bcrypt's 72 bytes: not a match, not a crash
            ok = False
        if ok:
            self.verified[digest] = True
        return hmac.compare_digest(b"1" if ok else b"0", b"1")


@functools.cache
def _dummy() -> bytes:
    import bcrypt

    return bytes(bcrypt.hashpw(b"dummy", bcrypt.gensalt(rounds=4)))
