"""``ksm-py stackstate-bridge``: push ksm-py's topology and the cluster's events to StackState."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

from ..event_categories import ACTIVITIES, ALERTS, CHANGES, OTHERS
from .bridge import Bridge, PrintSender, Sender
from .events import EventMapper, EventSink
from .intake import IntakeClient, RedactingFilter, Redactor
from .sources import JsonSource, MetricsSource
from .stackstate import Mapper
from .telemetry import BridgeTelemetry, TelemetryApp

logger = logging.getLogger("ksm_py.bridge")

API_KEY_ENV = "STS_API_KEY"
CATEGORIES = (ALERTS, ACTIVITIES, CHANGES, OTHERS)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
    return value


def _categories(text: str) -> dict[str, str]:
    out = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        reason, sep, cat = item.partition("=")
        if not sep or not reason or cat not in CATEGORIES:
            raise argparse.ArgumentTypeError(f"expected Reason=Category with Category in {', '.join(CATEGORIES)}: "
                                             f"{item!r}")
        out[reason] = cat
    return out


def build_parser() -> argparse.ArgumentParser:
    # allow_abbrev=False: "--api-key X" must not silently become "--api-key-file X".
    p = argparse.ArgumentParser(prog="ksm-py stackstate-bridge", allow_abbrev=False, description=(
        "Push the topology a running ksm-py exposes to a StackState receiver as full snapshots, and forward "
        "Kubernetes events. The API key comes from --api-key-file or the STS_API_KEY environment variable."))
    p.add_argument("--stackstate-url", default="",
                   help="StackState base URL (https://stackstate.example.com), the agent's sts_url "
                        "(.../receiver/stsAgent) or the full intake URL; required unless --dry-run")
    p.add_argument("--api-key-file", type=Path, help=f"file holding the receiver API key (else ${API_KEY_ENV})")
    p.add_argument("--cluster-name", required=True, help="cluster name: instance url and URN prefix")
    p.add_argument("--metrics-url", default="http://localhost:8080/metrics",
                   help="ksm-py /metrics to read the kube_topology_* series from")
    p.add_argument("--topology-url", default="", help="read ksm-py's /topology JSON instead of --metrics-url")
    p.add_argument("--readyz-url", default="http://localhost:8081/readyz",
                   help="ksm-py telemetry /readyz; no snapshot is sent unless it answers 200 (empty: no check)")
    p.add_argument("--interval", type=_positive, default=90.0, help="seconds between snapshots (default 90)")
    p.add_argument("--once", action="store_true", help="send one snapshot and exit (status 1 if skipped or refused)")
    p.add_argument("--dry-run", action="store_true", help="print the payloads on stdout instead of sending them")
    p.add_argument("--hostname", default=socket.gethostname(), help="internalHostname of the payloads")
    p.add_argument("--kubeconfig", default="", help="kubeconfig for the event watch (in-cluster otherwise)")
    p.add_argument("--apiserver", default="", help="API server URL override for the event watch")
    p.add_argument("--no-events", dest="events", action="store_false", help="do not forward Kubernetes events")
    p.add_argument("--event-max-age", type=float, default=300.0,
                   help="do not forward events last seen longer ago than this many seconds (default 300; 0: all)")
    p.add_argument("--event-flush-interval", type=_positive, default=5.0, help="seconds between event batches")
    p.add_argument("--event-categories", type=_categories, default={},
                   help="category overrides by reason: BackOff=Alerts,Pulled=Others")
    p.add_argument("--telemetry-host", default="::", help="address of the bridge's /metrics")
    p.add_argument("--telemetry-port", type=int, default=8082, help="port of the bridge's /metrics (default 8082)")
    p.add_argument("--log-level", "-v", default="info", choices=["debug", "info", "warning", "error"])
    return p


def _reject_key_flags(argv: Sequence[str]) -> str:
    """A key on the command line ends up in shell history and ``ps``: refuse it, without echoing it."""
    for arg in argv:
        if arg in ("--api-key", "--sts-api-key") or arg.startswith(("--api-key=", "--sts-api-key=")):
            return (f"the API key is not accepted as a flag value: put it in a file (--api-key-file) or in "
                    f"${API_KEY_ENV}")
    return ""


def read_api_key(path: Path | None) -> str:
    if path is not None:
        return path.read_text().strip()
    return os.environ.get(API_KEY_ENV, "").strip()


def configure_logging(level: str, secret: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # urllib3's debug lines carry request URLs, and the intake URL carries the key.
    logging.getLogger("urllib3").setLevel(max(logging.INFO, logging.getLogger().level))
    if secret:
        redacting = RedactingFilter(Redactor(secret))
        for handler in logging.getLogger().handlers:
            handler.addFilter(redacting)


def main(argv: Sequence[str]) -> int:
    parser = build_parser()
    problem = _reject_key_flags(argv)
    if problem:
        parser.exit(2, f"{parser.prog}: error: {problem}\n")
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # Name the flags only: a mistyped key flag (--apikey=...) must not print its value.
        flags = sorted({a.split("=", 1)[0] for a in unknown if a.startswith("-")}) or ["(positional arguments)"]
        parser.error(f"unrecognized arguments: {' '.join(flags)}")
    if not args.cluster_name.strip():
        parser.error("--cluster-name must not be empty")
    try:
        api_key = read_api_key(args.api_key_file)
    except OSError as e:
        parser.exit(2, f"{parser.prog}: error: cannot read --api-key-file {args.api_key_file}: {e.strerror}\n")
    if not args.dry_run:
        if not args.stackstate_url:
            parser.error("--stackstate-url is required (or --dry-run)")
        if not api_key:
            parser.error(f"no API key: use --api-key-file or ${API_KEY_ENV}")
    configure_logging(args.log_level, api_key)
    return run(args, api_key)


def run(args: argparse.Namespace, api_key: str) -> int:
    import gevent
    import gevent.event
    from gevent.pywsgi import WSGIServer

    telemetry = BridgeTelemetry()
    sender: Sender
    if args.dry_run:
        sender = PrintSender()
    else:
        client = IntakeClient(args.stackstate_url, api_key)
        client.on_attempt = lambda outcome: telemetry.requests.labels(outcome).inc()
        sender = client
    source = (JsonSource(args.topology_url, args.readyz_url) if args.topology_url
              else MetricsSource(args.metrics_url, args.readyz_url))
    bridge = Bridge(source, Mapper(args.cluster_name), sender, hostname=args.hostname, telemetry=telemetry)
    logger.info("bridge for cluster %s: topology from %s every %.0fs, to %s", args.cluster_name, source.describe(),
                args.interval, sender.describe())
    if args.once:
        return 0 if bridge.push_snapshot() else 1

    server = WSGIServer((args.telemetry_host.strip("[]"), args.telemetry_port), TelemetryApp(telemetry), log=None,
                        error_log=logging.getLogger("ksm_py.bridge.http"))
    try:
        server.start()
    except OSError as e:
        logger.error("cannot listen on %s:%d: %s", args.telemetry_host, args.telemetry_port, e)
        return 1
    logger.info("bridge telemetry on %s:%d", args.telemetry_host, server.server_port)

    stop = gevent.event.Event()
    greenlets: list[gevent.Greenlet] = []
    sink: EventSink | None = None
    reflector = None
    if args.events:
        from ..kube.client import ApiResource, KubeClient
        from ..kube.reflector import Reflector
        try:
            kube = KubeClient(kubeconfig=args.kubeconfig, apiserver=args.apiserver)
        except Exception as e:  # noqa: BLE001 - bad kubeconfig, no in-cluster environment, ...
            logger.error("cannot start the event watch: %s (use --kubeconfig, or --no-events)", e)
            server.stop(timeout=2)
            return 1
        sink = EventSink(EventMapper(args.cluster_name, args.event_categories), max_age=args.event_max_age,
                         stats=telemetry)
        reflector = Reflector(kube, ApiResource("events.k8s.io", "v1", "events", True), [sink], name="events",
                              stats=telemetry)
        greenlets.append(gevent.spawn(reflector.run))

        def flush_loop() -> None:
            assert sink is not None
            while not stop.wait(args.event_flush_interval):
                _guarded("events", telemetry, lambda: bridge.flush_events(sink))
        greenlets.append(gevent.spawn(flush_loop))

    def shutdown() -> None:
        logger.info("shutting down")
        stop.set()

    gevent.signal_handler(signal.SIGTERM, shutdown)
    gevent.signal_handler(signal.SIGINT, shutdown)
    deadline = time.monotonic()
    while not stop.is_set():
        _guarded("snapshot", telemetry, bridge.push_snapshot)
        deadline += args.interval
        now = time.monotonic()
        if deadline < now:  # a slow round: skip the missed ticks instead of bursting
            deadline = now + args.interval
        stop.wait(deadline - now)
    if reflector is not None:
        reflector.stop()
    if sink is not None:
        _guarded("events", telemetry, lambda: bridge.flush_events(sink))
    gevent.killall(greenlets, timeout=5)
    server.stop(timeout=2)
    return 0


def _guarded(operation: str, telemetry: BridgeTelemetry, action: Callable[[], object]) -> None:
    """A bug in one round must not end the loop: log it, count it, go on."""
    try:
        action()
    except Exception:  # noqa: BLE001
        telemetry.errors.labels(operation, "internal").inc()
        logger.exception("%s round failed", operation)

