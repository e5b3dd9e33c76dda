"""``--tls-config``: the exporter-toolkit web configuration (TLS and basic auth) for both ports.

Supported keys: ``tls_server_config`` (``cert_file``, ``key_file``, ``client_auth_type``,
``client_ca_file``, ``min_version``, ``max_version``) and ``basic_auth_users`` (user -> bcrypt
hash).  Unknown keys are an error, so a typo never silently disables authentication.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import ssl
from typing import Any, Callable, Iterable

import bcrypt
import yaml
from cachetools import TTLCache

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

    def wrap(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        return BasicAuth(app, self.users) if self.users else app


def load(path: str) -> WebConfig:
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
    return WebConfig(context, users)


def _valid_bcrypt(hashed: bytes) -> bool:
    """exporter-toolkit checks every hash at start-up the same way: compare it with an empty password."""
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


class BasicAuth:
    """HTTP basic auth against bcrypt hashes; verified credentials are cached for a minute
    because bcrypt is deliberately slow and Prometheus sends the same header every scrape."""

    def __init__(self, app: Callable[..., Iterable[bytes]], users: dict[str, bytes]) -> None:
        self.app = app
        self.users = users
        self.verified: TTLCache[bytes, bool] = TTLCache(maxsize=256, ttl=60)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self._authorized(environ.get("HTTP_AUTHORIZATION", "")):
            return self.app(environ, start_response)
        body = b"Unauthorized\n"
        start_response("401 Unauthorized", [("Content-Type", "text/plain; charset=utf-8"),
                                            ("WWW-Authenticate", 'Basic realm="ksm-py"'),
                                            ("Content-Length", str(len(body)))])
        return [body]

    def _authorized(self, header: str) -> bool:
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
            ok = bcrypt.checkpw(password, hashed or _DUMMY) and hashed is not None
        except ValueError:  # e.g. a password longer than bcrypt's 72 bytes: not a match, not a crash
            ok = False
        if ok:
            self.verified[digest] = True
        return hmac.compare_digest(b"1" if ok else b"0", b"1")


_DUMMY = bcrypt.hashpw(b"dummy", bcrypt.gensalt(rounds=4))
