"""A TCP proxy on loopback for fault injection between ksm-py and the API server.

It forwards bytes unchanged (TLS passes through), and on demand refuses new connections,
cuts every open connection (optionally in the middle of a server answer), stalls them (stops
forwarding without closing) or delays them.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time


class FaultProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = int(self.listener.getsockname()[1])
        self.refusing = False
        self.stalled = False
        self.delay = 0.0
        self.connections_total = 0
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._split_next = False
        self._split_done = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        self.listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            if self.refusing:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns.update((client, upstream))
                self.connections_total += 1
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while not self._stop.is_set():
                if self.stalled:
                    time.sleep(0.05)
                    continue
                readable, _, _ = select.select([a, b], [], [], 0.2)
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        return
                    if self.delay:
                        time.sleep(self.delay)
                    if s is b and self._take_split() and len(data) > 1:
                        peers[s].sendall(data[:len(data) // 2])
                        self.cut()
                        self._split_done.set()
                        return
                    peers[s].sendall(data)
        except (OSError, ValueError):
            # cut() closed a socket under us: select() then sees fd -1 (ValueError).
            return
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.close()
            with self._lock:
                self._conns.discard(a)
                self._conns.discard(b)

    def cut(self) -> int:
        """Reset every open connection (mid-stream for watches); returns how many were cut."""
        with self._lock:
            conns = list(self._conns)
        for s in conns:
            with contextlib.suppress(OSError):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.shutdown(socket.SHUT_RDWR)
                s.close()
        return len(conns) // 2

    def _take_split(self) -> bool:
        with self._lock:
            split, self._split_next = self._split_next, False
            return split

    def cut_mid_stream(self, timeout: float = 10) -> bool:
        """Forward only the first half of the next chunk the server sends (for a watch: mid-event,
        mid-TLS-record), then reset every connection. False if no server bytes came in time."""
        self._split_done.clear()
        with self._lock:
            self._split_next = True
        done = self._split_done.wait(timeout)
        with self._lock:
            self._split_next = False
        return done

    def refuse(self) -> None:
        self.refusing = True
        self.cut()

    def accept(self) -> None:
        self.refusing = False

    def close(self) -> None:
        self._stop.set()
        self.cut()
        self.listener.close()
        self._thread.join(2)
