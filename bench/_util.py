"""Small helpers shared by the benchmarks: progress lines on stderr, tables, /proc readings."""

from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Sequence

CLK_TCK = os.sysconf("SC_CLK_TCK")


class Progress:
    """A one-line progress bar on stderr (rewritten at most every ``interval`` seconds)."""

    def __init__(self, label: str, total: int, interval: float = 0.5) -> None:
        self.label, self.total, self.interval = label, total, interval
        self.started = time.monotonic()
        self.last = 0.0
        self.done = 0

    def update(self, done: int, extra: str = "", *, force: bool = False) -> None:
        self.done = done
        now = time.monotonic()
        if not force and now - self.last < self.interval:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-9)
        frac = done / self.total if self.total else 1.0
        bar = "#" * int(frac * 30)
        sys.stderr.write(f"\r  {self.label:<16} [{bar:<30}] {done:>7}/{self.total:<7} {done / elapsed:8.0f}/s "
                         f"{elapsed:6.1f}s {extra}\033[K")
        sys.stderr.flush()

    def close(self, extra: str = "") -> float:
        self.update(self.done, extra, force=True)
        sys.stderr.write("\n")
        sys.stderr.flush()
        return time.monotonic() - self.started


def log(msg: str) -> None:
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {msg}\n")
    sys.stderr.flush()


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def fmt(row: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
    return "\n".join([fmt(headers), "  ".join("-" * w for w in widths), *(fmt(r) for r in rows)])


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM (bytes) of a process."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0]) * 1024
    return out


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (seconds)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def stat_fields(text: str) -> tuple[int, float, float]:
    """From a ``/proc/<pid>/stat`` line: the process group, the CPU seconds of the process itself
    (utime + stime, all its threads) and of its children it has waited for (cutime + cstime).
    The command name may hold spaces and parentheses, so fields are counted after the last ')'."""
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[2]), (int(fields[11]) + int(fields[12])) / CLK_TCK,
            (int(fields[13]) + int(fields[14])) / CLK_TCK)


def group_cpu_seconds(pgid: int) -> tuple[float, float, int]:
    """CPU seconds of a process group (an exporter started with ``start_new_session``: its pid is
    the group id), from one pass over /proc: the leader's own; the group's (every live member's own
    plus what the leader's reaped children used); and how many members besides the leader are alive
    (processes it started and still runs)."""
    own = total = 0.0
    others = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                group, cpu, reaped = stat_fields(f.read())
        except (FileNotFoundError, ProcessLookupError):
            continue  # exited while the directory was read
        if group != pgid:
            continue
        total += cpu
        if int(entry.name) == pgid:
            own = cpu
            total += reaped
        else:
            others += 1
    return own, total, others


def self_rss() -> int:
    return proc_status(os.getpid())["VmRSS"]
