"""POST payloads to the StackState receiver intake API.

``POST <base>/receiver/stsAgent/intake?api_key=<key>`` with the key also in the ``sts-api-key``
header, JSON gzip-compressed (``Content-Encoding: gzip``), as the agent's transactional client
does.  Connection errors, timeouts, 5xx and 429 are retried with exponential backoff (bounded
number of attempts); any other 4xx is a configuration problem (wrong key, wrong URL, payload
refused) and is raised at once as ``IntakeRejected`` without retrying.

The key is a secret: it is never logged.  Every message built here goes through ``redact``,
and ``RedactingFilter`` (installed on the log handlers by the CLI) scrubs it from any other
log record, urllib3's debug lines included.
"""

from __future__ import annotations

import gzip
import logging
import random
import time
from typing import Any, Callable
from urllib.parse import quote, urlsplit

import orjson
import urllib3

from ..kube.reflector import Backoff
from .sources import USER_AGENT

logger = logging.getLogger(__name__)

INTAKE_PATH = "/receiver/stsAgent/intake"


class IntakeError(Exception):
    """A payload was not accepted."""

    status = 0


class IntakeRejected(IntakeError):
    """A 4xx: the receiver refuses this request; retrying the same request cannot help."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class IntakeUnavailable(IntakeError):
    """Connection errors / 5xx until the attempts ran out."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def intake_url(base: str) -> str:
    """The intake endpoint for a StackState URL: a base URL (``https://sts.example.com``), the
    agent's ``sts_url`` (``.../receiver/stsAgent``) or the full intake URL are all accepted."""
    base = base.rstrip("/")
    path = urlsplit(base).path
    if path.endswith("/intake"):
        return base
    if path.endswith("/stsAgent"):
        return base + "/intake"
    return base + INTAKE_PATH


class Redactor:
    """Replaces the secret in any text (and its URL-quoted form)."""

    def __init__(self, secret: str) -> None:
        self.secrets = [s for s in {secret, quote(secret, safe="")} if s]

    def __call__(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "<redacted>")
        return text


class RedactingFilter(logging.Filter):
    """A handler filter that removes the API key from every record before it is formatted."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Pre-format the traceback so the key cannot come back through it.
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if clean != message:
            record.msg, record.args = clean, None
        return True


class IntakeClient:
    """One receiver endpoint; ``post(payload)`` returns once it is accepted or raises ``IntakeError``."""

    def __init__(self, stackstate_url: str, api_key: str, *, attempts: int = 5, backoff_initial: float = 1.0,
                 backoff_max: float = 30.0, timeout: float = 30.0, gzip_level: int = 6,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None,
                 pool: urllib3.PoolManager | None = None) -> None:
        self.url = intake_url(stackstate_url)
        self.api_key = api_key
        self.redact = Redactor(api_key)
        self.attempts = max(1, attempts)
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.timeout = timeout
        self.gzip_level = gzip_level
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.pool = pool or urllib3.PoolManager(retries=False)
        # Called after every HTTP answer or connection error: (status or error type, attempt).
        self.on_attempt: Callable[[str], None] = lambda outcome: None

    def describe(self) -> str:
        return self.url

    def _request_url(self) -> str:
        sep = "&" if "?" in self.url else "?"
        return f"{self.url}{sep}api_key={quote(self.api_key, safe='')}"

    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "Content-Encoding": "gzip", "sts-api-key": self.api_key,
                "User-Agent": USER_AGENT}

    def encode(self, payload: dict[str, Any]) -> bytes:
        return gzip.compress(orjson.dumps(payload), compresslevel=self.gzip_level)

    def post(self, payload: dict[str, Any]) -> None:
        body = self.encode(payload)
        backoff = Backoff(self.backoff_initial, self.backoff_max, self.rng)
        for attempt in range(1, self.attempts + 1):
            error = self._attempt(body)
            if error is None:
                return
            if isinstance(error, IntakeRejected) or attempt == self.attempts:
                raise error
            delay = backoff.next()
            logger.warning("receiver %s: %s (attempt %d of %d); retrying in %.1fs", self.url, error, attempt,
                           self.attempts, delay)
            self.sleep(delay)
        raise AssertionError("unreachable")

    def _attempt(self, body: bytes) -> IntakeError | None:
        try:
            resp = self.pool.request("POST", self._request_url(), body=body, headers=self.headers(),
                                     timeout=urllib3.Timeout(connect=10, read=self.timeout), retries=False,
                                     redirect=False)
        except Exception as e:  # noqa: BLE001 - connection refused/reset, timeouts, TLS errors
            self.on_attempt(type(e).__name__)
            return IntakeUnavailable(self.redact(f"{type(e).__name__}: {e}"))
        status = resp.status
        self.on_attempt(str(status))
        if 200 <= status < 300:
            return None
        text = self.redact(bytes(resp.data[:300]).decode("utf-8", "replace").strip())
        message = f"HTTP {status}{': ' + text if text else ''}"
        if status >= 500 or status == 429:
            return IntakeUnavailable(message, status)
        if status in (401, 403):
            message += " (the receiver refused the API key: check --api-key-file / STS_API_KEY)"
        elif status == 404:
            message += f" (no intake at {self.url}: check --stackstate-url)"
        return IntakeRejected(status, message)
