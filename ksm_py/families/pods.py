"""v1 Pod (KSM ``internal/store/pod.go``)."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any

from ..gocompat.times import ZERO_TIME
from ..metric import ALPHA, COUNTER, STABLE
from ..shape import ANY, OBJECT_META, Shape, fields
from ._dsl import NAME, NAMESPACE, UID, Body, Constant, Resource, Samples
from ._helpers import (
    CONDITION_STATUSES,
    LabelSet,
    controller_of,
    created,
    deletion_timestamp,
    dig,
    label_text,
    meta,
    metadata_families,
    owner_samples,
    prometheus_labels,
    quantity_float,
    quantity_value,
    resource_units,
    sanitize_label_name,
    unix,
)

pods = Resource("pods", group="", version="v1", kind="Pod", namespaced=True,
                identity=[("namespace", NAMESPACE), ("pod", NAME), ("uid", UID)])
family = pods.family
# Pods are updated often for labels and annotations alone (controllers, operators); no pod family
# reads these, the resourceVersion or managedFields (tests/families/test_pods.py checks it).
pods.unread_metadata = ("resourceVersion", "managedFields", "labels", "annotations")

# Of a container, the families read these four; of a volume, whether it is a claim. The env,
# probes, mounts and projected sources are most of a pod's JSON: they are skipped while parsing
# (tests/families/_util.check renders every case parsed this way too).
_CONTAINER: Shape = fields("name", "image", "resources", "restartPolicy")
pods.reads = {
    "metadata": OBJECT_META,
    "spec": {
        **fields(
            "activeDeadlineSeconds", "affinity", "automountServiceAccountToken", "dnsConfig", "dnsPolicy",
            "enableServiceLinks", "evictionResponders", "hostAliases", "hostIPC", "hostNetwork", "hostPID",
            "hostUsers", "hostname", "hostnameOverride", "imagePullSecrets", "nodeName", "nodeSelector", "os",
            "overhead", "preemptionPolicy", "priority", "priorityClassName", "readinessGates", "resourceClaims",
            "resources", "restartPolicy", "runtimeClassName", "schedulerName", "schedulingGates", "schedulingGroup",
            "securityContext", "serviceAccount", "serviceAccountName", "setHostnameAsFQDN", "shareProcessNamespace",
            "subdomain", "terminationGracePeriodSeconds", "tolerations", "topologySpreadConstraints"),
        "containers": [_CONTAINER],
        "initContainers": [_CONTAINER],
        "ephemeralContainers": [_CONTAINER],
        "volumes": [fields("name", "persistentVolumeClaim", "ephemeral")],
    },
    "status": ANY,
}

# ``metav1.Time{}.Unix()``: KSM reads timestamps through non-pointer fields, so an absent one is
# the Go zero time, not "no series".


def _time(ts: Any) -> int:
    return unix(ts) if ts else ZERO_TIME


# The families below run for every pod on every event (about 60 per pod): they read the dict
# directly (``x.get(k)``, None checks exactly where ``dig`` has them) instead of through ``dig``,
# and return lists, empty when the input is absent (no init containers, no terminated state),
# so the render skips them without a generator or a loop.


# Stands for an absent (null) status or spec: reads of it give None, as ``dig`` would.
_ABSENT: Mapping[str, Any] = {}


def _list(obj: Any, *path: str) -> list[Any]:
    return dig(obj, *path) or []


def _status_field(p: Body, key: str) -> Any:
    """``dig(p, "status", key)`` without its generic loop (the pod families read a dozen fields)."""
    status = p.get("status")
    return None if status is None else status.get(key)


def _spec_field(p: Body, key: str) -> Any:
    spec = p.get("spec")
    return None if spec is None else spec.get(key)


def _status_list(p: Body, key: str) -> list[Any]:
    return _status_field(p, key) or []


def _spec_list(p: Body, key: str) -> list[Any]:
    return _spec_field(p, key) or []


def _statuses(p: Body, init: bool) -> list[Mapping[str, Any]]:
    return _status_list(p, "initContainerStatuses" if init else "containerStatuses")


def _state(cs: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    state = cs.get("state")
    return None if state is None else state.get(key)


def _last_terminated(cs: Mapping[str, Any]) -> Mapping[str, Any] | None:
    state = cs.get("lastState")
    return None if state is None else state.get("terminated")


def _conditions(p: Body, type_: str) -> list[Mapping[str, Any]]:
    # A loop, not a comprehension: no function made per call (seven families scan the conditions).
    out = []
    for c in _status_list(p, "conditions"):
        if c.get("type") == type_:
            out.append(c)
    return out


@family("kube_pod_completion_time", "Completion time in unix timestamp for a pod.", labels=())
def completion_time(p: Body) -> Samples:
    finished = []
    for cs in _statuses(p, False):
        state = cs.get("state")  # most containers run: one lookup and on
        terminated = None if state is None else state.get("terminated")
        if terminated is not None:
            finished.append(_time(terminated.get("finishedAt")))
    if finished and max(finished) > 0:
        return [((), max(finished))]
    return ()


def _container_info(p: Body, init: bool) -> Samples:
    containers = _spec_list(p, "initContainers" if init else "containers")
    if not containers:
        return ()
    statuses = _statuses(p, init)
    out = []
    for c in containers:
        for cs in statuses:
            if cs.get("name") != c.get("name"):
                continue
            values = (cs.get("name") or "", c.get("image") or "", cs.get("image") or "", cs.get("imageID") or "",
                      cs.get("containerID") or "")
            out.append((_INIT_CONTAINER_INFO(*values, c.get("restartPolicy") or "") if init
                        else _CONTAINER_INFO(*values), 1))
    return out


_CONTAINER_INFO = LabelSet("container", "image_spec", "image", "image_id", "container_id")
_INIT_CONTAINER_INFO = LabelSet("container", "image_spec", "image", "image_id", "container_id", "restart_policy")


@functools.lru_cache(maxsize=4096, typed=True)
def _resource_series(name: str, q: Any) -> tuple[tuple[str, float | int], ...]:
    """(``resource="..",unit=".."`` rendered, value) of one container request or limit: the same
    few names and quantities repeat in every pod.  A sanitised name and a unit need no escaping."""
    units = resource_units(name, pods=False)
    if not units:
        return ()
    # Only cpu goes through convertValueToFloat64; every other resource is Value().
    value = quantity_float(q) if name == "cpu" else quantity_value(q)
    return tuple((f'resource="{sanitize_label_name(name)}",unit="{unit}"', value) for unit in units)


def _container_resources(p: Body, init: bool, kind: str) -> Samples:
    spec: Any = p.get("spec")  # a mapping wherever there are containers
    containers = (None if spec is None else spec.get("initContainers" if init else "containers")) or []
    if not containers:
        return ()
    node_text = label_text(spec.get("nodeName") or "")
    out = []
    for c in containers:
        resources = c.get("resources")
        quantities = (None if resources is None else resources.get(kind)) or {}
        if not quantities:
            continue
        # container and node rendered once per container, shared by its resources' lines.
        prefix = f'{_container_label(c.get("name") or "")},node="{node_text}",'
        for name, q in quantities.items():
            for text, value in _resource_series(name, q):
                out.append((prefix + text, value))
    return out


# ``container="<name>"`` by container name: the same few names recur in every pod of a workload.
_CONTAINER_LABELS: dict[str, str] = {}


def _container_label(name: Any) -> str:
    if type(name) is not str:
        return f'container="{label_text(name)}"'
    text = _CONTAINER_LABELS.get(name)
    if text is None:
        text = f'container="{label_text(name)}"'
        if len(_CONTAINER_LABELS) < 1 << 14:
            _CONTAINER_LABELS[name] = text
    return text


def _per_status(init: bool, fn: Callable[[Mapping[str, Any]], Any]) -> Callable[[Body], Samples]:
    """One series per container status, value ``fn(status)``; None skips the container."""
    key = "initContainerStatuses" if init else "containerStatuses"

    def family_fn(p: Body) -> Samples:
        status = p.get("status")
        out = []
        for cs in (None if status is None else status.get(key)) or ():
            value = fn(cs)
            if value is not None:
                out.append((_container_label(cs.get("name") or ""), value))
        return out
    return family_fn


def _per_status_reason(init: bool, fn: Callable[[Mapping[str, Any]], Mapping[str, Any] | None]) -> Callable[[Body], Samples]:
    """Value 1 with the reason of the state ``fn(status)`` returns, for containers that have it."""
    key = "initContainerStatuses" if init else "containerStatuses"

    def family_fn(p: Body) -> Samples:
        status = p.get("status")
        out = []
        for cs in (None if status is None else status.get(key)) or ():
            state = fn(cs)
            if state is not None:
                out.append((f'{_container_label(cs.get("name") or "")},'
                             f'reason="{label_text(state.get("reason") or "")}"', 1))
        return out
    return family_fn


def _started(cs: Mapping[str, Any]) -> int | None:
    running = _state(cs, "running")
    if running is not None:
        return _time(running.get("startedAt"))
    terminated = _state(cs, "terminated")
    if terminated is not None:
        return _time(terminated.get("startedAt"))
    return None


def _last_exit_code(cs: Mapping[str, Any]) -> int | None:
    t = _last_terminated(cs)
    return None if t is None else t.get("exitCode") or 0


def _last_finished(cs: Mapping[str, Any]) -> int | None:
    t = _last_terminated(cs)
    return None if t is None else _time(t.get("finishedAt"))


def _in_state(key: str) -> Callable[[Mapping[str, Any]], bool]:
    def fn(cs: Mapping[str, Any]) -> bool:
        state = cs.get("state")
        return state is not None and state.get(key) is not None
    return fn


def _ready(cs: Mapping[str, Any]) -> bool:
    return bool(cs.get("ready"))


def _restarts(cs: Mapping[str, Any]) -> int:
    return cs.get("restartCount") or 0


def _current(key: str) -> Callable[[Mapping[str, Any]], Mapping[str, Any] | None]:
    def fn(cs: Mapping[str, Any]) -> Mapping[str, Any] | None:
        state = cs.get("state")
        return None if state is None else state.get(key)
    return fn


@family("kube_pod_container_info", "Information about a container in a pod.",
        labels=("container", "image_spec", "image", "image_id", "container_id"))
def container_info(p: Body) -> Samples:
    return _container_info(p, init=False)


@family("kube_pod_container_resource_limits",
        "The number of requested limit resource by a container. It is recommended to use the "
        "kube_pod_resource_limits metric exposed by kube-scheduler instead, as it is more precise.",
        labels=("container", "node", "resource", "unit"))
def container_resource_limits(p: Body) -> Samples:
    return _container_resources(p, False, "limits")


@family("kube_pod_container_resource_requests",
        "The number of requested request resource by a container. It is recommended to use the "
        "kube_pod_resource_requests metric exposed by kube-scheduler instead, as it is more precise.",
        labels=("container", "node", "resource", "unit"))
def container_resource_requests(p: Body) -> Samples:
    return _container_resources(p, False, "requests")


family("kube_pod_container_state_started", "Start time in unix timestamp for a pod container.", labels=("container",))(
    _per_status(False, _started))
family("kube_pod_container_status_last_terminated_reason",
       "Describes the last reason the container was in terminated state.", stability=ALPHA,
       labels=("container", "reason"))(
    _per_status_reason(False, _last_terminated))
family("kube_pod_container_status_last_terminated_exitcode",
       "Describes the exit code for the last container in terminated state.", stability=ALPHA, labels=("container",))(
    _per_status(False, _last_exit_code))
family("kube_pod_container_status_last_terminated_timestamp",
       "Last terminated time for a pod container in unix timestamp.", stability=ALPHA, labels=("container",))(
    _per_status(False, _last_finished))
family("kube_pod_container_status_ready", "Describes whether the containers readiness check succeeded.",
       labels=("container",))(
    _per_status(False, _ready))
family("kube_pod_container_status_restarts_total", "The number of container restarts per container.", COUNTER,
       labels=("container",))(
    _per_status(False, _restarts))
family("kube_pod_container_status_running", "Describes whether the container is currently in running state.",
       labels=("container",))(
    _per_status(False, _in_state("running")))
family("kube_pod_container_status_terminated",
       "Describes whether the container is currently in terminated state.", labels=("container",))(
    _per_status(False, _in_state("terminated")))
family("kube_pod_container_status_terminated_reason",
       "Describes the reason the container is currently in terminated state.", stability=ALPHA,
       labels=("container", "reason"))(
    _per_status_reason(False, _current("terminated")))
family("kube_pod_container_status_waiting", "Describes whether the container is currently in waiting state.",
       labels=("container",))(
    _per_status(False, _in_state("waiting")))
family("kube_pod_container_status_waiting_reason",
       "Describes the reason the container is currently in waiting state.", labels=("container", "reason"))(
    _per_status_reason(False, _current("waiting")))
family("kube_pod_created", "Unix creation timestamp", labels=())(created)
family("kube_pod_deletion_timestamp", "Unix deletion timestamp", stability=ALPHA, labels=(),
       needs=("metadata", "deletionTimestamp"))(deletion_timestamp)


@family("kube_pod_info", "Information about pod.",
        labels=("host_ip", "pod_ip", "node", "created_by_kind", "created_by_name", "priority_class", "host_network"))
def info(p: Body) -> Samples:
    controller = controller_of(p) or {}
    status = p.get("status")
    if status is None:
        status = _ABSENT
    spec = p.get("spec")
    if spec is None:
        spec = _ABSENT
    return [(_INFO(status.get("hostIP") or "", status.get("podIP") or "", spec.get("nodeName") or "",
                   controller.get("kind") or "", controller.get("name") or "", spec.get("priorityClassName") or "",
                   "true" if spec.get("hostNetwork") else "false"), 1)]


_INFO = LabelSet("host_ip", "pod_ip", "node", "created_by_kind", "created_by_name", "priority_class", "host_network")


# Four decimal parts of 1-3 ASCII digits, no leading zero, at most 255 (what both parsers accept).
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_DOTTED_QUAD = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


def _ip_family(ip: str) -> str | None:
    """``netip.ParseAddr`` + ``Unmap``: "4", "6", or None when the text is not an address."""
    # Plain dotted quads (nearly every pod IP) without building an address object.
    if type(ip) is str and _DOTTED_QUAD.fullmatch(ip):
        return "4"
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return "4"
    return "4" if addr.version == 4 else "6"


@family("kube_pod_ips", "Pod IP addresses", stability=ALPHA, labels=("ip", "ip_family"))
def ips(p: Body) -> Samples:
    out = []
    for entry in _status_list(p, "podIPs"):
        ip = entry.get("ip") or ""
        ip_family = _ip_family(ip)
        if ip_family is not None:
            out.append(([("ip", ip), ("ip_family", ip_family)], 1))
    return out


# Most pods have no init containers: their families are not called at all (``Family.needs``).
_INIT_CONTAINERS = ("spec", "initContainers")
_INIT_STATUSES = ("status", "initContainerStatuses")


@family("kube_pod_init_container_info", "Information about an init container in a pod.",
        labels=("container", "image_spec", "image", "image_id", "container_id", "restart_policy"),
        needs=_INIT_CONTAINERS)
def init_container_info(p: Body) -> Samples:
    return _container_info(p, init=True)


@family("kube_pod_init_container_resource_limits", "The number of requested limit resource by an init container.",
        stability=ALPHA, labels=("container", "node", "resource", "unit"), needs=_INIT_CONTAINERS)
def init_container_resource_limits(p: Body) -> Samples:
    return _container_resources(p, True, "limits")


@family("kube_pod_init_container_resource_requests",
        "The number of requested request resource by an init container.", stability=ALPHA,
        labels=("container", "node", "resource", "unit"), needs=_INIT_CONTAINERS)
def init_container_resource_requests(p: Body) -> Samples:
    return _container_resources(p, True, "requests")


family("kube_pod_init_container_state_started", "Start time in unix timestamp for a pod init container.",
       stability=ALPHA, labels=("container",), needs=_INIT_STATUSES)(_per_status(True, _started))
family("kube_pod_init_container_status_last_terminated_reason",
       "Describes the last reason the init container was in terminated state.", stability=ALPHA,
       labels=("container", "reason"), needs=_INIT_STATUSES)(
    _per_status_reason(True, _last_terminated))
family("kube_pod_init_container_status_last_terminated_exitcode",
       "Describes the exit code for the last init container in terminated state.", stability=ALPHA,
       labels=("container",), needs=_INIT_STATUSES)(
    _per_status(True, _last_exit_code))
family("kube_pod_init_container_status_last_terminated_timestamp",
       "Last terminated time for a pod init container in unix timestamp.", stability=ALPHA, labels=("container",),
       needs=_INIT_STATUSES)(
    _per_status(True, _last_finished))
family("kube_pod_init_container_status_ready", "Describes whether the init containers readiness check succeeded.",
       labels=("container",), needs=_INIT_STATUSES)(
    _per_status(True, _ready))
family("kube_pod_init_container_status_restarts_total", "The number of restarts for the init container.",
       COUNTER, labels=("container",), needs=_INIT_STATUSES)(_per_status(True, _restarts))
family("kube_pod_init_container_status_running",
       "Describes whether the init container is currently in running state.", labels=("container",),
       needs=_INIT_STATUSES)(
    _per_status(True, _in_state("running")))
family("kube_pod_init_container_status_terminated",
       "Describes whether the init container is currently in terminated state.", labels=("container",),
       needs=_INIT_STATUSES)(
    _per_status(True, _in_state("terminated")))
family("kube_pod_init_container_status_terminated_reason",
       "Describes the reason the init container is currently in terminated state.", stability=ALPHA,
       labels=("container", "reason"), needs=_INIT_STATUSES)(
    _per_status_reason(True, _current("terminated")))
family("kube_pod_init_container_status_waiting",
       "Describes whether the init container is currently in waiting state.", labels=("container",),
       needs=_INIT_STATUSES)(
    _per_status(True, _in_state("waiting")))
family("kube_pod_init_container_status_waiting_reason",
       "Describes the reason the init container is currently in waiting state.", stability=ALPHA,
       labels=("container", "reason"), needs=_INIT_STATUSES)(
    _per_status_reason(True, _current("waiting")))
metadata_families(pods, "pod", labels_stability=STABLE, annotations_stability=ALPHA)


@family("kube_pod_overhead_cpu_cores",
        "The pod overhead in regards to cpu cores associated with running a pod.", stability=ALPHA, labels=(),
        needs=("spec", "overhead"))
def overhead_cpu_cores(p: Body) -> Samples:
    overhead = dig(p, "spec", "overhead") or {}
    return [((), quantity_float(overhead["cpu"]))] if "cpu" in overhead else ()


@family("kube_pod_overhead_memory_bytes",
        "The pod overhead in regards to memory associated with running a pod.", stability=ALPHA, labels=(),
        needs=("spec", "overhead"))
def overhead_memory_bytes(p: Body) -> Samples:
    overhead = dig(p, "spec", "overhead") or {}
    return [((), quantity_value(overhead["memory"]))] if "memory" in overhead else ()


@family("kube_pod_owner", "Information about the Pod's owner.",
        labels=("owner_kind", "owner_name", "owner_is_controller"))
def owner(p: Body) -> Samples:
    return owner_samples(p)


@family("kube_pod_resourceclaim_info",
        "Information about a DRA ResourceClaim referenced by a pod, one series per pod.spec.resourceClaims entry; "
        "claim_name is the pod-local reference and resourceclaim_name is the resolved ResourceClaim object name.",
        stability=ALPHA, labels=("claim_name", "resourceclaim_name", "resourceclaim_template_name"),
        needs=("spec", "resourceClaims"))
def resourceclaim_info(p: Body) -> Samples:
    if not _spec_list(p, "resourceClaims"):
        return ()
    return _resourceclaim_info(p)


def _resourceclaim_info(p: Body) -> Samples:
    resolved = {s.get("name") or "": s["resourceClaimName"] for s in _list(p, "status", "resourceClaimStatuses")
                if s.get("resourceClaimName") is not None}
    for rc in _list(p, "spec", "resourceClaims"):
        claim, template = rc.get("resourceClaimName"), rc.get("resourceClaimTemplateName")
        if claim is None and template is None:
            continue
        name = rc.get("name") or ""
        yield [("claim_name", name), ("resourceclaim_name", claim if claim is not None else resolved.get(name, "")),
               ("resourceclaim_template_name", template or "")], 1


@family("kube_pod_restart_policy", "Describes the restart policy in use by this pod.", labels=("type",))
def restart_policy(p: Body) -> Samples:
    return [([("type", _spec_field(p, "restartPolicy") or "")], 1)]


@family("kube_pod_runtimeclass_name_info", "The runtimeclass associated with the pod.", stability=ALPHA,
        labels=("runtimeclass_name",), needs=("spec", "runtimeClassName"))
def runtimeclass_name_info(p: Body) -> Samples:
    name = dig(p, "spec", "runtimeClassName")
    return () if name is None else [([("runtimeclass_name", name)], 1)]


def _claim_volumes(p: Body) -> list[tuple[list[tuple[str, str]], bool]]:
    """PVC and generic ephemeral volumes with their labels and read-only flag (a list: most pods
    have none, and both families read it)."""
    pod_name = meta(p).get("name") or ""
    out = []
    for v in _spec_list(p, "volumes"):
        pvc = v.get("persistentVolumeClaim")
        if pvc is not None:
            out.append(([("volume", v.get("name") or ""), ("persistentvolumeclaim", pvc.get("claimName") or ""),
                         ("ephemeral", "false")], bool(pvc.get("readOnly"))))
        elif v.get("ephemeral") is not None:
            # ephemeral.VolumeClaimName: the claim the controller creates is "<pod>-<volume>".
            name = v.get("name") or ""
            out.append(([("volume", name), ("persistentvolumeclaim", f"{pod_name}-{name}"), ("ephemeral", "true")],
                        False))
    return out


@family("kube_pod_spec_volumes_persistentvolumeclaims_info",
        "Information about persistentvolumeclaim and ephemeral volumes in a pod.",
        labels=("volume", "persistentvolumeclaim", "ephemeral"))
def spec_volumes_persistentvolumeclaims_info(p: Body) -> Samples:
    return [(labels, 1) for labels, _read_only in _claim_volumes(p)]


@family("kube_pod_spec_volumes_persistentvolumeclaims_readonly",
        "Describes whether a persistentvolumeclaim is mounted read only. Ephemeral volumes always report 0 since "
        "the ephemeral volume source does not support a read-only flag.",
        labels=("volume", "persistentvolumeclaim", "ephemeral"))
def spec_volumes_persistentvolumeclaims_readonly(p: Body) -> Samples:
    return _claim_volumes(p)


@family("kube_pod_start_time", "Start time in unix timestamp for a pod.", labels=())
def start_time(p: Body) -> Samples:
    ts = _status_field(p, "startTime")
    return () if ts is None else [((), _time(ts))]


_PHASES = ("Pending", "Succeeded", "Failed", "Unknown", "Running")


def _constant_label_samples(label: str, names: tuple[str, ...]) -> dict[str, Constant]:
    """For each of ``names``: the samples ``label=<each name>``, true for that one (shared by every pod)."""
    return {value: Constant((f'{label}="{name}"', value == name) for name in names) for value in names}


_PHASE_SAMPLES = _constant_label_samples("phase", _PHASES)


@family("kube_pod_status_phase", "The pods current phase.", labels=("phase",))
def status_phase(p: Body) -> Samples:
    phase = _status_field(p, "phase")
    if not phase:
        return ()
    samples = _PHASE_SAMPLES.get(phase) if type(phase) is str else None
    return samples or [([("phase", name)], phase == name) for name in _PHASES]


_QOS_CLASSES = ("BestEffort", "Burstable", "Guaranteed")
_QOS_SAMPLES = _constant_label_samples("qos_class", _QOS_CLASSES)


@family("kube_pod_status_qos_class", "The pods current qosClass.", stability=ALPHA, labels=("qos_class",))
def status_qos_class(p: Body) -> Samples:
    qos = _status_field(p, "qosClass")
    if not qos:
        return ()
    samples = _QOS_SAMPLES.get(qos) if type(qos) is str else None
    return samples or [([("qos_class", name)], qos == name) for name in _QOS_CLASSES]


# By condition status: its three samples, the labels rendered once.
_CONDITION_SAMPLES = {status: Constant((f'condition="{label}"', status == value) for label, value in CONDITION_STATUSES)
                      for _, status in CONDITION_STATUSES}


def _condition_status(type_: str) -> Callable[[Body], Samples]:
    """Three series condition=true|false|unknown per condition of ``type_`` (the label is ``condition``)."""
    def fn(p: Body) -> Samples:
        found: list[Samples] = []
        for c in _status_list(p, "conditions"):
            if c.get("type") == type_:
                status = c.get("status")
                samples = _CONDITION_SAMPLES.get(status) if type(status) is str else None
                found.append(samples or [([("condition", label)], status == value)
                                         for label, value in CONDITION_STATUSES])
        if len(found) == 1:
            return found[0]  # the one condition of its type (a shared Constant for a known status)
        return [sample for samples in found for sample in samples]
    return fn


def _condition_time(type_: str, status: str) -> Callable[[Body], Samples]:
    """The lastTransitionTime of each ``type_`` condition whose status is ``status``."""
    def fn(p: Body) -> Samples:
        out = []
        for c in _status_list(p, "conditions"):
            if c.get("type") == type_ and c.get("status") == status:
                out.append(((), _time(c.get("lastTransitionTime"))))
        return out
    return fn


family("kube_pod_status_ready", "Describes whether the pod is ready to serve requests.",
       labels=("condition",))(_condition_status("Ready"))
family("kube_pod_status_ready_time", "Readiness achieved time in unix timestamp for a pod.", stability=ALPHA,
       labels=())(
    _condition_time("Ready", "True"))
family("kube_pod_status_initialized_time", "Initialized time in unix timestamp for a pod.", stability=ALPHA, labels=())(
    _condition_time("Initialized", "True"))
family("kube_pod_status_container_ready_time", "Readiness achieved time in unix timestamp for a pod containers.",
       stability=ALPHA, labels=())(_condition_time("ContainersReady", "True"))

_STATUS_REASONS = ("Evicted", "NodeAffinity", "NodeLost", "PreemptionByScheduler", "SchedulingGated", "Shutdown",
                   "TerminationByKubelet", "UnexpectedAdmissionError")


@family("kube_pod_status_reason", "The pod status reasons", stability=ALPHA, labels=("reason",))
def status_reason(p: Body) -> Samples:
    pod_reason = _status_field(p, "reason") or ""
    # Only non-empty reasons can match: most pods have none, and then there is nothing to do.
    reasons = [r for c in _status_list(p, "conditions") if (r := c.get("reason"))]
    for cs in _statuses(p, False):
        state = cs.get("state")
        terminated = None if state is None else state.get("terminated")
        if terminated is not None and (reason := terminated.get("reason")):
            reasons.append(reason)
    if not reasons and not pod_reason:
        return ()
    seen = {pod_reason, *reasons}
    out: list[Any] = [([("reason", reason)], 1) for reason in _STATUS_REASONS if reason in seen]
    if pod_reason and pod_reason not in _STATUS_REASONS:
        out.append(([("reason", "Other")], 1))
    return out


_DISRUPTION_REASONS = frozenset({"PreemptionByScheduler", "DeletionByTaintManager", "EvictionByEvictionAPI",
                                 "DeletionByPodGC", "TerminationByKubelet"})


@family("kube_pod_status_disruption_reason", "The pod disruption condition reason", stability=ALPHA, labels=("reason",))
def status_disruption_reason(p: Body) -> Samples:
    out = []
    for c in _conditions(p, "DisruptionTarget"):
        reason = c.get("reason") or ""
        out.append(([("reason", reason if reason in _DISRUPTION_REASONS else "Other")], 1))
    return out


family("kube_pod_status_scheduled", "Describes the status of the scheduling process for the pod.",
       labels=("condition",))(
    _condition_status("PodScheduled"))
family("kube_pod_status_scheduled_time", "Unix timestamp when pod moved into scheduled status", labels=())(
    _condition_time("PodScheduled", "True"))


@family("kube_pod_status_unschedulable", "Describes the unschedulable status for the pod.", labels=())
def status_unschedulable(p: Body) -> Samples:
    return [((), 1) for c in _conditions(p, "PodScheduled") if c.get("status") == "False"]


family("kube_pod_status_unscheduled_time", "Unix timestamp when pod moved into unscheduled status",
       stability=ALPHA, labels=())(_condition_time("PodScheduled", "False"))


@family("kube_pod_tolerations", "Information about the pod tolerations", stability=ALPHA,
        labels=("key", "operator", "value", "effect", "toleration_seconds"))
def tolerations(p: Body) -> Samples:
    seen: set[tuple[str, ...]] = set()
    texts = []
    for t in _spec_list(p, "tolerations"):
        seconds = t.get("tolerationSeconds")
        labels = (t.get("key") or "", t.get("operator") or "", t.get("value") or "", t.get("effect") or "",
                  "" if seconds is None else str(seconds))
        if labels in seen:
            continue
        seen.add(labels)
        text = _TOLERATION_TEXT.get(labels)
        if text is None:
            text = _TOLERATION(*labels)
            if len(_TOLERATION_TEXT) < 4096:
                _TOLERATION_TEXT[labels] = text
        texts.append(text)
    if not texts:
        return ()
    key = tuple(texts)
    samples = _TOLERATION_SETS.get(key)
    if samples is None:
        samples = Constant((text, 1) for text in texts)
        if len(_TOLERATION_SETS) < 4096:
            _TOLERATION_SETS[key] = samples
    return samples


# Rendered labels by toleration, and samples by list of them: most pods carry the same few (the
# not-ready/unreachable defaults, those of their workload's template).
_TOLERATION_TEXT: dict[tuple[str, ...], str] = {}
_TOLERATION_SETS: dict[tuple[str, ...], Constant] = {}


_TOLERATION = LabelSet("key", "operator", "value", "effect", "toleration_seconds")


@family("kube_pod_nodeselectors", "Describes the Pod nodeSelectors.", stability=ALPHA, opt_in=True,
        labels=("nodeselector_*",))
def nodeselectors(p: Body) -> Samples:
    yield prometheus_labels(dig(p, "spec", "nodeSelector") or {}, lambda _k: True, "nodeselector"), 1


@family("kube_pod_service_account", "The service account for a pod.", stability=ALPHA, labels=("service_account",))
def service_account(p: Body) -> Samples:
    return [([("service_account", _spec_field(p, "serviceAccountName") or "")], 1)]


@family("kube_pod_scheduler", "The scheduler for a pod.", stability=ALPHA, labels=("name",))
def scheduler(p: Body) -> Samples:
    return [([("name", _spec_field(p, "schedulerName") or "")], 1)]
