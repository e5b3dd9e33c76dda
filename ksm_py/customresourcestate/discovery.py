"""Custom Resource State metrics as an exporter extension.

It watches ``apiextensions.k8s.io/v1`` CustomResourceDefinitions (upstream
``internal/discovery``).  Whenever the set of served (group, version, kind) changes, each
configured resource is resolved against it (``version``/``kind`` may be ``*`` or empty; the group
is required) and the exporter starts a list/watch for every new match and stops the ones whose
CRD (or served version) is gone.  Each match is exposed under upstream's writer key, the GVR
string ``"<group>/<version>, Resource=<plural>"``, in the same sorted order as the built-in
resources; when two configured resources resolve to the same GVR the later one wins, as upstream.
"""

from __future__ import annotations

import dataclasses
import logging

import gevent

from ..body import Body
from ..configfile import WatchedFile, poll_seconds
from ..exposition import ResourceWriter
from ..extension import ExtraWatch, Host, WSGIApp
from ..families._dsl import Allowlists, Family, Resource
from ..filters import family_filter
from ..kube.client import ApiResource
from ..options import OptionError, Options
from ..sinks import Collect
from ..store import CompiledResource
from .config import CompiledFamily, ConfigError, GroupVersionKind, ResourceConfig, compile_resource, parse

logger = logging.getLogger(__name__)

CRD_API = ApiResource("apiextensions.k8s.io", "v1", "customresourcedefinitions", False)


@dataclasses.dataclass(frozen=True)
class GVKP:
    """A served version of a CRD."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True

    @property
    def gvr(self) -> str:
        """``schema.GroupVersionResource.String()``: upstream's writer key for the resource."""
        return f"{self.group}/{self.version}, Resource={self.plural}"


def served_versions(crd: Body) -> list[GVKP]:
    """upstream ``extractGVKPs``: one entry per served version; malformed CRDs give nothing."""
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return []
    group, names, versions = spec.get("group"), spec.get("names"), spec.get("versions")
    if not isinstance(group, str) or not isinstance(names, dict) or not isinstance(versions, list):
        return []
    kind, plural = names.get("kind"), names.get("plural")
    if not isinstance(kind, str) or not isinstance(plural, str):
        return []
    namespaced = spec.get("scope", "Namespaced") != "Cluster"
    out = []
    for v in versions:
        if not isinstance(v, dict) or not isinstance(v.get("name"), str):
            continue
        if "served" in v and v["served"] is not True:
            continue  # not served (or unreadable): a list/watch could never succeed
        out.append(GVKP(group, v["name"], kind, plural, namespaced))
    return out


def resolve(gvk: GroupVersionKind, available: list[GVKP]) -> list[GVKP]:
    """upstream ``ResolveGVKToGVKPs``: ``*``/empty version and kind match every served one."""
    if gvk.group in ("", "*"):
        logger.error("custom resource state: group is required in the defined GVK %s", gvk)
        return []
    any_version = gvk.version in ("", "*")
    any_kind = gvk.kind in ("", "*")
    return [p for p in available if p.group == gvk.group and (any_version or p.version == gvk.version)
            and (any_kind or p.kind == gvk.kind)]


def load_config(options: Options) -> list[ResourceConfig] | None:
    """The configured resources (inline config wins over the file); None when there is none.

    Raises OptionError naming the flag when the configuration cannot be read or compiled.
    """
    flag = "--custom-resource-state-config"
    text = options.custom_resource_state_config
    if not text and options.custom_resource_state_config_file:
        flag = "--custom-resource-state-config-file"
        path = options.custom_resource_state_config_file
        try:
            with open(path) as f:
                text = f.read()
        except FileNotFoundError:
            if options.continue_without_custom_resource_state_config_file:
                logger.warning("custom resource state config file %s does not exist; continuing without it", path)
                return None
            raise OptionError(f"{flag}: unable to open Custom Resource State Metrics file {path}: "
                              "no such file") from None
        except OSError as e:
            raise OptionError(f"{flag}: unable to open Custom Resource State Metrics file {path}: "
                              f"{e.strerror}") from None
    if not text:
        return None
    try:
        return parse(text)
    except ConfigError as e:
        raise OptionError(f"{flag}: {e}") from None


class _CRDSink:
    """Feeds CRD events to the extension (the shape of a reflector sink)."""

    def __init__(self, owner: CustomResourceState) -> None:
        self.owner = owner

    def upsert(self, obj: Body) -> None:
        self.owner.crd_changed(obj)

    def delete(self, obj: Body) -> None:
        self.owner.crd_deleted(obj)

    def replacement(self) -> Collect[str, list[GVKP]]:
        return Collect(lambda crd: ((crd.get("metadata") or {}).get("name") or "", served_versions(crd)),
                       self.owner.crds_replaced)


