"""Every option, declared once: the table ``OPTIONS`` drives the command line (argparse), the
``--config`` file keys, value validation (a bad value names its flag) and the README flag table.

Flag names, ``--config`` keys and list syntaxes are kube-state-metrics v2.20's
(``pkg/options/options.go``), plus klog's logging flags, which upstream's command line accepts too.
An option's Python type and default live in the ``Options`` dataclass; its row in ``OPTIONS``
says how it is spelled, parsed, checked and documented.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import re
from typing import Any, Callable, NamedTuple, Sequence

from .gocompat.times import parse_duration
from .readme import replace_section, section

# Every --resources key of kube-state-metrics v2.20 (32 of them enabled by default).
KSM_RESOURCES = (
    "certificatesigningrequests", "clusterrolebindings", "clusterroles", "configmaps", "cronjobs",
    "daemonsets", "deployments", "endpoints", "endpointslices", "horizontalpodautoscalers",
    "ingressclasses", "ingresses", "jobs", "leases", "limitranges", "mutatingadmissionpolicies",
    "mutatingadmissionpolicybindings", "mutatingwebhookconfigurations", "namespaces",
    "networkpolicies", "nodes", "persistentvolumeclaims", "persistentvolumes",
    "poddisruptionbudgets", "pods", "replicasets", "replicationcontrollers", "resourcequotas",
    "rolebindings", "roles", "secrets", "serviceaccounts", "services", "statefulsets",
    "storageclasses", "validatingadmissionpolicies", "validatingadmissionpolicybindings",
    "validatingwebhookconfigurations", "volumeattachments",
)
# ksm-py's own keys, served by extensions (``cli.build_extensions``). Off by default, so that with
# no flags ksm-py serves exactly what kube-state-metrics serves (drop-in: same RBAC, same series);
# enable them with --resources=<the defaults>,events,topology.
EXTENSION_RESOURCES = ("events", "topology")
ALL_RESOURCES = tuple(sorted(KSM_RESOURCES + EXTENSION_RESOURCES))
NOT_DEFAULT = {"clusterrolebindings", "clusterroles", "endpoints", "ingressclasses", "rolebindings", "roles",
               "serviceaccounts", *EXTENSION_RESOURCES}
DEFAULT_RESOURCES = tuple(r for r in ALL_RESOURCES if r not in NOT_DEFAULT)


class OptionError(ValueError):
    """A flag has a bad value; the message starts with the flag's name."""


@dataclasses.dataclass
class Options:
    resources: list[str] = dataclasses.field(default_factory=lambda: list(DEFAULT_RESOURCES))
    namespaces: list[str] = dataclasses.field(default_factory=list)
    namespaces_denylist: list[str] = dataclasses.field(default_factory=list)
    metric_allowlist: list[str] = dataclasses.field(default_factory=list)
    metric_denylist: list[str] = dataclasses.field(default_factory=list)
    metric_opt_in_list: list[str] = dataclasses.field(default_factory=list)
    labels_allowlist: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    annotations_allowlist: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    kubeconfig: str = ""
    apiserver: str = ""
    host: str = "::"
    port: int = 8080
    telemetry_host: str = "::"
    telemetry_port: int = 8081
    # Seconds; zero or less is no limit (Go's http.Server fields of the same names).
    server_read_timeout: float = 60.0
    server_read_header_timeout: float = 5.0
    server_write_timeout: float = 60.0
    server_idle_timeout: float = 300.0
    auth_filter: bool = False
    enable_gzip_encoding: bool = False
    use_apiserver_cache: bool = False
    shard: int = 0
    total_shards: int = 1
    pod: str = ""
    pod_namespace: str = ""
    node: str = ""
    track_unscheduled_pods: bool = False
    object_limit: int = 0
    tls_config: str = ""
    config: str = ""
    continue_without_config: bool = False
    custom_resource_state_config: str = ""
    custom_resource_state_config_file: str = ""
    custom_resource_state_only: bool = False
    continue_without_custom_resource_state_config_file: bool = False
    auto_gomemlimit: bool = False
    auto_gomemlimit_ratio: float = 0.9
    log_level: str = "info"
    verbosity: int | None = None
    topology_cluster_name: str = "kubernetes"
    # Flags accepted for compatibility that ksm-py does not act on (klog's file logging): flag -> value.
    ignored: dict[str, str] = dataclasses.field(default_factory=dict)


def csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


_ALLOWLIST_ENTRY = re.compile(r"\s*([^=,\[\]\s]+)\s*=\s*\[([^\[\]]*)\]\s*")


def _allowlist_entries(flag: str, value: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    pos = 0
    value = value.strip()
    while pos < len(value):
        m = _ALLOWLIST_ENTRY.match(value, pos)
        if not m:
            raise OptionError(f"{flag}: invalid format at {value[pos:]!r}; expected resource=[key,...],...")
        out[m.group(1)] = tuple(k.strip() for k in m.group(2).split(",") if k.strip())
        pos = m.end()
        if pos < len(value):
            if value[pos] != ",":
                raise OptionError(f"{flag}: invalid format at {value[pos:]!r}; entries are separated by ','")
            pos += 1
    _check_allowlist(flag, out)
    return out


def _check_allowlist(flag: str, table: dict[str, tuple[str, ...]]) -> None:
    for resource, keys in table.items():
        if resource != "*" and resource not in ALL_RESOURCES:
            raise OptionError(f"{flag}: unknown resource {resource!r}; available: {', '.join(ALL_RESOURCES)}")
        for k in keys:
            if k.count("*") > 1:
                raise OptionError(f"{flag}: invalid format {k!r}, only one wildcard per label allowed")


def _expand_star(table: dict[str, tuple[str, ...]], enabled: Sequence[str]) -> dict[str, tuple[str, ...]]:
    # A '*' resource overrides every other entry (KSM behaviour).
    return {r: table["*"] for r in enabled} if "*" in table else table


def parse_allowlist(flag: str, value: str, enabled: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """``res1=[k1,k2,...],res2=[...]``; ``*`` as resource means every enabled resource."""
    return _expand_star(_allowlist_entries(flag, value), enabled)


# --- value kinds: how a flag's text and a --config value become an option's value --------------

_GO_BOOL = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
            "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}


def go_bool(text: str) -> bool:
    """Go's strconv.ParseBool, which pflag's boolean flags use (``--auth-filter=false``)."""
    if text not in _GO_BOOL:
        raise ValueError(f"invalid boolean {text!r} (true or false)")
    return _GO_BOOL[text]


def go_duration(text: str) -> float:
    """Go's time.ParseDuration (``60s``, ``1m30s``, ``500ms``, ``0``) in seconds."""
    try:
        return parse_duration(text.strip()) / 1e9
    except ValueError:
        raise ValueError(f"invalid duration {text!r} (Go syntax: 60s, 1m30s, 500ms)") from None


def format_go_duration(seconds: float) -> str:
    """time.Duration.String() for whole seconds, as upstream's --help shows defaults (``1m0s``)."""
    whole = int(seconds)
    if whole == 0:
        return "0s"
    h, rest = divmod(abs(whole), 3600)
    m, s = divmod(rest, 60)
    text = (f"{h}h{m}m{s}s" if h else f"{m}m{s}s" if m else f"{s}s")
    return ("-" if whole < 0 else "") + text


def _go_int(text: str) -> int:
    try:
        return int(text.strip(), 0)  # strconv.ParseInt(s, 0, 64): 0x.., 0o.. and underscores too
    except ValueError:
        raise ValueError(f"invalid integer {text!r}") from None


def _go_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"invalid number {text!r}") from None


def _yaml_str(value: Any) -> str:
    return "" if value is None else str(value)


def _yaml_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r}")
    return value


def _yaml_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


def _yaml_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _yaml_duration(value: Any) -> float:
    if not isinstance(value, str):  # yaml.v3 decodes a time.Duration from a string only
        raise ValueError(f"expected a duration such as 60s, got {value!r}")
    return go_duration(value)


def _yaml_list(value: Any) -> list[str]:
    return [str(v) for v in value or []]


