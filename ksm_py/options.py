"""Command-line options with kube-state-metrics' flag names and list syntaxes."""

from __future__ import annotations

import argparse
import dataclasses
import re
from typing import Any, Sequence

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
    custom_resource_state_config: str = ""
    custom_resource_state_config_file: str = ""
    custom_resource_state_only: bool = False
    continue_without_custom_resource_state_config_file: bool = False
    log_level: str = "info"
    topology_cluster_name: str = "kubernetes"


def csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


_ALLOWLIST_ENTRY = re.compile(r"\s*([^=,\[\]\s]+)\s*=\s*\[([^\[\]]*)\]\s*")


def parse_allowlist(flag: str, value: str, enabled: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """``res1=[k1,k2,...],res2=[...]``; ``*`` as resource means every enabled resource."""
    out: dict[str, tuple[str, ...]] = {}
    pos = 0
    value = value.strip()
    while pos < len(value):
        m = _ALLOWLIST_ENTRY.match(value, pos)
        if not m:
            raise OptionError(f"{flag}: invalid format at {value[pos:]!r}; expected resource=[key,...],...")
        resource, keys = m.group(1), tuple(k.strip() for k in m.group(2).split(",") if k.strip())
        for k in keys:
            if k.count("*") > 1:
                raise OptionError(f"{flag}: invalid format {k!r}, only one wildcard per label allowed")
        if resource != "*" and resource not in ALL_RESOURCES:
            raise OptionError(f"{flag}: unknown resource {resource!r}; available: {', '.join(ALL_RESOURCES)}")
        out[resource] = keys
        pos = m.end()
        if pos < len(value):
            if value[pos] != ",":
                raise OptionError(f"{flag}: invalid format at {value[pos:]!r}; entries are separated by ','")
            pos += 1
    if "*" in out:
        # A '*' resource overrides every other entry (KSM behaviour).
        return {r: out["*"] for r in enabled}
    return out


def _compile_all(flag: str, patterns: Sequence[str]) -> None:
    for p in patterns:
        try:
            re.compile(p)
        except re.error as e:
            raise OptionError(f"{flag}: invalid regular expression {p!r}: {e}") from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(prog: str = "ksm-py") -> argparse.ArgumentParser:
    p = _Parser(prog=prog, description="kube-state-metrics, in Python: metrics about the state of Kubernetes objects.")
    add_filter_flags(p)
    p.add_argument("--kubeconfig", default="", help="Absolute path to the kubeconfig file.")
    p.add_argument("--apiserver", default="", help="The URL of the apiserver to use as a master.")
    p.add_argument("--host", default="::", help="Host to expose metrics on.")
    p.add_argument("--port", type=int, default=8080, help="Port to expose metrics on.")
    p.add_argument("--telemetry-host", default="::", help="Host to expose kube-state-metrics self metrics on.")
    p.add_argument("--telemetry-port", type=int, default=8081, help="Port to expose kube-state-metrics self metrics on.")
    p.add_argument("--enable-gzip-encoding", action="store_true",
                   help="Gzip responses when requested by clients via 'Accept-Encoding: gzip' header.")
    p.add_argument("--use-apiserver-cache", action="store_true",
                   help="Sets resourceVersion=0 for ListWatch requests, using cached resources from the apiserver instead of an etcd quorum read.")
    p.add_argument("--shard", type=int, default=0, help="The instances shard nominal (zero indexed) within the total number of shards.")
    p.add_argument("--total-shards", type=int, default=1, help="The total number of shards.")
    p.add_argument("--pod", default="", help="Name of the pod that contains the kube-state-metrics container (auto-sharding).")
    p.add_argument("--pod-namespace", default="", help="Name of the namespace of the pod specified by --pod (auto-sharding).")
    p.add_argument("--node", default="", help="Name of the node that contains the kube-state-metrics pod (DaemonSet sharding of pods).")
    p.add_argument("--track-unscheduled-pods", action="store_true", help="Only pods without a node (spec.nodeName=''); use with --resources=pods.")
    p.add_argument("--object-limit", type=int, default=0, help="The total number of objects to list per resource from the API Server. (experimental)")
    p.add_argument("--tls-config", default="", help="Path to the TLS configuration file (exporter-toolkit web config: TLS and basic auth).")
    p.add_argument("--config", default="", help="Path to the kube-state-metrics options config YAML file; its values override the command line flags.")
    p.add_argument("--custom-resource-state-config", default="", help="Inline Custom Resource State Metrics config YAML (experimental)")
    p.add_argument("--custom-resource-state-config-file", default="", help="Path to a Custom Resource State Metrics config file (experimental)")
    p.add_argument("--custom-resource-state-only", action="store_true", help="Only provide Custom Resource State metrics (experimental)")
    p.add_argument("--continue-without-custom-resource-state-config-file", action="store_true",
                   help="Continue to run even if the file given by --custom-resource-state-config-file is missing.")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"), help="Log level.")
    p.add_argument("-v", "--v", type=int, default=None, help="klog-style verbosity; >= 4 means debug.")
    return p


def add_filter_flags(p: argparse.ArgumentParser) -> None:
    """The flags that choose what is exposed (shared by the server and ``render``)."""
    p.add_argument("--resources", default="", help="Comma-separated list of Resources to be enabled. Defaults to " + ",".join(DEFAULT_RESOURCES))
    p.add_argument("--namespaces", default="", help="Comma-separated list of namespaces to be enabled. Defaults to all.")
    p.add_argument("--namespaces-denylist", default="", help="Comma-separated list of namespaces not to be enabled.")
    p.add_argument("--metric-allowlist", action="append", default=[], help="Comma-separated list of metrics to be exposed (regular expressions).")
    p.add_argument("--metric-denylist", action="append", default=[], help="Comma-separated list of metrics not to be enabled (regular expressions).")
    p.add_argument("--metric-opt-in-list", action="append", default=[], help="Comma-separated list of metrics which are opt-in and not enabled by default.")
    p.add_argument("--metric-labels-allowlist", default="", help="Comma-separated list of additional Kubernetes label keys per resource, e.g. 'pods=[app,team],namespaces=[*]'.")
    p.add_argument("--metric-annotations-allowlist", default="", help="Comma-separated list of Kubernetes annotation keys per resource, e.g. 'pods=[kubernetes.io/created-by]'.")
    p.add_argument("--topology-cluster-name", default="kubernetes",
                   help="Name of the cluster component of the topology (kube_topology_component{type=\"cluster\"}).")


def options_from_args(args: argparse.Namespace) -> Options:
    """Validate parsed flags into Options; raise OptionError naming the bad flag."""
    o = Options()
    if args.resources.strip():
        o.resources = sorted(set(csv(args.resources)))
        unknown = [r for r in o.resources if r not in ALL_RESOURCES]
        if unknown:
            raise OptionError(f"--resources: unknown resource(s) {', '.join(unknown)}; available: {', '.join(ALL_RESOURCES)}")
    else:
        o.resources = sorted(DEFAULT_RESOURCES)
    o.namespaces = csv(args.namespaces)
    o.namespaces_denylist = csv(args.namespaces_denylist)
    o.metric_allowlist = [x for v in args.metric_allowlist for x in csv(v)]
    o.metric_denylist = [x for v in args.metric_denylist for x in csv(v)]
    o.metric_opt_in_list = [x for v in args.metric_opt_in_list for x in csv(v)]
    if o.metric_allowlist and o.metric_denylist:
        raise OptionError("--metric-allowlist: cannot be combined with --metric-denylist (they are mutually exclusive)")
    _compile_all("--metric-allowlist", o.metric_allowlist)
    _compile_all("--metric-denylist", o.metric_denylist)
    _compile_all("--metric-opt-in-list", o.metric_opt_in_list)
    o.labels_allowlist = parse_allowlist("--metric-labels-allowlist", args.metric_labels_allowlist, o.resources)
    o.annotations_allowlist = parse_allowlist("--metric-annotations-allowlist", args.metric_annotations_allowlist, o.resources)
    for name in ("kubeconfig", "apiserver", "host", "telemetry_host", "enable_gzip_encoding", "use_apiserver_cache"):
        if hasattr(args, name):
            setattr(o, name, getattr(args, name))
    for flag, attr in (("--port", "port"), ("--telemetry-port", "telemetry_port")):
        if hasattr(args, attr):
            value = getattr(args, attr)
            if not 0 <= value <= 65535:
                raise OptionError(f"{flag}: {value} is not a valid port (0-65535)")
            setattr(o, attr, value)
    for name in ("pod", "pod_namespace", "node", "track_unscheduled_pods", "object_limit", "tls_config", "config",
                 "custom_resource_state_config", "custom_resource_state_config_file", "custom_resource_state_only",
                 "continue_without_custom_resource_state_config_file", "topology_cluster_name"):
        if hasattr(args, name):
            setattr(o, name, getattr(args, name))
    if hasattr(args, "total_shards"):
        o.shard, o.total_shards = args.shard, args.total_shards
    if getattr(args, "v", None) is not None:
        o.log_level = "debug" if args.v >= 4 else "info"
    elif hasattr(args, "log_level"):
        o.log_level = args.log_level
    if o.config:
        apply_config_file(o, o.config)
    if o.custom_resource_state_only:
        o.resources = []  # upstream: only Custom Resource State metrics, whatever --resources says
    validate(o)
    return o


def validate(o: Options) -> None:
    if o.total_shards < 1:
        raise OptionError(f"--total-shards: must be at least 1, got {o.total_shards}")
    if not 0 <= o.shard < o.total_shards:
        raise OptionError(f"--shard: must be in [0, --total-shards), got {o.shard} of {o.total_shards}")
    if bool(o.pod) != bool(o.pod_namespace):
        raise OptionError("--pod: auto-sharding needs both --pod and --pod-namespace")
    if o.node and o.track_unscheduled_pods:
        raise OptionError("--node: cannot be combined with --track-unscheduled-pods")
    if (o.node or o.track_unscheduled_pods) and o.resources != ["pods"]:
        flag = "--node" if o.node else "--track-unscheduled-pods"
        raise OptionError(f"{flag}: only the pods resource can be sharded by node; use --resources=pods")
    if o.object_limit < 0:
        raise OptionError(f"--object-limit: must be >= 0, got {o.object_limit}")
    if o.metric_allowlist and o.metric_denylist:
        raise OptionError("--metric-allowlist: cannot be combined with --metric-denylist (they are mutually exclusive)")


# --config keys (kube-state-metrics' yaml tags) -> (Options attribute, kind)
_CONFIG_KEYS: dict[str, tuple[str, str]] = {
    "apiserver": ("apiserver", "str"), "kubeconfig": ("kubeconfig", "str"), "host": ("host", "str"),
    "port": ("port", "int"), "telemetry_host": ("telemetry_host", "str"), "telemetry_port": ("telemetry_port", "int"),
    "resources": ("resources", "set"), "namespaces": ("namespaces", "list"),
    "namespaces_denylist": ("namespaces_denylist", "list"), "metric_allowlist": ("metric_allowlist", "set"),
    "metric_denylist": ("metric_denylist", "set"), "metric_opt_in_list": ("metric_opt_in_list", "set"),
    "labels_allow_list": ("labels_allowlist", "allow"), "annotations_allow_list": ("annotations_allowlist", "allow"),
    "shard": ("shard", "int"), "total_shards": ("total_shards", "int"), "pod": ("pod", "str"),
    "namespace": ("pod_namespace", "str"), "node": ("node", "str"),
    "track_unscheduled_pods": ("track_unscheduled_pods", "bool"), "object_limit": ("object_limit", "int"),
    "tls_config": ("tls_config", "str"), "enable_gzip_encoding": ("enable_gzip_encoding", "bool"),
    "use_api_server_cache": ("use_apiserver_cache", "bool"),
    "custom_resource_config": ("custom_resource_state_config", "str"),
    "custom_resource_state_config_file": ("custom_resource_state_config_file", "str"),
    "custom_resource_config_file": ("custom_resource_state_config_file", "str"),
    "custom_resources_only": ("custom_resource_state_only", "bool"),
    "continue_without_custom_resource_state_config_file": ("continue_without_custom_resource_state_config_file",
                                                           "bool"),
}


def apply_config_file(o: Options, path: str) -> None:
    """Values of the --config YAML override the command line, as in kube-state-metrics."""
    import yaml

    try:
        with open(path) as f:
            doc = yaml.safe_load(f) or {}
    except OSError as e:
        raise OptionError(f"--config: cannot read {path}: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise OptionError(f"--config: {path} is not valid YAML: {e}") from None
    if not isinstance(doc, dict):
        raise OptionError(f"--config: {path} must hold a mapping of options")
    unknown = sorted(set(doc) - set(_CONFIG_KEYS))
    if unknown:
        raise OptionError(f"--config: unknown key(s) {', '.join(unknown)} in {path}")
    for key, value in doc.items():
        attr, kind = _CONFIG_KEYS[key]
        try:
            setattr(o, attr, _convert(kind, value))
        except (TypeError, ValueError) as e:
            raise OptionError(f"--config: bad value for {key} in {path}: {e}") from None
    unknown_resources = [r for r in o.resources if r not in ALL_RESOURCES]
    if unknown_resources:
        raise OptionError(f"--config: unknown resource(s) {', '.join(unknown_resources)} in {path}")
    o.resources = sorted(set(o.resources))
    for attr in ("labels_allowlist", "annotations_allowlist"):
        table = getattr(o, attr)
        for resource, keys in table.items():
            if resource != "*" and resource not in ALL_RESOURCES:
                raise OptionError(f"--config: unknown resource {resource!r} in {attr}")
            if any(k.count("*") > 1 for k in keys):
                raise OptionError(f"--config: invalid format in {attr}, only one wildcard per label allowed")
        if "*" in table:
            setattr(o, attr, {r: table["*"] for r in o.resources})


def _convert(kind: str, value: Any) -> Any:
    if kind == "str":
        return "" if value is None else str(value)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected an integer, got {value!r}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value
    if kind == "list":
        return [str(v) for v in value or []]
    if kind == "set":  # YAML of a Go map[string]struct{}: keys matter; a plain list is accepted too
        return sorted(str(k) for k in (value or {}))
    if kind == "allow":
        return {str(r): tuple(str(k) for k in (keys or [])) for r, keys in (value or {}).items()}
    raise AssertionError(kind)
