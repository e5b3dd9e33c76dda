"""Wire the exporter together: client, stores, reflectors (one greenlet each), two HTTP servers."""

from __future__ import annotations

import json
import logging
import signal
import sys

import gevent
from gevent.pywsgi import WSGIServer

from .builder import compile_resources
from .exposition import ResourceWriter
from .kube.client import ApiResource, KubeClient
from .kube.reflector import Reflector, ReflectorSettings
from .options import Options
from .server import MainApp, TelemetryApp
from .sharding import shard_filter
from .store import MetricsStore
from .telemetry import ReflectorStateCollector, Telemetry

logger = logging.getLogger(__name__)


def namespace_denylist_selector(denylist: list[str]) -> str:
    return ",".join(f"metadata.namespace!={ns}" for ns in denylist)


class Exporter:
    def __init__(self, options: Options, client: KubeClient, settings: ReflectorSettings | None = None) -> None:
        self.options = options
        self.client = client
        self.telemetry = Telemetry()
        self.telemetry.set_sharding(options.shard, options.total_shards)
        settings = settings or ReflectorSettings(use_apiserver_cache=options.use_apiserver_cache)
        keep = shard_filter(options.shard, options.total_shards)
        self.writers: list[ResourceWriter] = []
        self.reflectors: list[Reflector] = []
        for compiled in compile_resources(options, on_render_error=self.telemetry.render_error):
            r = compiled.resource
            api = ApiResource(r.group, r.version, r.name, r.namespaced)
            namespaces: list[str | None] = list(options.namespaces) if r.namespaced and options.namespaces else [None]
            selector = namespace_denylist_selector(options.namespaces_denylist) if r.namespaced else ""
            stores = []
            for ns in namespaces:
                store = MetricsStore(compiled)
                stores.append(store)
                self.reflectors.append(Reflector(
                    client, api, [store], name=r.name, namespace=ns, field_selector=selector,
                    metadata_only=r.metadata_only, keep=keep, settings=settings, stats=self.telemetry))
            self.writers.append(ResourceWriter(compiled, stores))
        self.telemetry.track(ReflectorStateCollector(self._reflector_rows))

    def _reflector_rows(self) -> list[tuple[str, str, bool, float, int]]:
        rows = []
        stores = [s for w in self.writers for s in w.stores]
        for reflector, store in zip(self.reflectors, stores, strict=True):
            rows.append((reflector.name, reflector.namespace or "", reflector.synced, reflector.last_sync, len(store)))
        return rows

    def ready(self) -> bool:
        return all(r.synced for r in self.reflectors)

    def start_reflectors(self) -> list[gevent.Greenlet]:
        return [gevent.spawn(r.run) for r in self.reflectors]

    def main_app(self) -> MainApp:
        return MainApp(self.writers, livez=self.client.livez, telemetry=self.telemetry,
                       enable_gzip=self.options.enable_gzip_encoding)

    def telemetry_app(self) -> TelemetryApp:
        return TelemetryApp(self.telemetry, ready=self.ready)


def _listen_address(host: str, port: int) -> tuple[str, int]:
    return (host.strip("[]"), port)


def run(options: Options) -> int:
    try:
        client = KubeClient(kubeconfig=options.kubeconfig, apiserver=options.apiserver)
        version = client.server_version()
    except Exception as e:  # noqa: BLE001 - report any configuration/connection failure and exit
        logger.error("cannot reach the Kubernetes API server: %s", e)
        return 1
    try:
        git_version = json.loads(version).get("gitVersion", "?")
    except ValueError:
        git_version = "?"
    logger.info("connected to the API server at %s (Kubernetes %s)", client.host, git_version)
    exporter = Exporter(options, client)
    greenlets = exporter.start_reflectors()
    main = WSGIServer(_listen_address(options.host, options.port), exporter.main_app(), log=None,
                      error_log=logging.getLogger("ksm_py.http"))
    telemetry = WSGIServer(_listen_address(options.telemetry_host, options.telemetry_port),
                           exporter.telemetry_app(), log=None, error_log=logging.getLogger("ksm_py.http"))
    try:
        main.start()
        telemetry.start()
    except OSError as e:
        logger.error("cannot listen: %s", e)
        return 1
    logger.info("serving metrics on %s:%d and telemetry on %s:%d", options.host, main.server_port,
                options.telemetry_host, telemetry.server_port)

    def shutdown() -> None:
        logger.info("shutting down")
        for r in exporter.reflectors:
            r.stop()
        main.stop(timeout=5)
        telemetry.stop(timeout=5)
        gevent.killall(greenlets, block=False)

    gevent.signal_handler(signal.SIGTERM, shutdown)
    gevent.signal_handler(signal.SIGINT, shutdown)
    main.serve_forever()
    sys.stderr.flush()
    return 0