class CustomResourceState:
    """The extension: one CRD watch, and a list/watch per configured custom resource being served."""

    def __init__(self, options: Options, config: list[ResourceConfig]) -> None:
        self.options = options
        self.config = config
        self.enabled = family_filter(options)
        self.crds: dict[str, list[GVKP]] = {}
        # name -> (its configuration entry, the served version): a changed entry is watched anew.
        self.active: dict[str, tuple[ResourceConfig, GVKP]] = {}
        self._file: WatchedFile | None = None
        self.exporter: Host | None = None

    # -- Extension -----------------------------------------------------------------------------
    def watches(self, options: Options) -> list[ExtraWatch]:
        sink = _CRDSink(self)
        return [ExtraWatch("customresourcedefinitions", CRD_API, lambda _ns: sink)]

    def writers(self) -> list[ResourceWriter]:
        return []

    def routes(self) -> dict[str, WSGIApp]:
        return {}

    def bind(self, exporter: Host, follow: bool = True) -> None:
        """Called by the exporter once it exists: resources are added to and removed from it."""
        self.exporter = exporter
        path = self.options.custom_resource_state_config_file
        if path and not self.options.custom_resource_state_config:
            # As upstream at each start: the file as it is now (it was read and checked just before).
            self._file = WatchedFile(path)
            if self._file.data is not None:
                exporter.telemetry.config_status.loaded(CONFIG_TYPE, path, self._file.data)
            if follow:
                exporter.spawn(self._follow_file)

    # -- the configuration file ---------------------------------------------------------------
    def _follow_file(self) -> None:
        while True:
            gevent.sleep(poll_seconds())
            self.poll_config()

    def poll_config(self) -> bool:
        """Re-read ``--custom-resource-state-config-file`` if its content changed (in place or by
        a ConfigMap's symlink swap): resources whose configuration entry changed are watched anew,
        the others keep their list/watch and series (kube-state-metrics restarts whole and lists
        everything again).  A file that does not load is logged and counted in
        ``kube_state_metrics_last_config_reload_successful``; the running configuration stays.
        True when a new configuration was applied."""
        if self._file is None or not self._file.poll():
            return False
        path = self._file.path
        status = self.exporter.telemetry.config_status if self.exporter is not None else None
        try:
            config = load_config(self.options)
        except OptionError as e:
            logger.error("custom resource state: %s; keeping the running configuration", e)
            if status is not None:
                status.failed(CONFIG_TYPE, path)
            return False
        if status is not None and self._file.data is not None:
            status.loaded(CONFIG_TYPE, path, self._file.data)
        logger.info("custom resource state: reloaded %s", path)
        self.config = config or []
        self.reconcile()
        return True

    # -- CRD events ----------------------------------------------------------------------------
    def crd_changed(self, crd: Body) -> None:
        name = (crd.get("metadata") or {}).get("name") or ""
        self._count("update" if name in self.crds else "add")
        self.crds[name] = served_versions(crd)
        self.reconcile()

    def crd_deleted(self, crd: Body) -> None:
        name = (crd.get("metadata") or {}).get("name") or ""
        if self.crds.pop(name, None) is not None:
            self._count("delete")
        self.reconcile()

    def crds_replaced(self, crds: dict[str, list[GVKP]]) -> None:
        for name in crds:
            self._count("update" if name in self.crds else "add")
        for name in self.crds:
            if name not in crds:
                self._count("delete")
        self.crds = dict(crds)
        self.reconcile()

    def _count(self, event: str) -> None:
        # Upstream's informer handlers: a CRD first seen is an add, a known one an update (a relist
        # updates every CRD it still finds), one gone a delete.
        if self.exporter is not None:
            self.exporter.telemetry.crd_event(event)

    # -- reconciliation ------------------------------------------------------------------------
    def desired(self) -> dict[str, tuple[ResourceConfig, GVKP]]:
        available: list[GVKP] = []
        seen: set[tuple[str, str, str]] = set()
        for gvkps in self.crds.values():
            for p in gvkps:
                if (p.group, p.version, p.kind) not in seen:
                    seen.add((p.group, p.version, p.kind))
                    available.append(p)
        out: dict[str, tuple[ResourceConfig, GVKP]] = {}
        for resource in self.config:
            matches = resolve(resource.group_version_kind, available)
            if not matches:
                logger.debug("custom resource state: no served CRD matches %s", resource.group_version_kind)
            for p in matches:
                out[p.gvr] = (resource, p)  # the same GVR configured twice: the later entry wins
        return out

    def reconcile(self) -> None:
        exporter = self.exporter
        if exporter is None:
            return
        desired = self.desired()
        for name in list(self.active):
            if desired.get(name) != self.active[name]:
                logger.info("custom resource state: stop watching %s", name)
                exporter.remove_resource(name)
                del self.active[name]
        for name, (entry, p) in desired.items():
            if name in self.active:
                continue
            try:
                compiled = self.compile(entry, p)
            except ConfigError as e:  # validated at start-up, so only a resolved name can fail here
                logger.error("custom resource state: cannot compile %s: %s", name, e)
                continue
            logger.info("custom resource state: watching %s (%d families)", name, len(compiled.families))
            exporter.add_resource(compiled, ApiResource(p.group, p.version, p.plural, p.namespaced))
            self.active[name] = (entry, p)

    def compile(self, config: ResourceConfig, p: GVKP) -> CompiledResource:
        families = compile_resource(config, GroupVersionKind(p.group, p.version, p.kind))
        resource = Resource(p.gvr, group=p.group, version=p.version, kind=p.kind, namespaced=p.namespaced,
                            identity=[], allowlists=False)
        resource.families = [_family(f) for f in families]
        on_error = self.exporter.telemetry.render_error if self.exporter is not None else None
        return CompiledResource(resource, [f for f in resource.families if self.enabled(f)], Allowlists(), on_error)


# The ``type`` label of the file in upstream's config-reload families.
CONFIG_TYPE = "customresourceconfig"


def _family(f: CompiledFamily) -> Family:
    return Family(f.name, f.help, f.type, "", lambda _allow: f.generate)
