"""Wire the exporter together: client, stores, reflectors (one greenlet each), two HTTP servers."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
from typing import Any, Iterable

import gevent
import orjson

from . import probes, runtime
from .body import Body
from .builder import compile_resources
from .extension import Extension, WSGIApp
from .kube.client import ApiResource, KubeClient
from .kube.reflector import Reflector, ReflectorSettings
from .options import Options
from .server import BoundedWSGIServer, MainApp, TelemetryApp, Timeouts
from .sharding import ShardState
from .sinks import Collect
from .store import CompiledResource
from .telemetry import ReflectorStateCollector, Telemetry
from .webconfig import WebConfigError, WebConfigWatch
from .wiring import Feed, Rendering, plan

logger = logging.getLogger(__name__)

def _test_knobs() -> dict[str, Any]:
    """Hidden, test-only settings (tests/chaos): small LIST pages so a list spans many requests,
    a short watch read timeout so a stalled stream is detected in seconds."""
    knobs: dict[str, Any] = {}
    if os.environ.get("KSM_PY_LIST_PAGE_SIZE"):
        knobs["page_size"] = max(1, int(os.environ["KSM_PY_LIST_PAGE_SIZE"]))
    if os.environ.get("KSM_PY_WATCH_READ_TIMEOUT"):
        knobs["read_timeout"] = max(0.5, float(os.environ["KSM_PY_WATCH_READ_TIMEOUT"]))
    return knobs


class Exporter:
    def __init__(self, options: Options, client: KubeClient, settings: ReflectorSettings | None = None,
                 extensions: Iterable[Extension] = ()) -> None:
        self.options = options
        self.client = client
        self.telemetry = Telemetry(object_limit=options.object_limit)
        self.shards = ShardState(options.shard, options.total_shards)
        self.telemetry.set_sharding(options.shard, options.total_shards)
        self.settings = settings or ReflectorSettings(use_apiserver_cache=options.use_apiserver_cache,
                                                      object_limit=options.object_limit, **_test_knobs())
        self.extensions = list(extensions)
        self.plan = plan(options, compile_resources(options), self.extensions,
                         Rendering(cooperate=gevent.idle, on_render_error=self.telemetry.render_error))
        self.writers = self.plan.writers
        self.reflectors = [self._reflector(feed) for feed in self.plan.feeds]
        self.greenlets: list[gevent.Greenlet] = []
        self.telemetry.track(ReflectorStateCollector(self._reflector_rows))
        # Resources added and removed at runtime (custom resources): name -> their reflectors.
        self._dynamic: dict[str, list[Reflector]] = {}
        self._running: dict[int, gevent.Greenlet] = {}
        self._apps: list[MainApp] = []
        self._started = False
        for ext in self.extensions:
            ext.bind(self)

    def _reflector(self, feed: Feed) -> Reflector:
        return Reflector(self.client, feed.api, feed.sinks, name=feed.resource, namespace=feed.namespace,
                         field_selector=feed.field_selector, metadata_only=feed.metadata_only,
                         keep=self.shards.keep, settings=self.settings, stats=self.telemetry, cooperate=gevent.idle)

    def _reflector_rows(self) -> list[tuple[str, str, bool, float, int, bool, bool]]:
        counts = {(f.resource, f.namespace): sum(len(s) for s in f.stores) for f in self.plan.feeds}
        return [(r.name, r.namespace or "", r.synced, r.last_sync, counts.get((r.name, r.namespace), 0), r.watching,
                 bool(r.forbidden)) for r in self.reflectors]

    def ready(self) -> bool:
        """Every resource has listed, except those the API server forbids: like upstream, whose
        readiness never waits for RBAC, a forbidden resource (even one named in --resources) does not
        keep the pod out of its Service; it is reported instead (log, ksm_py_resource_forbidden, and
        the /readyz body), and served as soon as the rules allow it."""
        return all(r.synced or r.forbidden for r in self.reflectors)

    def readiness_report(self) -> list[str]:
        """Lines for the /readyz body: what is forbidden and why, what has not listed yet."""
        lines = []
        for r in self.reflectors:
            where = f" in namespace {r.namespace}" if r.namespace else ""
            if r.forbidden:
                lines.append(f"forbidden: {r.name}{where}: HTTP {r.forbidden}; not updated until the RBAC rules "
                             f"allow list and watch on {r.api.plural} (API group {r.api.group!r})")
            elif not r.synced:
                lines.append(f"waiting for the initial list: {r.name}{where}"
                             + (f" (last error: {r.last_error[:300]})" if r.last_error else ""))
        return lines

    def start_reflectors(self) -> None:
        self._running = {}
        self.greenlets = [self._spawn(r) for r in self.reflectors]
        self._started = True

    def _spawn(self, reflector: Reflector) -> gevent.Greenlet:
        greenlet = gevent.spawn(reflector.run)
        self._running[id(reflector)] = greenlet
        return greenlet

    def add_resource(self, compiled: CompiledResource, api: ApiResource) -> None:
        """Serve a resource found at runtime (a custom resource): stores, list/watches, writer."""
        self.remove_resource(compiled.name)
        refs = [self._reflector(feed) for feed in self.plan.add_resource(compiled, api)]
        self.reflectors.extend(refs)
        self._dynamic[compiled.name] = refs
        self.writers = self.plan.writers
        self._publish_writers()
        if self._started:
            self.greenlets.extend(self._spawn(ref) for ref in refs)

    def remove_resource(self, name: str) -> None:
        """Stop serving a resource added with ``add_resource`` (its series disappear at once)."""
        refs = self._dynamic.pop(name, None)
        if refs is None:
            return
        for ref in refs:
            ref.stop()
            greenlet = self._running.pop(id(ref), None)
            if greenlet is not None:
                greenlet.kill(block=False)
                self.greenlets = [g for g in self.greenlets if g is not greenlet]
        self.reflectors = [r for r in self.reflectors if all(r is not x for x in refs)]
        self.plan.remove_resource(name)
        self.writers = self.plan.writers
        self._publish_writers()

    def _publish_writers(self) -> None:
        for app in self._apps:
            app.writers = list(self.writers)

    def reshard(self, shard: int, total: int) -> None:
        """Apply a new shard assignment: every reflector lists again with the new filter."""
        if (shard, total) == (self.shards.shard, self.shards.total):
            return
        logger.info("re-sharding: shard %d of %d (was %d of %d)", shard, total, self.shards.shard, self.shards.total)
        self.shards.shard, self.shards.total = shard, total
        self.telemetry.set_sharding(shard, total)
        gevent.killall(self.greenlets)
        for r in self.reflectors:
            r.resource_version = ""
            r.synced = False
        self.start_reflectors()

    def main_app(self) -> MainApp:
        routes: dict[str, WSGIApp] = {}
        for ext in self.extensions:
            routes.update(ext.routes())
        # /livez asks the API server; on the probe thread through connections of that thread.
        livez = probes.per_thread(self.client.livez, self.client.fork().livez)
        app = MainApp(self.writers, livez=livez, telemetry=self.telemetry,
                      enable_gzip=self.options.enable_gzip_encoding, routes=routes, cooperate=gevent.idle)
        self._apps.append(app)
        return app

    def telemetry_app(self) -> TelemetryApp:
        return TelemetryApp(self.telemetry, ready=self.ready, report=self.readiness_report)


def statefulset_shard(client: KubeClient, pod_name: str, namespace: str) -> tuple[str, int, int]:
    """Auto-sharding: (StatefulSet name, ordinal from the pod name, spec.replicas)."""
    pod = orjson.loads(client.get(f"/api/v1/namespaces/{namespace}/pods/{pod_name}"))
    owner = next((o for o in (pod.get("metadata") or {}).get("ownerReferences") or []
                  if o.get("controller") and o.get("kind") == "StatefulSet"), None)
    if owner is None:
        raise RuntimeError(f"--pod: pod {namespace}/{pod_name} is not controlled by a StatefulSet")
    m = re.fullmatch(re.escape(owner["name"]) + r"-(\d+)", pod_name)
    if not m:
        raise RuntimeError(f"--pod: cannot read the ordinal of {pod_name} (StatefulSet {owner['name']})")
    sts = orjson.loads(client.get(f"/apis/apps/v1/namespaces/{namespace}/statefulsets/{owner['name']}"))
    replicas = (sts.get("spec") or {}).get("replicas")
    return owner["name"], int(m.group(1)), 1 if replicas is None else int(replicas)


class _StatefulSetWatch:
    """A sink for the StatefulSet of this pod: re-shard when its replicas change."""

    def __init__(self, exporter: Exporter, name: str, ordinal: int) -> None:
        self.exporter, self.name, self.ordinal = exporter, name, ordinal

    def _apply(self, obj: Body) -> None:
        if (obj.get("metadata") or {}).get("name") != self.name:
            return
        replicas = (obj.get("spec") or {}).get("replicas")
        total = 1 if replicas is None else int(replicas)
        if total > self.ordinal:
            self.exporter.reshard(self.ordinal, total)

    def upsert(self, obj: Body) -> None:
        self._apply(obj)

    def delete(self, obj: Body) -> None:
        pass

    def replacement(self) -> Collect[str, Body]:
        return Collect(lambda obj: ((obj.get("metadata") or {}).get("name") or "", obj), self._apply_all)

    def _apply_all(self, objs: dict[str, Body]) -> None:
        for obj in objs.values():
            self._apply(obj)


def _auth_cache_knobs() -> dict[str, float]:
    """Hidden, test-only: shorter --auth-filter decision caches (tests/e2e/test_auth_filter.py)."""
    knobs = {}
    for env, name in (("KSM_PY_AUTH_ALLOW_TTL", "allow_ttl"), ("KSM_PY_AUTH_DENY_TTL", "deny_ttl"),
                      ("KSM_PY_AUTH_TOKEN_TTL", "token_ttl")):
        if os.environ.get(env):
            knobs[name] = max(0.1, float(os.environ[env]))
    return knobs


def _listen_address(host: str, port: int) -> tuple[str, int]:
    return (host.strip("[]"), port)


def run(options: Options, extensions: Iterable[Extension] = ()) -> int:
    try:
        web = WebConfigWatch(options.tls_config) if options.tls_config else None
    except WebConfigError as e:
        logger.error("%s", e)
        return 2
    try:
        client = KubeClient(kubeconfig=options.kubeconfig, apiserver=options.apiserver)
        version = client.server_version()
        if options.pod:
            sts_name, ordinal, total = statefulset_shard(client, options.pod, options.pod_namespace)
            options.shard, options.total_shards = ordinal, total
    except Exception as e:  # noqa: BLE001 - report any configuration/connection failure and exit
        logger.error("cannot start: %s", e)
        return 1
    try:
        git_version = json.loads(version).get("gitVersion", "?")
    except ValueError:
        git_version = "?"
    logger.info("connected to the API server at %s (Kubernetes %s)", client.host, git_version)
    for flag, value in options.ignored.items():
        logger.info("%s=%s: accepted for compatibility with kube-state-metrics; no effect in ksm-py", flag, value)
    if options.auto_gomemlimit:
        logger.info("%s", runtime.auto_memory_limit(options.auto_gomemlimit_ratio))
    exporter = Exporter(options, client, extensions=extensions)
    exporter.start_reflectors()
    if options.pod:
        sts_watch = Reflector(client, ApiResource("apps", "v1", "statefulsets", True),
                              [_StatefulSetWatch(exporter, sts_name, options.shard)], name="autosharding",
                              namespace=options.pod_namespace, field_selector=f"metadata.name={sts_name}",
                              stats=exporter.telemetry)
        gevent.spawn(sts_watch.run)
    ssl_args: dict[str, Any] = {"ssl_context": web.ssl_context} if web and web.ssl_context else {}
    main_app: WSGIApp = exporter.main_app()
    telemetry_app: WSGIApp = exporter.telemetry_app()
    if options.auth_filter:
        from .authfilter import AuthFilter

        auth = AuthFilter(client, **_auth_cache_knobs())
        # As upstream: /metrics of both ports (and ksm-py's extension routes, /topology: cluster data too);
        # the probes and landing pages stay open.
        main_app = auth.wrap(main_app, {"/metrics", *(path for ext in exporter.extensions for path in ext.routes())})
        telemetry_app = auth.wrap(telemetry_app, {"/metrics"})
    if web:
        main_app, telemetry_app = web.wrap(main_app), web.wrap(telemetry_app)
    http_log = logging.getLogger("ksm_py.http")
    # Upstream bounds only its main port with these flags (the telemetry port has a fixed 5 s header
    # timeout); both ports take them here, so no client can pin a response on either.
    timeouts = Timeouts(read=options.server_read_timeout, read_header=options.server_read_header_timeout,
                        write=options.server_write_timeout, idle=options.server_idle_timeout)
    main = BoundedWSGIServer(_listen_address(options.host, options.port), main_app, log=None, error_log=http_log,
                             timeouts=timeouts, **ssl_args)
    telemetry = BoundedWSGIServer(_listen_address(options.telemetry_host, options.telemetry_port), telemetry_app,
                                  log=None, error_log=http_log, timeouts=timeouts, **ssl_args)
    try:
        main.start()
        telemetry.start()
    except OSError as e:
        logger.error("cannot listen: %s", e)
        return 1
    # Probes are answered on an OS thread of their own, never waiting for the event loop.
    probe_server = probes.ProbeServer([probes.ProbePort(main, main_app, probes.MAIN_PROBES),
                                       probes.ProbePort(telemetry, telemetry_app, probes.TELEMETRY_PROBES)])
    probe_server.start()
    logger.info("serving metrics on %s:%d and telemetry on %s:%d%s", options.host, main.server_port,
                options.telemetry_host, telemetry.server_port, " (TLS)" if ssl_args else "")

    def shutdown() -> None:
        logger.info("shutting down")
        probe_server.stop()
        for r in exporter.reflectors:
            r.stop()
        main.stop(timeout=5)
        telemetry.stop(timeout=5)
        gevent.killall(exporter.greenlets, block=False)

    gevent.signal_handler(signal.SIGTERM, shutdown)
    gevent.signal_handler(signal.SIGINT, shutdown)
    main.serve_forever()
    return 0

