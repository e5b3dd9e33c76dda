"""Measure how the real API server treats quiet watches: bookmark cadence and the end of the stream.

Lists each resource (quorum read, as ksm-py does), then watches it from the list's resourceVersion with
``allowWatchBookmarks=true`` and ``timeoutSeconds``, and records when each event arrives and when the
server ends the stream. ksm-py's stall detection (``ksm_py/kube/reflector.py``) is set from these figures.

    python -m bench.watch_quiet --kubeconfig /tmp/ksm-py-cluster/admin.kubeconfig --timeout 300 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from typing import Any

import orjson

from ksm_py.kube.client import KubeClient

RESOURCES = {
    "configmaps": "/api/v1/configmaps", "namespaces": "/api/v1/namespaces", "nodes": "/api/v1/nodes",
    "storageclasses": "/apis/storage.k8s.io/v1/storageclasses",
    "validatingadmissionpolicies": "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies",
    "leases": "/apis/coordination.k8s.io/v1/leases", "pods": "/api/v1/pods",
}


def watch_once(client: KubeClient, path: str, timeout: int, list_rv: str) -> dict[str, Any]:
    rv = list_rv
    if not rv:
        rv = orjson.loads(client.get(path, {"limit": 1}))["metadata"]["resourceVersion"]
    started = time.monotonic()
    arrivals: list[tuple[float, str]] = []
    lines = client.stream_lines(path, {"watch": "1", "resourceVersion": rv, "allowWatchBookmarks": "true",
                                       "timeoutSeconds": timeout}, read_timeout=timeout + 120)
    for line in lines:
        arrivals.append((round(time.monotonic() - started, 1), orjson.loads(line)["type"]))
    ended = time.monotonic() - started
    times = [0.0] + [t for t, _ in arrivals] + [ended]
    return {"timeout": timeout, "ended_after": round(ended, 1), "events": arrivals,
            "bookmarks": sum(1 for _, k in arrivals if k == "BOOKMARK"),
            "longest_silence": round(max(b - a for a, b in zip(times, times[1:], strict=False)), 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kubeconfig", required=True)
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--resources", default=",".join(RESOURCES))
    args = ap.parse_args()
    client = KubeClient(kubeconfig=args.kubeconfig)
    results: dict[str, list[dict[str, Any]]] = {}

    def run(name: str) -> None:
        for _ in range(args.rounds):
            results.setdefault(name, []).append(watch_once(client, RESOURCES[name], args.timeout, ""))
            r = results[name][-1]
            print(f"{name}: ended after {r['ended_after']}s (timeout {args.timeout}), {r['bookmarks']} bookmarks, "
                  f"longest silence {r['longest_silence']}s", flush=True)

    threads = [threading.Thread(target=run, args=(n,)) for n in args.resources.split(",")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
