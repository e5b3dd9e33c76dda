"""``--tls-config`` parsing and basic auth, without a server (tests/e2e/test_tls.py runs one)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import yaml

from ksm_py.webconfig import BasicAuth, WebConfigError, load

HASH = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode()


def write(tmp_path: Path, doc: Any) -> str:
    path = tmp_path / "web.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


@pytest.mark.parametrize(("doc", "message"), [
    ({"basic_auth_users": {"u": "$2y$10$short"}}, "bcrypt"),
    ({"basic_auth_users": {"u": "plain"}}, "bcrypt"),
    ({"basic_auth_users": ["u"]}, "basic_auth_users"),
    ({"basic_auth_user": {"u": HASH}}, "basic_auth_user"),
    ({"tls_server_config": {"cert_file": "/nonexistent.crt"}}, "key_file"),
    ({"tls_server_config": {"cert_file": "/nonexistent.crt", "key_file": "/nonexistent.key"}}, "cert_file"),
    ({"tls_server_config": {"cert_file": "a", "key_file": "b", "certfile": "c"}}, "unsupported keys"),
])
def test_bad_configs(tmp_path: Path, doc: Any, message: str) -> None:
    with pytest.raises(WebConfigError, match=message):
        load(write(tmp_path, doc))


def test_basic_auth_only(tmp_path: Path) -> None:
    config = load(write(tmp_path, {"basic_auth_users": {"u": HASH}}))
    assert config.ssl_context is None and list(config.users) == ["u"]


def call(app: BasicAuth, header: str | None) -> str:
    statuses: list[str] = []
    environ = {} if header is None else {"HTTP_AUTHORIZATION": header}
    body = b"".join(app(environ, lambda status, headers: statuses.append(status)))
    assert body
    return statuses[0]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_auth() -> None:
    def ok(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b"ok"]
    app = BasicAuth(ok, {"u": HASH.encode()})
    assert call(app, basic("u", "pw")).startswith("200")
    assert call(app, "basic " + basic("u", "pw")[6:]).startswith("200")  # scheme is case-insensitive
    assert call(app, basic("u", "pw")).startswith("200")  # cached
    for header in (None, basic("u", "nope"), basic("x", "pw"), basic("u", "p" * 100), "Basic %%%", "Bearer pw",
                   "Basic " + base64.b64encode(b"no-colon").decode()):
        assert call(app, header).startswith("401"), header
