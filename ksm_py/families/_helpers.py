"""Helpers shared by the family modules (KSM's ``internal/store/utils.go``)."""

from __future__ import annotations

import datetime
import functools
import re
from typing import Any, Callable, Iterable, Mapping

from ..gocompat.floats import parse_float
from ..gocompat.quantity import MAX_INT64
from ..gocompat.quantity import milli_value as quantity_milli
from ..gocompat.quantity import value as quantity_value
from ..metric import escape_label_value
from ._dsl import Allowlists, Body, FamilyFn, Resource, Samples

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_SECOND = datetime.timedelta(seconds=1)


def dig(obj: Any, *path: str | int) -> Any:
    """``obj[p0][p1]...`` or None when any step is missing or null."""
    for p in path:
        if obj is None:
            return None
        if type(p) is str or not isinstance(p, int):  # the exact type check first: most steps are keys
            obj = obj.get(p)
        else:
            obj = obj[p] if isinstance(obj, list) and -len(obj) <= p < len(obj) else None
    return obj


def meta(obj: Body) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


@functools.lru_cache(maxsize=4096)
def unix(ts: str) -> int:
    """``metav1.Time.Unix()`` of an RFC 3339 timestamp (seconds, floored)."""
    dt = datetime.datetime.fromisoformat(ts.replace("z", "Z"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.UTC)
    return (dt - _EPOCH) // _SECOND


def unix_or_none(ts: Any) -> int | None:
    return unix(ts) if ts else None


# -- quantities (k8s.io/apimachinery resource.Quantity) -------------------------------------------

# The Go quantity semantics (ParseQuantity, Value, MilliValue) live in gocompat.quantity.

def quantity_float(s: Any) -> float:
    """KSM ``convertValueToFloat64``: MilliValue/1000 unless that would overflow."""
    value = quantity_value(s)
    if value > MAX_INT64 // 1000:
        return float(value)
    return float(quantity_milli(s)) / 1000


# -- labels -----------------------------------------------------------------------------------

_INVALID_LABEL_CHARS = re.compile(r"[^a-zA-Z0-9_]")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")


@functools.lru_cache(maxsize=8192)
def sanitize_label_name(s: str) -> str:
    return _INVALID_LABEL_CHARS.sub("_", s)


@functools.lru_cache(maxsize=8192)
def label_name(prefix: str, key: str) -> str:
    return prefix + "_" + _CAMEL.sub(r"\1_\2", sanitize_label_name(key)).lower()


def label_text(v: Any) -> str:
    """A label value as the render writes it (None is "", other non-strings ``str()``), escaped."""
    if type(v) is not str:
        v = "" if v is None else str(v)
    return escape_label_value(v)


class LabelSet:
    """Labels of fixed names rendered by one ``str.format`` (several times cheaper than pairs
    rendered one by one).  Values are never None (``x or ""``); when one may need escaping (a
    backslash, a line feed, more quotes than the names bring) they are escaped and formatted again."""

    __slots__ = ("_format", "_quotes")

    def __init__(self, *names: str) -> None:
        self._format = ",".join(f'{name}="{{}}"' for name in names).format
        self._quotes = 2 * len(names)

    def __call__(self, *values: Any) -> str:
        text: str = self._format(*values)
        if "\\" in text or "\n" in text or text.count('"') != self._quotes:
            text = self._format(*[label_text(v) for v in values])
        return text


def _matcher(entries: tuple[str, ...]) -> Callable[[str], bool]:
    if entries and entries[0] == "*":
        return lambda _k: True
    exact = {e for e in entries if "*" not in e}
    globs = [re.compile("^" + re.escape(e.split("*")[0]) + ".*" + re.escape(e.split("*")[1]) + "$")
             for e in entries if e.count("*") == 1 and e != "*"]
    if not globs:
        return exact.__contains__
    return lambda k: k in exact or any(g.match(k) for g in globs)


def prometheus_labels(kv: Mapping[str, Any], matches: Callable[[str], bool], prefix: str) -> list[tuple[str, str]]:
    """Allowed keys as ``<prefix>_<sanitised>`` labels, in the order of the original keys, with
    KSM v2.20's ``_conflictN`` renaming (``mapToPrometheusLabels``) when keys sanitise to the same name.

    Prometheus rejects a whole scrape when one sample carries a label name twice, so every name
    handed out, suffixed or not, is checked against the names already in use.  The first
    collision on a name renames the entry that holds it (which may itself be a renamed entry
    of another base: ``foo_bar_conflict1`` -> ``foo_bar_conflict1_conflict1``); later keys with
    that base only take the next free suffix.
    """
    out: list[tuple[str, str]] = []
    used: dict[str, int] = {}       # emitted name -> its index in out
    conflicts: dict[str, int] = {}  # base name -> the last suffix handed out for it
    for key in sorted(kv):
        if not matches(key):
            continue
        base = label_name(prefix, key)
        value = kv[key]
        value = value if isinstance(value, str) else ("" if value is None else str(value))
        name = base
        if base in conflicts:
            name, conflicts[base] = _next_free(base, conflicts[base], used)
        elif base in used:
            idx = used.pop(base)
            renamed, count = _next_free(base, 0, used)
            out[idx] = (renamed, out[idx][1])
            used[renamed] = idx
            name, conflicts[base] = _next_free(base, count, used)
        used[name] = len(out)
        out.append((name, value))
    return out


def _next_free(base: str, count: int, used: Mapping[str, int]) -> tuple[str, int]:
    """The first ``<base>_conflict<N>`` with N > count that no label uses yet, and N."""
    while True:
        count += 1
        candidate = f"{base}_conflict{count}"
        if candidate not in used:
            return candidate, count


# kubectl's client-side apply copies the whole object into this annotation: for a Secret or a
# ConfigMap that is its data, which ksm-py never exports (upstream does, when allowlisted).
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def allowlisted(kind: str, prefix: str, hidden: tuple[str, ...] = ()) -> Callable[[Allowlists], FamilyFn]:
    """Build a ``_labels`` (kind="labels") or ``_annotations`` family function; ``hidden`` keys
    are never exported, whatever the allowlist says."""
    def build(allow: Allowlists) -> FamilyFn:
        entries = allow.labels if kind == "labels" else allow.annotations
        if not entries:
            return lambda _obj: ()
        matches = _matcher(entries)
        if hidden:
            allowed = matches
            matches = lambda key: key not in hidden and allowed(key)  # noqa: E731

        def fn(obj: Body) -> Samples:
            return [(prometheus_labels(meta(obj).get(kind) or {}, matches, prefix), 1)]
        return fn
    return build


def metadata_families(resource: Resource, kind_label: str, *, labels_stability: str, annotations_stability: str,
                      hidden_annotations: tuple[str, ...] = ()) -> None:
    """Register ``kube_<kind>_annotations`` then ``kube_<kind>_labels`` (the common order)."""
    annotations_family(resource, kind_label, annotations_stability, hidden=hidden_annotations)
    labels_family(resource, kind_label, labels_stability)


def labels_family(resource: Resource, kind_label: str, stability: str) -> None:
    resource.family_with_allowlists(
        f"kube_{kind_label}_labels", "Kubernetes labels converted to Prometheus labels.",
        stability=stability, labels=("label_*",))(allowlisted("labels", "label"))


def annotations_family(resource: Resource, kind_label: str, stability: str, *, hidden: tuple[str, ...] = ()) -> None:
    resource.family_with_allowlists(
        f"kube_{kind_label}_annotations", "Kubernetes annotations converted to Prometheus labels.",
        stability=stability, labels=("annotation_*",))(allowlisted("annotations", "annotation", hidden))


# -- common shapes ----------------------------------------------------------------------------
# They run for every object of many resources: lists, not generators (``()`` when there is no
# sample, which the render skips without iterating).

def created(obj: Body) -> Samples:
    """Creation timestamp, omitted when unset (most resources)."""
    ts = meta(obj).get("creationTimestamp")
    return [((), unix(ts))] if ts else ()


def deletion_timestamp(obj: Body) -> Samples:
    ts = meta(obj).get("deletionTimestamp")
    return [((), unix(ts))] if ts else ()


def metadata_generation(obj: Body) -> Samples:
    return [((), meta(obj).get("generation") or 0)]


def resource_version(obj: Body) -> Samples:
    """KSM ``resourceVersionMetric``: only when ``strconv.ParseFloat`` accepts the resourceVersion."""
    rv = meta(obj).get("resourceVersion") or ""
    if isinstance(rv, str):
        try:
            value = parse_float(rv)
        except ValueError:
            return ()
        return [((), value)]
    return ()


CONDITION_STATUSES = (("true", "True"), ("false", "False"), ("unknown", "Unknown"))


def condition_samples(status: Any, extra: Iterable[tuple[str, str]] = ()) -> list[tuple[list[tuple[str, str]], int]]:
    """KSM ``addConditionMetrics``: three series status=true|false|unknown, 1 for the match."""
    extra = list(extra)
    return [([*extra, ("status", label)], 1 if status == value else 0) for label, value in CONDITION_STATUSES]


# Shared by every object without owners: tuples, so that no caller can change them.
_NO_OWNER = (('owner_kind="",owner_name="",owner_is_controller=""', 1),)
_NO_OWNER_WITHOUT_CONTROLLER = (('owner_kind="",owner_name=""', 1),)


def owner_samples(obj: Body, *, with_controller: bool = True) -> Samples:
    owners = meta(obj).get("ownerReferences") or []
    if not owners:
        return _NO_OWNER if with_controller else _NO_OWNER_WITHOUT_CONTROLLER
    if with_controller:
        return [(_OWNER(o.get("kind") or "", o.get("name") or "", "true" if o.get("controller") else "false"), 1)
                for o in owners]
    return [(_OWNER_WITHOUT_CONTROLLER(o.get("kind") or "", o.get("name") or ""), 1) for o in owners]


_OWNER = LabelSet("owner_kind", "owner_name", "owner_is_controller")
_OWNER_WITHOUT_CONTROLLER = LabelSet("owner_kind", "owner_name")


def controller_of(obj: Body) -> Mapping[str, Any] | None:
    for o in meta(obj).get("ownerReferences") or []:
        if o.get("controller"):
            return o
    return None


def field(*path: str | int, default: Any = 0) -> FamilyFn:
    """A family with one series whose value is the field at ``path`` (Go zero value if absent)."""
    def fn(obj: Body) -> Samples:
        v = dig(obj, *path)
        return [((), default if v is None else v)]
    return fn


def optional_field(*path: str | int) -> FamilyFn:
    """A family with one series only when the (pointer) field at ``path`` is set."""
    def fn(obj: Body) -> Samples:
        v = dig(obj, *path)
        return () if v is None else [((), v)]
    return fn


# Resource names that KSM reports for container/node resources, with their unit.
_BYTE_RESOURCES = {"memory", "ephemeral-storage", "storage"}


def resource_units(name: str, *, pods: bool = True) -> tuple[str, ...]:
    """The ``unit`` labels KSM emits for a resource name, one series each; empty when it drops the name.

    Outside the fixed names KSM tests the hugepages, attachable-volumes and extended-resource rules
    independently, so a name such as ``hugepages-x/y`` yields two series. ``pods`` is a node
    resource only: container requests/limits drop it.
    """
    if name == "cpu":
        return ("core",)
    if name in _BYTE_RESOURCES:
        return ("byte",)
    if name == "pods":
        return ("integer",) if pods else ()
    units: list[str] = []
    if name.startswith("hugepages-"):
        units.append("byte")
    if name.startswith("attachable-volumes-"):
        units.append("byte")
    if is_extended_resource(name):
        units.append("integer")
    return tuple(units)


def is_native_resource(name: str) -> bool:
    """KSM ``isNativeResource``: unprefixed, or containing ``kubernetes.io/`` anywhere."""
    return "/" not in name or "kubernetes.io/" in name


_LABEL_KEY_NAME = re.compile(r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*")


def is_qualified_name(value: str) -> bool:
    """``validation.IsQualifiedName``: an optional DNS-subdomain prefix and a label-key name."""
    parts = value.split("/")
    if len(parts) > 2:
        return False
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix or len(prefix) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(prefix):
            return False
    name = parts[-1]
    return 0 < len(name) <= 63 and _LABEL_KEY_NAME.fullmatch(name) is not None


def is_extended_resource(name: str) -> bool:
    """KSM ``isExtendedResourceName``: not native, not ``requests.*``, and valid as a quota name."""
    if is_native_resource(name) or name.startswith("requests."):
        return False
    return is_qualified_name("requests." + name)
