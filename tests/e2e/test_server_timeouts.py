"""The --server-*-timeout flags reach both ports of a running ksm-py (the bounds themselves are
tested against real slow sockets in tests/unit/test_server_timeouts.py)."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

from tests.e2e._exporter import ksm_py


def closed_after(port: int, request: bytes, limit: float = 15) -> tuple[bytes, float]:
    s = socket.create_connection(("127.0.0.1", port), timeout=limit)
    started = time.monotonic()
    s.sendall(request)
    data = b""
    try:
        while chunk := s.recv(1 << 16):
            data += chunk
    except ConnectionResetError:
        pass
    finally:
        s.close()
    return data, time.monotonic() - started


def test_timeouts_bound_both_ports(restricted_kubeconfig_path: Path, spawn: Any) -> None:
    exp = ksm_py(spawn, restricted_kubeconfig_path, "--resources=namespaces", "--server-read-header-timeout=1s",
                 "--server-idle-timeout=2s")
    for port in (exp.port, exp.tport):
        # A request header that never ends: closed, unanswered, after the header timeout.
        data, elapsed = closed_after(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        assert data == b"" and 0.8 <= elapsed <= 6, (port, data[:100], elapsed)
        # A kept-alive connection: answered, then closed after the idle timeout.
        data, elapsed = closed_after(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        assert data.startswith(b"HTTP/1.1 200") and 1.8 <= elapsed <= 8, (port, data[:100], elapsed)
