"""Helpers shared by the family modules (KSM's ``internal/store/utils.go``)."""

from __future__ import annotations

import datetime
import functools
import re
from fractions import Fraction
from typing import Any, Callable, Iterable, Iterator, Mapping

from ._dsl import Allowlists, Body, FamilyFn, Resource, Samples

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_SECOND = datetime.timedelta(seconds=1)
MAX_INT64 = (1 << 63) - 1


def dig(obj: Any, *path: str | int) -> Any:
    """``obj[p0][p1]...`` or None when any step is missing or null."""
    for p in path:
        if obj is None:
            return None
        if isinstance(p, int):
            obj = obj[p] if isinstance(obj, list) and -len(obj) <= p < len(obj) else None
        else:
            obj = obj.get(p)
    return obj


def meta(obj: Body) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


@functools.lru_cache(maxsize=4096)
def unix(ts: str) -> int:
    """``metav1.Time.Unix()`` of an RFC 3339 timestamp (seconds, floored)."""
    dt = datetime.datetime.fromisoformat(ts.replace("z", "Z"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return (dt - _EPOCH) // _SECOND


def unix_or_none(ts: Any) -> int | None:
    return unix(ts) if ts else None


def bool_value(b: Any) -> int:
    return 1 if b else 0


# -- quantities (k8s.io/apimachinery resource.Quantity) -------------------------------------------

_SUFFIXES: dict[str, Fraction] = {
    "": Fraction(1),
    "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000),
    "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
    "P": Fraction(10**15), "E": Fraction(10**18),
    "Ki": Fraction(2**10), "Mi": Fraction(2**20), "Gi": Fraction(2**30), "Ti": Fraction(2**40),
    "Pi": Fraction(2**50), "Ei": Fraction(2**60),
}
_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$")


@functools.lru_cache(maxsize=4096)
def quantity(s: Any) -> Fraction:
    """Exact value of a Kubernetes quantity string (``250m``, ``1.5Gi``, ``1e3``)."""
    if isinstance(s, (int, float)) and not isinstance(s, bool):
        return Fraction(s)
    m = _QUANTITY.match(str(s).strip())
    if not m:
        raise ValueError(f"invalid quantity {s!r}")
    number, exponent, suffix = m.groups()
    value = Fraction(number)
    if exponent:
        value *= Fraction(10) ** int(exponent[1:])
    else:
        value *= _SUFFIXES[suffix or ""]
    return value


def _ceil(f: Fraction) -> int:
    return -((-f.numerator) // f.denominator)


def _clamp(i: int) -> int:
    return max(-MAX_INT64 - 1, min(MAX_INT64, i))


def quantity_value(s: Any) -> int:
    """``Quantity.Value()``: rounded up to an integer."""
    return _clamp(_ceil(quantity(s)))


def quantity_milli(s: Any) -> int:
    """``Quantity.MilliValue()``: thousandths, rounded up."""
    return _clamp(_ceil(quantity(s) * 1000))


def quantity_float(s: Any) -> float:
    """KSM ``convertValueToFloat64``: MilliValue/1000 unless that would overflow."""
    if quantity_value(s) > MAX_INT64 // 1000:
        return float(quantity_value(s))
    return quantity_milli(s) / 1000


# -- labels -----------------------------------------------------------------------------------

_INVALID_LABEL_CHARS = re.compile(r"[^a-zA-Z0-9_]")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")


@functools.lru_cache(maxsize=8192)
def sanitize_label_name(s: str) -> str:
    return _INVALID_LABEL_CHARS.sub("_", s)


@functools.lru_cache(maxsize=8192)
def label_name(prefix: str, key: str) -> str:
    return prefix + "_" + _CAMEL.sub(r"\1_\2", sanitize_label_name(key)).lower()


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
    """Allowed keys as ``<prefix>_<sanitised>`` labels, sorted by the original key, with
    ``_conflictN`` renaming when two keys sanitise to the same name (KSM >= 2.20)."""
    out: list[tuple[str, str]] = []
    index: dict[str, int] = {}
    conflicts: dict[str, int] = {}
    used: set[str] = set()
    for key in sorted(kv):
        if not matches(key):
            continue
        name = label_name(prefix, key)
        value = kv[key]
        value = value if isinstance(value, str) else ("" if value is None else str(value))
        if name in index or name in conflicts:
            n = conflicts.get(name, 0)
            if n == 0:
                first = index.pop(name)
                n = 1
                renamed = _next_free(name, n, used)
                n = int(renamed.rsplit("_conflict", 1)[1])
                out[first] = (renamed, out[first][1])
                used.add(renamed)
            new = _next_free(name, n + 1, used)
            conflicts[name] = int(new.rsplit("_conflict", 1)[1])
            used.add(new)
            out.append((new, value))
            continue
        index[name] = len(out)
        used.add(name)
        out.append((name, value))
    return out


def _next_free(name: str, n: int, used: set[str]) -> str:
    while f"{name}_conflict{n}" in used:
        n += 1
    return f"{name}_conflict{n}"


def allowlisted(kind: str, prefix: str) -> Callable[[Allowlists], FamilyFn]:
    """Build a ``_labels`` (kind="labels") or ``_annotations`` family function."""
    def build(allow: Allowlists) -> FamilyFn:
        entries = allow.labels if kind == "labels" else allow.annotations
        if not entries:
            return lambda _obj: ()
        matches = _matcher(entries)

        def fn(obj: Body) -> Samples:
            yield prometheus_labels(meta(obj).get(kind) or {}, matches, prefix), 1
        return fn
    return build


def metadata_families(resource: Resource, kind_label: str, *, labels_stability: str, annotations_stability: str) -> None:
    """Register ``kube_<kind>_annotations`` then ``kube_<kind>_labels`` (the common order)."""
    resource.family_with_allowlists(
        f"kube_{kind_label}_annotations", "Kubernetes annotations converted to Prometheus labels.",
        stability=annotations_stability)(allowlisted("annotations", "annotation"))
    resource.family_with_allowlists(
        f"kube_{kind_label}_labels", "Kubernetes labels converted to Prometheus labels.",
        stability=labels_stability)(allowlisted("labels", "label"))


def labels_family(resource: Resource, kind_label: str, stability: str) -> None:
    resource.family_with_allowlists(
        f"kube_{kind_label}_labels", "Kubernetes labels converted to Prometheus labels.",
        stability=stability)(allowlisted("labels", "label"))


def annotations_family(resource: Resource, kind_label: str, stability: str) -> None:
    resource.family_with_allowlists(
        f"kube_{kind_label}_annotations", "Kubernetes annotations converted to Prometheus labels.",
        stability=stability)(allowlisted("annotations", "annotation"))


# -- common shapes ----------------------------------------------------------------------------

def created(obj: Body) -> Samples:
    """Creation timestamp, omitted when unset (most resources)."""
    ts = meta(obj).get("creationTimestamp")
    if ts:
        yield (), unix(ts)


def deletion_timestamp(obj: Body) -> Samples:
    ts = meta(obj).get("deletionTimestamp")
    if ts:
        yield (), unix(ts)


def metadata_generation(obj: Body) -> Samples:
    yield (), meta(obj).get("generation") or 0


def resource_version(obj: Body) -> Samples:
    """KSM ``resourceVersionMetric``: only when the resourceVersion is an integer."""
    rv = meta(obj).get("resourceVersion") or ""
    try:
        yield (), float(int(rv))
    except ValueError:
        return


CONDITION_STATUSES = (("true", "True"), ("false", "False"), ("unknown", "Unknown"))


def condition_samples(status: Any, extra: Iterable[tuple[str, str]] = ()) -> Iterator[tuple[list[tuple[str, str]], int]]:
    """KSM ``addConditionMetrics``: three series status=true|false|unknown, 1 for the match."""
    extra = list(extra)
    for label, value in CONDITION_STATUSES:
        yield [*extra, ("status", label)], 1 if status == value else 0


def owner_samples(obj: Body, *, with_controller: bool = True) -> Samples:
    owners = meta(obj).get("ownerReferences") or []
    if not owners:
        if with_controller:
            yield (("owner_kind", ""), ("owner_name", ""), ("owner_is_controller", "")), 1
        else:
            yield (("owner_kind", ""), ("owner_name", "")), 1
        return
    for o in owners:
        if with_controller:
            yield (("owner_kind", o.get("kind") or ""), ("owner_name", o.get("name") or ""),
                   ("owner_is_controller", "true" if o.get("controller") else "false")), 1
        else:
            yield (("owner_kind", o.get("kind") or ""), ("owner_name", o.get("name") or "")), 1


def controller_of(obj: Body) -> Mapping[str, Any] | None:
    for o in meta(obj).get("ownerReferences") or []:
        if o.get("controller"):
            return o  # type: ignore[no-any-return]
    return None


def field(*path: str | int, default: Any = 0) -> FamilyFn:
    """A family with one series whose value is the field at ``path`` (Go zero value if absent)."""
    def fn(obj: Body) -> Samples:
        v = dig(obj, *path)
        yield (), default if v is None else v
    return fn


def optional_field(*path: str | int) -> FamilyFn:
    """A family with one series only when the (pointer) field at ``path`` is set."""
    def fn(obj: Body) -> Samples:
        v = dig(obj, *path)
        if v is not None:
            yield (), v
    return fn


# Resource names that KSM reports for container/node resources, with their unit.
_BYTE_RESOURCES = {"memory", "ephemeral-storage", "storage"}


def resource_unit(name: str) -> str | None:
    """The ``unit`` label for a resource name, or None when KSM drops it."""
    if name == "cpu":
        return "core"
    if name in _BYTE_RESOURCES or name.startswith(("hugepages-", "attachable-volumes-")):
        return "byte"
    if name == "pods":
        return "integer"
    if is_extended_resource(name):
        return "integer"
    return None


def is_native_resource(name: str) -> bool:
    return "/" not in name or name.startswith("kubernetes.io/") or name.split("/", 1)[0].endswith(".kubernetes.io")


def is_extended_resource(name: str) -> bool:
    """``v1helper.IsExtendedResourceName``: a namespaced name outside kubernetes.io, not requests.*."""
    if is_native_resource(name) or name.startswith("requests."):
        return False
    return True
