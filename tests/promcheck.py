"""Prometheus' own parser as a test oracle: is this scrape body accepted?

``harness/promcheck/main.go`` (built by ``python -m harness build`` against the pinned
Prometheus module) parses a body with ``model/textparse`` and applies the scrape loop's and the
TSDB head's checks (repeated label names, invalid UTF-8, a series twice) plus the format's rules
(undefined escapes, families not in one group).  One checker process serves a whole test session.
"""

from __future__ import annotations

import atexit
import re
import subprocess
import threading
from pathlib import Path

from harness import build
from tests.conftest import built

CONTENT_TYPE_TEXT = "text/plain; version=0.0.4; charset=utf-8"
CONTENT_TYPE_OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"


class Rejected(AssertionError):
    """Prometheus would reject the body (the message lists why)."""


def binary() -> Path:
    """The built checker; fails (KSM_PY_REQUIRE_E2E) or skips when it is not built."""
    return built(build.PROMCHECK)


class Checker:
    """A ``promcheck -serve`` process; ``check`` raises Rejected with Prometheus' reasons."""

    def __init__(self, path: Path) -> None:
        self._proc = subprocess.Popen([str(path), "-serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._lock = threading.Lock()
        atexit.register(self.close)

    def verdict(self, body: bytes, content_type: str = CONTENT_TYPE_TEXT) -> str:
        """``ok <series>``, ``duplicates <series> <problems>`` or ``rejected <problems>``."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        with self._lock:
            self._proc.stdin.write(f"{len(body)} {content_type}\n".encode() + body)
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"promcheck exited (status {self._proc.poll()})")
        return line.decode().rstrip("\n")

    def check(self, body: bytes, content_type: str = CONTENT_TYPE_TEXT, *, duplicate_series_ok: bool = False) -> int:
        """The number of series; raises Rejected when Prometheus would not take the whole body.

        ``duplicate_series_ok``: a series repeated in the body is tolerated (Prometheus keeps the
        scrape and drops the later sample); only for input upstream renders the same way.
        """
        answer = self.verdict(body, content_type)
        kind, _, rest = answer.partition(" ")
        if kind == "ok" or (kind == "duplicates" and duplicate_series_ok):
            return int(rest.split(" ", 1)[0])
        raise Rejected(f"Prometheus' parser rejects the body ({content_type}): {answer}")

    def check_like_upstream(self, body: bytes, upstream_body: bytes, content_type: str = CONTENT_TYPE_TEXT) -> None:
        """Raises Rejected unless Prometheus takes ``body`` whole, with one exception: families whose
        lines are split into several groups, where upstream's body splits the very same families
        (a CRD served in several versions: one store per version, as kube-state-metrics writes it;
        Prometheus' parser takes it, only the format's grouping rule is broken)."""
        answer = self.verdict(body, content_type)
        if answer.startswith("ok "):
            return
        ours = _split_families(answer)
        theirs = _split_families(self.verdict(upstream_body, content_type))
        if ours is None or theirs is None or not ours <= theirs:
            raise Rejected(f"Prometheus' parser rejects the body ({content_type}): {answer}")

    def close(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()


_SPLIT = re.compile(r'the lines of family "([^"]+)" are not one group$')


def _split_families(answer: str) -> set[str] | None:
    """The families a ``rejected`` answer finds split, or None when it finds anything else."""
    kind, _, problems = answer.partition(" ")
    if kind != "rejected":
        return None
    found = set()
    for problem in problems.split(" | "):
        match = _SPLIT.search(problem)
        if match is None:
            return None
        found.add(match.group(1))
    return found

_CHECKER: Checker | None = None


def checker() -> Checker:
    """The session's checker process (started on first use)."""
    global _CHECKER
    if _CHECKER is None:
        _CHECKER = Checker(binary())
    return _CHECKER
