"""``ksm-py stackstate-bridge`` options: the API key never on the command line nor in the logs."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from ksm_py.bridge.cli import main

from .conftest import FakeServer
from .test_sources import BODY, OM

KEY = "sts-0123456789abcdef"


def fake_ksm(server: FakeServer) -> list[str]:
    server.routes["/readyz"] = (200, {}, b"OK")
    server.routes["/metrics"] = (200, {"Content-Type": OM}, (BODY + "# EOF\n").encode())
    return [f"--metrics-url={server.url('/metrics')}", f"--readyz-url={server.url('/readyz')}"]


@pytest.mark.parametrize("argv", [
    ["--api-key", KEY], [f"--api-key={KEY}"], ["--sts-api-key", KEY],
    [f"--apikey={KEY}"],  # unknown flags are named without their value
    ["--api-key-f", KEY],  # no abbreviations: this is not --api-key-file
])
def test_the_key_is_refused_as_a_flag_without_echoing_it(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--cluster-name=c", "--stackstate-url=http://x", *argv])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert KEY not in err
    assert "error" in err


def test_a_key_is_required_unless_dry_run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    monkeypatch.delenv("STS_API_KEY", raising=False)
    with pytest.raises(SystemExit) as e:
        main(["--cluster-name=c", "--stackstate-url=http://x"])
    assert e.value.code == 2 and "STS_API_KEY" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--cluster-name=c", "--stackstate-url=http://x", f"--api-key-file={tmp_path / 'missing'}"])
    assert "cannot read --api-key-file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--stackstate-url=http://x"])  # --cluster-name is required
    with pytest.raises(SystemExit):
        main(["--cluster-name=c", "--interval=0", "--dry-run"])


def test_dry_run_once_prints_the_snapshot(server: FakeServer, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STS_API_KEY", raising=False)
    assert main(["--cluster-name=prod", "--dry-run", "--once", "--hostname=h", *fake_ksm(server)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    payload = orjson.loads(line)
    (chunk,) = payload["topologies"]
    assert chunk["instance"] == {"type": "kubernetes", "url": "prod"}
    assert "urn:kubernetes:/prod:shop:pod/web-1" in {c["externalId"] for c in chunk["components"]}
    assert payload["internalHostname"] == "h"


def test_dry_run_once_fails_when_ksm_py_is_not_ready(server: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    argv = fake_ksm(server)
    server.routes["/readyz"] = (503, {}, b"")
    assert main(["--cluster-name=prod", "--dry-run", "--once", *argv]) == 1
    assert capsys.readouterr().out == ""


def _bridge(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ksm_py", "stackstate-bridge", *argv], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env}, stdin=subprocess.DEVNULL)


def test_the_key_never_appears_in_the_logs(server: FakeServer, tmp_path: Path) -> None:
    """Debug logging, a receiver that refuses the key and echoes the request: still no key in the output."""
    argv = fake_ksm(server)
    server.routes["/receiver/stsAgent/intake"] = lambda req: (403, {}, f"forbidden: {req.path}".encode())
    done = _bridge(["--cluster-name=prod", "--once", "--log-level=debug", f"--stackstate-url={server.url()}", *argv],
                   {"STS_API_KEY": KEY})
    assert done.returncode == 1, done.stderr
    assert "HTTP 403" in done.stderr and "API key" in done.stderr
    assert KEY not in done.stderr + done.stdout
    # the key was sent, in the query and in the header
    post = next(r for r in server.requests if r.method == "POST")
    assert post.headers["sts-api-key"] == KEY and f"api_key={KEY}" in post.path

    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    server.routes["/receiver/stsAgent/intake"] = (200, {}, b"")
    done = _bridge(["--cluster-name=prod", "--once", "--log-level=debug", f"--stackstate-url={server.url()}",
                    f"--api-key-file={key_file}", *argv], {"STS_API_KEY": ""})
    assert done.returncode == 0, done.stderr
    assert "snapshot sent" in done.stderr
    assert KEY not in done.stderr + done.stdout
    post = [r for r in server.requests if r.method == "POST"][-1]
    assert post.headers["sts-api-key"] == KEY
    assert orjson.loads(gzip.decompress(post.body))["topologies"][0]["stop_snapshot"] is True
