"""/readyz on the telemetry port: upstream's status and first line, then why (forbidden, not listed)."""

from __future__ import annotations

from typing import Any

from ksm_py.server import TelemetryApp
from ksm_py.telemetry import Telemetry


def call(app: TelemetryApp, path: str) -> tuple[str, bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"] = status

    body = b"".join(app({"PATH_INFO": path, "REQUEST_METHOD": "GET"}, start_response))
    return seen["status"], body


def test_ready_body_is_upstreams_ok_when_nothing_to_report() -> None:
    app = TelemetryApp(Telemetry(), ready=lambda: True, report=list)
    assert call(app, "/readyz") == ("200 OK", b"OK")


def test_a_forbidden_resource_is_named_in_a_ready_body() -> None:
    lines = ["forbidden: events: HTTP 403 events.events.k8s.io is forbidden: ..."]
    app = TelemetryApp(Telemetry(), ready=lambda: True, report=lambda: lines)
    status, body = call(app, "/readyz")
    assert status == "200 OK" and body.decode().splitlines() == ["OK", *lines]


def test_not_ready_names_what_has_not_listed_yet() -> None:
    lines = ["waiting for the initial list: pods (last error: HTTP 500)"]
    app = TelemetryApp(Telemetry(), ready=lambda: False, report=lambda: lines)
    status, body = call(app, "/readyz")
    assert status.startswith("503") and body.decode().splitlines() == ["Service Unavailable", *lines]
