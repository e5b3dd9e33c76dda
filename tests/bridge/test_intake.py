"""The intake client: URL, headers, gzip, retries with backoff on 5xx, no retry loop on 4xx, no key in logs."""

from __future__ import annotations

import gzip
import logging
import random

import orjson
import pytest

from ksm_py.bridge.intake import (
    IntakeClient,
    IntakeRejected,
    IntakeUnavailable,
    RedactingFilter,
    Redactor,
    intake_url,
)

from .conftest import FakeServer

KEY = "s3cr3t/key+1"
INTAKE = "/receiver/stsAgent/intake"


class NoJitter(random.Random):
    def random(self) -> float:
        return 0.0


def client(server: FakeServer, sleeps: list[float], attempts: int = 4) -> IntakeClient:
    return IntakeClient(server.url(), KEY, attempts=attempts, backoff_initial=1, backoff_max=30, timeout=5,
                        sleep=sleeps.append, rng=NoJitter())


@pytest.mark.parametrize(("base", "url"), [
    ("https://sts.example.com", "https://sts.example.com/receiver/stsAgent/intake"),
    ("https://sts.example.com/", "https://sts.example.com/receiver/stsAgent/intake"),
    ("https://sts.example.com/receiver/stsAgent", "https://sts.example.com/receiver/stsAgent/intake"),
    ("http://router:8080/receiver/stsAgent/intake", "http://router:8080/receiver/stsAgent/intake"),
])
def test_intake_url(base: str, url: str) -> None:
    assert intake_url(base) == url


def test_post_is_gzip_json_with_key_in_query_and_header(server: FakeServer) -> None:
    server.routes[INTAKE] = (200, {}, b"")
    payload = {"topologies": [{"start_snapshot": True}], "internalHostname": "h"}
    client(server, []).post(payload)
    (req,) = server.requests
    assert req.method == "POST"
    assert req.path == f"{INTAKE}?api_key=s3cr3t%2Fkey%2B1"
    assert req.headers["content-type"] == "application/json"
    assert req.headers["content-encoding"] == "gzip"
    assert req.headers["sts-api-key"] == KEY
    assert req.headers["user-agent"].startswith("ksm-py-bridge/")
    assert orjson.loads(gzip.decompress(req.body)) == payload


def test_5xx_is_retried_with_exponential_backoff(server: FakeServer) -> None:
    server.routes[INTAKE] = [(503, {}, b"busy"), (500, {}, b"oops"), (502, {}, b""), (200, {}, b"")]
    sleeps: list[float] = []
    outcomes: list[str] = []
    c = client(server, sleeps)
    c.on_attempt = outcomes.append
    c.post({"a": 1})
    assert sleeps == [1, 2, 4]
    assert outcomes == ["503", "500", "502", "200"]
    assert len(server.requests) == 4


def test_5xx_gives_up_after_the_attempts(server: FakeServer) -> None:
    server.routes[INTAKE] = (500, {}, b"down")
    sleeps: list[float] = []
    with pytest.raises(IntakeUnavailable) as e:
        client(server, sleeps, attempts=3).post({})
    assert e.value.status == 500
    assert len(server.requests) == 3
    assert sleeps == [1, 2]


def test_backoff_is_capped() -> None:
    sleeps: list[float] = []
    c = IntakeClient("http://127.0.0.1:9", KEY, attempts=8, backoff_initial=1, backoff_max=5, timeout=1,
                     sleep=sleeps.append, rng=NoJitter())
    c._attempt = lambda body: IntakeUnavailable("HTTP 500", 500)  # type: ignore[method-assign]
    with pytest.raises(IntakeUnavailable):
        c.post({})
    assert sleeps == [1, 2, 4, 5, 5, 5, 5]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413])
def test_4xx_is_not_retried(server: FakeServer, status: int) -> None:
    server.routes[INTAKE] = (status, {}, f"bad request for {KEY}".encode())
    sleeps: list[float] = []
    with pytest.raises(IntakeRejected) as e:
        client(server, sleeps).post({})
    assert e.value.status == status
    assert len(server.requests) == 1
    assert sleeps == []
    assert KEY not in str(e.value)
    assert f"HTTP {status}" in str(e.value)
    if status in (401, 403):
        assert "API key" in str(e.value)


def test_429_is_retried(server: FakeServer) -> None:
    server.routes[INTAKE] = [(429, {}, b""), (200, {}, b"")]
    sleeps: list[float] = []
    client(server, sleeps).post({})
    assert sleeps == [1]


def test_connection_errors_are_retried_and_reported_without_the_key() -> None:
    from tests.conftest import free_port

    sleeps: list[float] = []
    c = IntakeClient(f"http://127.0.0.1:{free_port()}", KEY, attempts=3, backoff_initial=0.5, timeout=2,
                     sleep=sleeps.append, rng=NoJitter())
    with pytest.raises(IntakeUnavailable) as e:
        c.post({})
    assert sleeps == [0.5, 1.0]
    assert KEY not in str(e.value) and "s3cr3t" not in str(e.value)


def test_redacting_filter_scrubs_the_key_from_any_record(caplog: pytest.LogCaptureFixture) -> None:
    handler = logging.StreamHandler()
    redacting = RedactingFilter(Redactor(KEY))
    record = logging.LogRecord("urllib3", logging.DEBUG, __file__, 1, "POST /intake?api_key=%s %s", ("s3cr3t%2Fkey%2B1", KEY),
                               None)
    assert redacting.filter(record)
    text = logging.Formatter().format(record)
    assert "s3cr3t" not in text and "<redacted>" in text
    try:
        raise RuntimeError(f"failed with {KEY}")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    redacting.filter(record)
    handler.setFormatter(logging.Formatter())
    assert KEY not in handler.format(record)
