"""A quiet cluster for hours: does any exporter count a watch error or reconnect early?

Starts the local control plane (its leases and kwok nodes keep a little background churn, as a real
idle cluster has) and, side by side, upstream kube-state-metrics and ksm-py with default flags, plus
ksm-py with every resource and the extensions (events, topology). Nobody touches the cluster. Every
``--report-every`` minutes and at the end it reads each exporter's telemetry port and prints, per
exporter: watch requests (upstream's ``kube_state_metrics_watch_total`` by result), ksm-py's watch
ends by reason (``ksm_py_watch_closed_total``: ``closed`` is the API server ending a stream at its
timeoutSeconds; ``stalled`` and ``error`` are early reconnects; ``expired`` is a 410 on resuming, a
relist follows), failed API requests, and the relists and stall warnings in the log.

    python -m bench.idle --minutes 120
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from bench._util import log
from bench.scale import Exporter, ksm_py_argv
from harness import build
from harness.controlplane import ControlPlane
from ksm_py.options import ALL_RESOURCES


def telemetry(exp: Exporter) -> dict[str, Counter[str]]:
    """Counters summed over resources, keyed by family then by the interesting label."""
    with urllib.request.urlopen(f"http://127.0.0.1:{exp.tport}/metrics", timeout=30) as r:
        text = r.read().decode()
    out: dict[str, Counter[str]] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == "kube_state_metrics_watch_total":
                out.setdefault("watch", Counter())[s.labels["result"]] += int(s.value)
            elif s.name == "kube_state_metrics_list_total":
                out.setdefault("list", Counter())[s.labels["result"]] += int(s.value)
            elif s.name == "ksm_py_watch_closed_total":
                out.setdefault("closed", Counter())[s.labels["reason"]] += int(s.value)
            elif s.name == "ksm_py_api_errors_total":
                out.setdefault("api_errors", Counter())[s.labels["status"]] += int(s.value)
    return out


LISTED = re.compile(r"(\S+): listed \d+ objects at resourceVersion")
STALLED = re.compile(r"(\S+): no bytes on the watch")


def log_counts(exp: Exporter) -> dict[str, Counter[str]]:
    """ksm-py's log: lists per resource (the first is the initial sync) and stall warnings."""
    text = exp.log.read_text(errors="replace")
    return {"lists": Counter(LISTED.findall(text)), "stalls": Counter(STALLED.findall(text))}


def snapshot(exps: list[Exporter]) -> dict[str, dict[str, Any]]:
    snap: dict[str, dict[str, Any]] = {}
    for e in exps:
        e.alive()
        t = telemetry(e)
        row: dict[str, Any] = {
            "watch_success": t.get("watch", Counter())["success"], "watch_error": t.get("watch", Counter())["error"],
            "list_error": t.get("list", Counter())["error"],
        }
        if e.name != "upstream":
            closed = t.get("closed", Counter())
            logs = log_counts(e)
            row.update({
                "closed": closed["closed"], "expired": closed["expired"],
                "early_reconnects": closed["stalled"] + closed["error"],
                "api_errors": dict(t.get("api_errors", Counter())),
                "relists": {r: n - 1 for r, n in logs["lists"].items() if n > 1},
                "stall_warnings": sum(logs["stalls"].values()),
            })
        snap[e.name] = row
    return snap


def table(snap: dict[str, dict[str, Any]]) -> str:
    lines = ["| exporter | watch ok | watch error | list error | streams closed at timeout | early reconnects "
             "| expired (410) | relists | api errors |", "|---|---|---|---|---|---|---|---|---|"]
    for name, r in snap.items():
        relists = ", ".join(f"{k} {v}" for k, v in sorted(r.get("relists", {}).items())) or "0"
        lines.append(f"| {name} | {r['watch_success']} | {r['watch_error']} | {r['list_error']} | "
                     f"{r.get('closed', '-')} | {r.get('early_reconnects', '-')} | {r.get('expired', '-')} | "
                     f"{relists if name != 'upstream' else '-'} | {r.get('api_errors', '-') or 0} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.idle", description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=120)
    ap.add_argument("--report-every", type=float, default=10, help="minutes between progress tables")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="write the final snapshot here")
    args = ap.parse_args(argv)
    if build.main([]) != 0:
        return 1
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ksm-py-idle-"))
    logdir = workdir / "exporters"
    logdir.mkdir(parents=True, exist_ok=True)
    with ControlPlane(workdir / "cluster", nodes=3) as plane:
        kubeconfig = plane.admin_kubeconfig
        exps = [
            Exporter("upstream", [str(build.KSM.binary())], kubeconfig, logdir, resources=""),
            Exporter("ksm-py", [*ksm_py_argv(), "--log-level=info"], kubeconfig, logdir, resources=""),
            Exporter("ksm-py-all", [*ksm_py_argv(), "--log-level=info"], kubeconfig, logdir,
                     resources=",".join(ALL_RESOURCES)),
        ]
        for e in exps:
            e.start()
        try:
            started = time.monotonic()
            deadline = started + args.minutes * 60
            log(f"idle run for {args.minutes:.0f} min in {workdir}; logs in {logdir}")
            snap: dict[str, dict[str, Any]] = {}
            while True:
                now = time.monotonic()
                time.sleep(max(0.0, min(args.report_every * 60, deadline - now)))
                elapsed = (time.monotonic() - started) / 60
                snap = snapshot(exps)
                log(f"{elapsed:.0f}/{args.minutes:.0f} min\n" + table(snap))
                if time.monotonic() >= deadline:
                    break
        finally:
            for e in exps:
                e.stop()
    print(f"after {args.minutes:.0f} min of a quiet cluster")
    print(table(snap))
    if args.json:
        args.json.write_text(json.dumps(snap, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