def _yaml_set(value: Any) -> list[str]:
    # YAML of a Go map[string]struct{}: keys matter; a plain list is accepted too.
    return sorted(str(k) for k in (value or {}))


def _resources(names: list[str]) -> list[str]:
    unknown = [r for r in names if r not in ALL_RESOURCES]
    if unknown:
        raise ValueError(f"unknown resource(s) {', '.join(unknown)}; available: {', '.join(ALL_RESOURCES)}")
    return sorted(set(names))


def _regexes(patterns: list[str]) -> list[str]:
    for p in patterns:
        try:
            re.compile(p)
        except re.error as e:
            raise ValueError(f"invalid regular expression {p!r}: {e}") from None
    return patterns


def _yaml_allowlist(value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ValueError(f"expected a mapping of resource to keys, got {value!r}")
    return {str(r): tuple(str(k) for k in (keys or [])) for r, keys in value.items()}


class Kind(NamedTuple):
    """How values of one type are read: from a flag's text and from a ``--config`` YAML value."""

    name: str
    parse: Callable[[str], Any]
    from_yaml: Callable[[Any], Any]
    is_bool: bool = False


STR = Kind("string", str, _yaml_str)
INT = Kind("int", _go_int, _yaml_int)
FLOAT = Kind("float", _go_float, _yaml_float)
BOOL = Kind("bool", go_bool, _yaml_bool, is_bool=True)
DURATION = Kind("duration", go_duration, _yaml_duration)
LIST = Kind("list", csv, _yaml_list)
RESOURCE_SET = Kind("list", lambda text: _resources(csv(text)), lambda v: _resources(_yaml_set(v)))
REGEX_SET = Kind("list", lambda text: _regexes(csv(text)), lambda v: _regexes(_yaml_set(v)))
# Checked here, '*' expanded to the enabled resources once every source of options is read.
ALLOWLIST = Kind("allowlist", lambda text: _allowlist_entries("", text), _yaml_allowlist)


def _port(value: int) -> str | None:
    return None if 0 <= value <= 65535 else f"{value} is not a valid port (0-65535)"


def _at_least(low: int) -> Callable[[int], str | None]:
    return lambda value: None if value >= low else f"must be at least {low}, got {value}"


def _one_of(*choices: str) -> Callable[[str], str | None]:
    return lambda value: None if value in choices else f"must be one of {', '.join(choices)}, got {value!r}"


class Option(NamedTuple):
    """One option: its flag, where its value goes, how it is read, checked and documented."""

    flag: str
    # Options attribute; "" for a flag accepted for compatibility and not acted on (kept in Options.ignored).
    attr: str
    kind: Kind
    help: str
    # --config keys (upstream's yaml tags); a later key is a deprecated alias, used when the first is absent.
    config_keys: tuple[str, ...] = ()
    check: Callable[[Any], str | None] | None = None
    aliases: tuple[str, ...] = ()
    repeatable: bool = False  # values of a repeated flag add up
    filter: bool = False  # also a flag of `ksm-py render` (chooses what is exposed)
    shown_default: str | None = None  # the README's default cell when the value itself says little
    origin: str = "kube-state-metrics"  # or "klog" (upstream's logging flags), "ksm-py"

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    def default(self) -> Any:
        if not self.attr:
            return None
        field = {f.name: f for f in dataclasses.fields(Options)}[self.attr]
        if field.default_factory is not dataclasses.MISSING:
            return field.default_factory()
        return field.default

    def convert(self, source: str, value: Any, *, from_yaml: bool = False) -> Any:
        """The value of the flag's text (or a --config value), checked; OptionError names ``source``."""
        try:
            result = self.kind.from_yaml(value) if from_yaml else self.kind.parse(value)
        except OptionError as e:
            raise OptionError(f"{source}{e}") from None
        except (TypeError, ValueError) as e:
            raise OptionError(f"{source}: {e}") from None
        if self.kind is ALLOWLIST:
            _check_allowlist(source, result)
        problem = self.check(result) if self.check else None
        if problem:
            raise OptionError(f"{source}: {problem}")
        return result


def _default_resources_text() -> str:
    left_out = [r for r in ALL_RESOURCES if r not in DEFAULT_RESOURCES]
    return f"{len(DEFAULT_RESOURCES)} resources: all but " + ", ".join(f"`{r}`" for r in left_out)


_AUTO = ("When set, --pod and --pod-namespace are both expected (downward API); the shard is the pod's "
         "StatefulSet ordinal and the total its replicas, following scaling.")

_LOG_IGNORED = "klog flag, accepted; no effect: ksm-py always logs to standard error"
OPTIONS: tuple[Option, ...] = (
    Option("--resources", "resources", RESOURCE_SET, "Comma-separated list of resources to be enabled; ksm-py's extensions (events, "
           "topology) are off unless named, e.g. the defaults plus events,topology.",
           ("resources",), filter=True, shown_default=_default_resources_text()),
    Option("--namespaces", "namespaces", LIST, "Comma-separated list of namespaces to be enabled (one list/watch "
           "and store per namespace for namespaced resources).", ("namespaces",), filter=True, shown_default="all"),
    Option("--namespaces-denylist", "namespaces_denylist", LIST, "Comma-separated list of namespaces not to be "
           "enabled (excluded with a field selector).", ("namespaces_denylist",), filter=True),
    Option("--metric-allowlist", "metric_allowlist", REGEX_SET, "Comma-separated list of metrics to be exposed: "
           "regular expressions (unanchored) on family names; exclusive with --metric-denylist.",
           ("metric_allowlist",), repeatable=True, filter=True),
    Option("--metric-denylist", "metric_denylist", REGEX_SET, "Comma-separated list of metrics not to be enabled: "
           "regular expressions (unanchored) on family names; exclusive with --metric-allowlist.",
           ("metric_denylist",), repeatable=True, filter=True),
    Option("--metric-opt-in-list", "metric_opt_in_list", REGEX_SET, "Comma-separated list of metrics which are "
           "opt-in and not enabled by default (kube_pod_nodeselectors, kube_persistentvolume_csi_attributes).",
           ("metric_opt_in_list",), repeatable=True, filter=True),
    Option("--metric-labels-allowlist", "labels_allowlist", ALLOWLIST, "Kubernetes label keys per resource exposed "
           "as label_* in the *_labels families, e.g. 'pods=[app,team],namespaces=[*]'; '*' as resource means "
           "every enabled resource.", ("labels_allow_list",), filter=True),
    Option("--metric-annotations-allowlist", "annotations_allowlist", ALLOWLIST, "Kubernetes annotation keys per "
           "resource exposed as annotation_* in the *_annotations families, same grammar as "
           "--metric-labels-allowlist.", ("annotations_allow_list",), filter=True),
    Option("--topology-cluster-name", "topology_cluster_name", STR, "Name of the cluster component of the "
           "topology (kube_topology_component{type=\"cluster\"}).", filter=True, origin="ksm-py"),
    Option("--kubeconfig", "kubeconfig", STR, "Absolute path to the kubeconfig file (the in-cluster service account "
           "otherwise; its token is re-read when it rotates).", ("kubeconfig",), shown_default="in-cluster"),
    Option("--apiserver", "apiserver", STR, "The URL of the apiserver to use as a master.", ("apiserver",)),
    Option("--host", "host", STR, "Host to expose metrics on.", ("host",)),
    Option("--port", "port", INT, "Port to expose metrics on.", ("port",), check=_port),
    Option("--telemetry-host", "telemetry_host", STR, "Host to expose kube-state-metrics self metrics on.",
           ("telemetry_host",)),
    Option("--telemetry-port", "telemetry_port", INT, "Port to expose kube-state-metrics self metrics on.",
           ("telemetry_port",), check=_port),
    Option("--server-read-timeout", "server_read_timeout", DURATION, "The maximum duration for reading the entire "
           "request, including the body (both ports; 0: none).", ("server_read_timeout",)),
    Option("--server-read-header-timeout", "server_read_header_timeout", DURATION, "The maximum duration for "
           "reading the header of requests (both ports; 0: the read timeout).", ("server_read_header_timeout",)),
    Option("--server-write-timeout", "server_write_timeout", DURATION, "The maximum duration from the end of the "
           "request header to the end of the response (both ports; 0: none): a client that does not read has its "
           "connection closed and its response freed.", ("server_write_timeout",)),
    Option("--server-idle-timeout", "server_idle_timeout", DURATION, "The maximum time to wait for the next "
           "request on a keep-alive connection (both ports; 0: the read timeout).", ("server_idle_timeout",)),
    Option("--auth-filter", "auth_filter", BOOL, "Require a bearer token on /metrics of both ports (and on "
           "/topology and the explorer's /topology/ui...): authenticated with a TokenReview, authorized with a SubjectAccessReview (get on the "
           "path); needs RBAC to create both (deploy/components/auth-filter).", ("auth_filter",)),
    Option("--enable-gzip-encoding", "enable_gzip_encoding", BOOL, "Gzip responses when requested by clients via "
           "'Accept-Encoding: gzip' header.", ("enable_gzip_encoding",)),
    Option("--use-apiserver-cache", "use_apiserver_cache", BOOL, "Sets resourceVersion=0 for ListWatch requests, "
           "using cached resources from the apiserver instead of an etcd quorum read.", ("use_api_server_cache",)),
    Option("--shard", "shard", INT, "The instances shard nominal (zero indexed) within the total number of shards "
           "(same object-to-shard hash as upstream).", ("shard",)),
    Option("--total-shards", "total_shards", INT, "The total number of shards. Sharding is disabled when total "
           "shards is set to 1.", ("total_shards",), check=_at_least(1)),
    Option("--pod", "pod", STR, "Name of the pod that contains the kube-state-metrics container (StatefulSet "
           "auto-sharding). " + _AUTO, ("pod",)),
    Option("--pod-namespace", "pod_namespace", STR, "Name of the namespace of the pod specified by --pod. " + _AUTO,
           ("namespace",)),
    Option("--node", "node", STR, "Name of the node that contains the kube-state-metrics pod (DaemonSet sharding of "
           "pods by spec.nodeName; needs --resources=pods).", ("node",)),
    Option("--track-unscheduled-pods", "track_unscheduled_pods", BOOL, "Only pods without a node "
           "(spec.nodeName=''); use with --resources=pods.", ("track_unscheduled_pods",)),
    Option("--object-limit", "object_limit", INT, "The total number of objects to list per resource from the API "
           "Server. (experimental)", ("object_limit",), check=_at_least(0)),
    Option("--tls-config", "tls_config", STR, "Path to the TLS configuration file: exporter-toolkit web config, TLS "
           "(tls_server_config) and basic auth (basic_auth_users, bcrypt) for both ports.", ("tls_config",)),
    Option("--config", "config", STR, "Path to the kube-state-metrics options config YAML file (upstream keys); its "
           "values override the command line flags. Re-read when its content changes (checked every 5 s; a mounted "
           "ConfigMap's update included): the exporter restarts in-process with the new options; a file that does "
           "not load keeps the running ones."),
    Option("--continue-without-config", "continue_without_config", BOOL, "Start even when the --config file is "
           "missing, unreadable or invalid (logged and counted; the command line applies until the file loads: it is "
           "followed like any --config file).",
           ("continue_without_config",)),
    Option("--custom-resource-state-config", "custom_resource_state_config", STR, "Inline Custom Resource State "
           "Metrics config YAML (experimental); wins over the file.", ("custom_resource_config",)),
    Option("--custom-resource-state-config-file", "custom_resource_state_config_file", STR, "Path to a Custom "
           "Resource State Metrics config file (experimental). Re-read when its content changes (checked every 5 s): "
           "only the resources whose entry changed are listed again; a file that does not load keeps the running one.",
           ("custom_resource_state_config_file", "custom_resource_config_file")),
    Option("--custom-resource-state-only", "custom_resource_state_only", BOOL, "Only provide Custom Resource State "
           "metrics (experimental): no built-in resource, whatever --resources says.", ("custom_resources_only",)),
    Option("--continue-without-custom-resource-state-config-file", "continue_without_custom_resource_state_config_file",
           BOOL, "Continue to run even if the file given by --custom-resource-state-config-file is missing.",
           ("continue_without_custom_resource_state_config_file",)),
    Option("--auto-gomemlimit", "auto_gomemlimit", BOOL, "Upstream sets Go's GOMEMLIMIT from the container's "
           "memory limit. ksm-py has no Go runtime: it reads the cgroup (or system) memory limit and logs the "
           "soft limit it would be; nothing else changes. (experimental)", ("auto-gomemlimit",)),
    Option("--auto-gomemlimit-ratio", "auto_gomemlimit_ratio", FLOAT, "The ratio of reserved GOMEMLIMIT memory to "
           "the detected maximum container or system memory, in (0, 1]; checked with --auto-gomemlimit. "
           "(experimental)", ("auto-gomemlimit-ratio",)),
    Option("--log-level", "log_level", STR, "Log level.", check=_one_of("debug", "info", "warning", "error"),
           origin="ksm-py"),
    Option("--v", "verbosity", INT, "klog verbosity: 4 or more logs at debug level, less at info (wins over "
           "--log-level).", aliases=("-v",), shown_default="", origin="klog"),
    *(Option(f"--{name}", "", kind, _LOG_IGNORED, shown_default=shown, origin="klog") for name, kind, shown in (
        ("vmodule", STR, ""), ("logtostderr", BOOL, "true"), ("alsologtostderr", BOOL, "false"),
        ("alsologtostderrthreshold", STR, ""), ("stderrthreshold", STR, "INFO"),
        ("legacy_stderr_threshold_behavior", BOOL, "false"), ("log_dir", STR, ""), ("log_file", STR, ""),
        ("log_file_max_size", INT, "1800"), ("add_dir_header", BOOL, "false"), ("skip_headers", BOOL, "false"),
        ("skip_log_headers", BOOL, "false"), ("one_output", BOOL, "false"), ("log_backtrace_at", STR, ""))),
)

BY_CONFIG_KEY: dict[str, Option] = {key: o for o in OPTIONS for key in o.config_keys}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add(p: argparse.ArgumentParser, option: Option) -> None:
    default = option.shown_default if option.shown_default is not None else readme_default(option)
    help_text = option.help + (f" (default: {default.replace('`', '')})" if default else "")
    kwargs: dict[str, Any] = {"dest": option.dest, "default": None, "help": help_text.replace("%", "%%")}
    if option.kind.is_bool:
        kwargs.update(nargs="?", const="true", metavar="true|false")
    elif option.repeatable:
        kwargs.update(action="append")
    p.add_argument(option.flag, *option.aliases, **kwargs)


def build_parser(prog: str = "ksm-py") -> argparse.ArgumentParser:
    p = _Parser(prog=prog, description="kube-state-metrics, in Python: metrics about the state of Kubernetes objects.")
    for option in OPTIONS:
        _add(p, option)
    return p


def add_filter_flags(p: argparse.ArgumentParser) -> None:
    """The flags that choose what is exposed (shared by the server and ``render``)."""
    for option in OPTIONS:
        if option.filter:
            _add(p, option)


def options_from_args(args: argparse.Namespace, *, config: bool = True) -> Options:
    """Validate parsed flags (and the --config file they name, unless ``config`` is False) into
    Options; raise OptionError naming the bad flag."""
    o = Options()
    for option in OPTIONS:
        raw = getattr(args, option.dest, None)
        if raw is None:
            continue
        if not option.attr:
            o.ignored[option.flag] = raw
            option.convert(option.flag, raw)
            continue
        if option.repeatable:
            value: Any = [x for text in raw for x in option.convert(option.flag, text)]
        elif option.kind is RESOURCE_SET and not raw.strip():
            continue  # an empty --resources is the default set
        else:
            value = option.convert(option.flag, raw)
        setattr(o, option.attr, value)
    if o.metric_allowlist and o.metric_denylist:
        raise OptionError("--metric-allowlist: cannot be combined with --metric-denylist (they are mutually exclusive)")
    if o.config and config:
        apply_config_file(o, o.config)
    if o.verbosity is not None:
        o.log_level = "debug" if o.verbosity >= 4 else "info"
    if o.custom_resource_state_only:
        o.resources = []  # upstream: only Custom Resource State metrics, whatever --resources says
    o.resources = sorted(o.resources)
    o.labels_allowlist = _expand_star(o.labels_allowlist, o.resources)
    o.annotations_allowlist = _expand_star(o.annotations_allowlist, o.resources)
    validate(o)
    return o


def validate(o: Options) -> None:
    """What no single value can say: combinations of options."""
    if not 0 <= o.shard < o.total_shards:
        raise OptionError(f"--shard: must be in [0, --total-shards), got {o.shard} of {o.total_shards}")
    if bool(o.pod) != bool(o.pod_namespace):
        raise OptionError("--pod: auto-sharding needs both --pod and --pod-namespace")
    if o.node and o.track_unscheduled_pods:
        raise OptionError("--node: cannot be combined with --track-unscheduled-pods")
    if (o.node or o.track_unscheduled_pods) and o.resources != ["pods"]:
        flag = "--node" if o.node else "--track-unscheduled-pods"
        raise OptionError(f"{flag}: only the pods resource can be sharded by node; use --resources=pods")
    if o.metric_allowlist and o.metric_denylist:
        raise OptionError("--metric-allowlist: cannot be combined with --metric-denylist (they are mutually exclusive)")
    # Upstream checks the ratio where it is used: when --auto-gomemlimit is on.
    if o.auto_gomemlimit and not 0 < o.auto_gomemlimit_ratio <= 1:
        raise OptionError(f"--auto-gomemlimit-ratio: must be greater than 0 and at most 1, got {o.auto_gomemlimit_ratio}")


def apply_config_file(o: Options, path: str) -> None:
    """Values of the --config YAML override the command line, as in kube-state-metrics."""
    import yaml

    try:
        with open(path) as f:
            doc = yaml.safe_load(f) or {}
    except OSError as e:
        if o.continue_without_config:
            logging.getLogger(__name__).error("--config: cannot read %s: %s; continuing without it "
                                              "(--continue-without-config)", path, e.strerror)
            return
        raise OptionError(f"--config: cannot read {path}: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise OptionError(f"--config: {path} is not valid YAML: {e}") from None
    if not isinstance(doc, dict):
        raise OptionError(f"--config: {path} must hold a mapping of options")
    unknown = sorted(str(k) for k in set(doc) - set(BY_CONFIG_KEY))
    if unknown:
        raise OptionError(f"--config: unknown key(s) {', '.join(unknown)} in {path}")
    for key, value in doc.items():
        option = BY_CONFIG_KEY[key]
        if key != option.config_keys[0] and option.config_keys[0] in doc:
            continue  # a deprecated alias, overridden by the current key
        setattr(o, option.attr, option.convert(f"--config: bad value for {key} in {path}", value, from_yaml=True))


# --- the README's flag table ----------------------------------------------------------------------

def readme_default(option: Option) -> str:
    if option.shown_default is not None:
        return option.shown_default
    value = option.default()
    if isinstance(value, bool):
        return "true" if value else "false"
    if option.kind is DURATION:
        return f"`{format_go_duration(value)}`"
    if value in ("", [], {}, None):
        return ""
    return f"`{value}`"


def render_markdown() -> str:
    """The README's flag table: every flag, its --config key, default and meaning."""
    out = ["| flag | `--config` key | default | meaning |", "|---|---|---|---|"]
    for option in OPTIONS:
        flags = " / ".join(f"`{f}`" for f in (option.flag, *option.aliases))
        keys = ", ".join(f"`{k}`" for k in option.config_keys)
        text = option.help.replace("|", "\\|")
        if option.origin == "ksm-py":
            text += " (ksm-py only)"
        out.append(f"| {flags} | {keys} | {readme_default(option)} | {text} |")
    return "\n".join(out) + "\n"


BEGIN, END = "<!-- flags:begin -->", "<!-- flags:end -->"


def readme_section(text: str) -> str:
    return section(text, BEGIN, END)


def update_readme(path: str) -> bool:
    """Rewrite the generated table of ``path``; True when it changed."""
    return replace_section(path, BEGIN, END, render_markdown())
