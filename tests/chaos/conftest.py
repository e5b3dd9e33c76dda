"""The chaos results table: each scenario prints its line, appends it to a JSON lines file under
the session's tmp dir, and the table is printed at the end of the session."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos._harness import Report, Result

RESULTS = pytest.StashKey[Path]()


@pytest.fixture
def chaos_report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    path = tmp_path_factory.getbasetemp() / "chaos-results.jsonl"
    request.config.stash[RESULTS] = path

    def report(result: Result) -> None:
        print("\n" + result.line(), flush=True)
        with path.open("a") as out:
            out.write(json.dumps(dataclasses.asdict(result)) + "\n")
    yield report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int,
                            config: pytest.Config) -> None:
    path = config.stash.get(RESULTS, None)
    if path is None or not path.exists():
        return
    rows = [Result(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
    if not rows:
        return
    header = ("scenario", "faults injected", "series", "diffs", "recovery")
    table = [header] + [(r.scenario, r.faults, str(r.series), str(r.differences),
                         "-" if r.recovery_s is None else f"{r.recovery_s:.1f}s") for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    terminalreporter.section("chaos results")
    for i, row in enumerate(table):
        terminalreporter.write_line("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            terminalreporter.write_line("  ".join("-" * w for w in widths))
    terminalreporter.write_line(f"(results: {path})")
