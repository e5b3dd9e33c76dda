"""``--auth-filter``: kube-state-metrics' metrics endpoints behind Kubernetes authentication and
authorization, as upstream does with controller-runtime's ``WithAuthenticationAndAuthorization``.

The request's bearer token is checked with a TokenReview; the user it names must be allowed the
non-resource URL (the request path, e.g. ``/metrics``) with the request's verb (``get``), asked
with a SubjectAccessReview. Answers are cached like upstream's delegating authenticator and
authorizer: tokens 1 minute, allowed 5 minutes, denied 30 seconds; errors are not cached. The
refusals are upstream's ``http.Error`` answers, byte for byte.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any, Callable, Collection, Iterable

import orjson
from cachetools import TTLCache

from .kube.client import ApiError, KubeClient

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

TOKEN_TTL = 60.0
ALLOW_TTL = 300.0
DENY_TTL = 30.0
# Cached answers at most (upstream's caches hold 1024 tokens and 1024 + 1024 decisions... per TTL class).
CACHE_SIZE = 4096


def _error(start_response: StartResponse, status: str, message: str) -> list[bytes]:
    """Go's http.Error: the message and a newline, as plain text that must not be sniffed."""
    body = message.encode() + b"\n"
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff"),
                            ("Content-Length", str(len(body)))])
    return [body]


def bearer_token(environ: dict[str, Any]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, as k8s.io/apiserver's bearertoken reads it."""
    parts = environ.get("HTTP_AUTHORIZATION", "").strip().split(" ", 2)
    if len(parts) < 2 or parts[0].lower() != "bearer" or not parts[1]:
        return None
    return parts[1]


class User:
    def __init__(self, info: dict[str, Any]) -> None:
        self.name: str = info.get("username") or ""
        self.uid: str = info.get("uid") or ""
        groups = list(info.get("groups") or [])
        # k8s.io/apiserver's AuthenticatedGroupAdder: every authenticated user is in system:authenticated.
        if "system:authenticated" not in groups and "system:masters" not in groups:
            groups.append("system:authenticated")
        self.groups = groups
        self.extra: dict[str, list[str]] = {k: list(v or []) for k, v in (info.get("extra") or {}).items()}

    def key(self) -> tuple[Any, ...]:
        return (self.name, self.uid, tuple(self.groups), tuple(sorted((k, tuple(v)) for k, v in self.extra.items())))


class AuthFilter:
    """Authenticates and authorizes requests to the protected paths of a WSGI app."""

    def __init__(self, client: KubeClient, *, token_ttl: float = TOKEN_TTL, allow_ttl: float = ALLOW_TTL,
                 deny_ttl: float = DENY_TTL) -> None:
        self.client = client
        # Keyed by the token's SHA-256: the tokens themselves are never kept.
        self.tokens: TTLCache[bytes, User | None] = TTLCache(CACHE_SIZE, token_ttl)
        self.allowed: TTLCache[tuple[Any, ...], bool] = TTLCache(CACHE_SIZE, allow_ttl)
        self.denied: TTLCache[tuple[Any, ...], str] = TTLCache(CACHE_SIZE, deny_ttl)

    def wrap(self, app: WSGIApp, protected: Collection[str]) -> WSGIApp:
        def filtered(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            if environ.get("PATH_INFO", "/") not in protected:
                return app(environ, start_response)
            return self.check(app, environ, start_response)
        return filtered

    def check(self, app: WSGIApp, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        token = bearer_token(environ)
        if token is None:
            return _error(start_response, "401 Unauthorized", "Unauthorized")
        try:
            user = self.authenticate(token)
        except Exception as e:  # noqa: BLE001 - any failure of the review is upstream's 500
            logger.error("Authentication failed: %s", e)
            return _error(start_response, "500 Internal Server Error", "Authentication failed")
        if user is None:
            # bearertoken: a token the review does not accept is an error ("invalid bearer token"),
            # which the filter answers with a 500, not a 401.
            logger.debug("Authentication failed: invalid bearer token")
            return _error(start_response, "500 Internal Server Error", "Authentication failed")
        verb, path = environ.get("REQUEST_METHOD", "GET").lower(), environ.get("PATH_INFO", "/")
        try:
            allowed, reason = self.authorize(user, verb, path)
        except Exception as e:  # noqa: BLE001
            message = f"Authorization for user {user.name} failed"
            logger.error("%s: %s", message, e)
            return _error(start_response, "500 Internal Server Error", message)
        if not allowed:
            message = f"Authorization denied for user {user.name}"
            logger.debug("%s: %s", message, reason)
            return _error(start_response, "403 Forbidden", message)
        # As the bearertoken authenticator does: the token goes no further than the filter.
        environ.pop("HTTP_AUTHORIZATION", None)
        return app(environ, start_response)

    def authenticate(self, token: str) -> User | None:
        key = hashlib.sha256(token.encode()).digest()
        if key in self.tokens:
            return self.tokens[key]
        review = orjson.loads(self.client.create_review(
            "/apis/authentication.k8s.io/v1/tokenreviews",
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}))
        status = review.get("status") or {}
        if status.get("error") and not status.get("authenticated"):
            logger.debug("TokenReview: %s", status["error"])
        user = User(status.get("user") or {}) if status.get("authenticated") else None
        self.tokens[key] = user
        return user

    def authorize(self, user: User, verb: str, path: str) -> tuple[bool, str]:
        key = (*user.key(), verb, path)
        if key in self.allowed:
            return True, ""
        if key in self.denied:
            return False, self.denied[key]
        spec: dict[str, Any] = {"user": user.name, "groups": user.groups,
                                "nonResourceAttributes": {"path": path, "verb": verb}}
        if user.uid:
            spec["uid"] = user.uid
        if user.extra:
            spec["extra"] = user.extra
        review = orjson.loads(self.client.create_review(
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}))
        status = review.get("status") or {}
        if status.get("allowed"):
            self.allowed[key] = True
            return True, ""
        reason = str(status.get("reason") or status.get("evaluationError") or "")
        self.denied[key] = reason
        return False, reason


__all__ = ["AuthFilter", "ApiError", "bearer_token"]
