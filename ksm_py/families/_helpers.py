"""Helpers shared by the family modules (KSM's ``internal/store/utils.go``)."""

from __future__ import annotations

import datetime
import functools
import re
from fractions import Fraction
from typing import Any, Callable, Iterable, Iterator, Mapping

from ._dsl import Allowlists, Body, FamilyFn, Resource, Samples

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
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
        dt = dt.replace(tzinfo=datetime.UTC)
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


# Go's resource.Quantity keeps small values as an int64 mantissa with a base-10 exponent and
# everything else as an inf.Dec rounded up to nano precision; Value()/MilliValue() round, wrap
# and overflow differently on the two paths, so both are reproduced here (quantity.go,
# amount.go, math.go, scale_int.go in k8s.io/apimachinery).

_MIN_INT64 = -MAX_INT64 - 1
_DEC_SUFFIXES = {"": 0, "n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BIN_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DIGITS = frozenset("0123456789")


def _wrap64(i: int) -> int:
    return ((i - _MIN_INT64) & 0xFFFFFFFFFFFFFFFF) + _MIN_INT64


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _split_quantity(s: str) -> tuple[bool, str, str, str, str]:
    """``parseQuantityString``: sign, numeric text, integer digits, fraction digits, suffix."""
    end = len(s)
    pos = 0
    positive = True
    if end and s[0] in "+-":
        positive = s[0] == "+"
        pos = 1
    while True:
        if pos >= end:
            return positive, "0", "0", "", ""
        if s[pos] != "0":
            break
        pos += 1
    i = pos
    while i < end and s[i] in _DIGITS:
        i += 1
    if i >= end:
        return positive, s, s[pos:] or "0", "", ""
    num, pos = s[pos:i] or "0", i
    denom = ""
    if s[pos] == ".":
        pos += 1
        i = pos
        while i < end and s[i] in _DIGITS:
            i += 1
        if i >= end:
            return positive, s, num, s[pos:], ""
        denom, pos = s[pos:i], i
    value = s[:pos]
    start = pos
    while pos < end and s[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and s[pos] in "+-":
        pos += 1
    while pos < end and s[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise ValueError(f"invalid quantity {s!r}")
    return positive, value, num, denom, s[start:]


def _interpret_suffix(suffix: str) -> tuple[int, int, str]:
    if suffix in _DEC_SUFFIXES:
        return 10, _DEC_SUFFIXES[suffix], "decimal"
    if suffix in _BIN_SUFFIXES:
        return 2, _BIN_SUFFIXES[suffix], "binary"
    if len(suffix) > 1 and suffix[0] in "eE" and re.fullmatch(r"[+-]?[0-9]+", suffix[1:]):
        exponent = int(suffix[1:])
        if _MIN_INT64 <= exponent <= MAX_INT64:
            return 10, _wrap32(exponent), "exponent"
    raise ValueError(f"invalid quantity suffix {suffix!r}")


def _wrap32(i: int) -> int:
    return ((i + 2**31) & 0xFFFFFFFF) - 2**31


@functools.lru_cache(maxsize=4096)
def _go_quantity(s: Any) -> tuple[bool, int, int]:
    """``resource.ParseQuantity`` as ``(is_int64_amount, unscaled, exponent)``: value = unscaled * 10**exponent."""
    if isinstance(s, bool) or s is None:
        raise ValueError(f"invalid quantity {s!r}")
    text = str(s).strip()
    if not text:
        raise ValueError("empty quantity")
    if text == "0":
        return True, 0, 0
    positive, value, num, denom, suffix = _split_quantity(text)
    base, exponent, kind = _interpret_suffix(suffix)
    scale, mantissa = 0, 1
    if kind == "binary":
        precision = 15 - len(num) - exponent * 3 // 10 - 1 if not denom else -1
        if not denom:
            mantissa = 1 << exponent
    else:
        scale = exponent
        precision = 18 - (len(num) + len(denom))
    if precision >= 0:
        scale -= len(denom)
        if scale >= -9:
            result = int(num + denom) * mantissa
            if _MIN_INT64 <= result <= MAX_INT64:
                return True, result if positive else -result, scale
    if base == 10 and exponent > 1000:
        raise ValueError(f"quantity {s!r} is out of range")
    number = abs(Fraction(value))
    if base == 2:
        number *= 2**exponent
    elif exponent < -(len(value) + 20):
        # Far below one nano: only "non-zero" matters, the value rounds up to 1n.
        number = Fraction(1, 10**20) if number else number
    else:
        number *= Fraction(10) ** exponent
    if number:
        # Rounded away from zero to nano precision; the Dec then has scale 9.
        nanos = -((-number.numerator * 10**9) // number.denominator)
        unscaled, dec_exponent = nanos, -9
    else:
        unscaled, dec_exponent = 0, 0
    if kind == "binary" and Fraction(unscaled) * Fraction(10) ** dec_exponent > MAX_INT64:
        unscaled, dec_exponent = MAX_INT64, 0
    return False, unscaled if positive else -unscaled, dec_exponent


def _negative_scale(base: int, scale: int) -> int:
    """``negativeScaleInt64``: divide by 10**scale, rounding away from zero."""
    value, fraction = base, False
    for _ in range(scale):
        if not fraction and value % 10 != 0:
            fraction = True
        value = _trunc_div(value, 10)
        if value == 0:
            return (1 if base > 0 else -1) if fraction else 0
    if fraction:
        value += 1 if base > 0 else -1
    return value


def _positive_scale(base: int, scale: int) -> int:
    """``positiveScaleInt64``: multiply by 10**scale; wraps (fixed scales) or gives 0 (loop) on overflow."""
    if scale == 0:
        return base
    if scale in (1, 2, 3, 6, 9):
        if base in (0, 1):
            return base * 10**scale
        if base == _MIN_INT64:
            return 0
        return _wrap64(base * 10**scale)
    value = base
    for _ in range(scale):
        if value in (0, 1):
            value *= 10
            continue
        product = value * 10
        if value == _MIN_INT64 or not _MIN_INT64 <= product <= MAX_INT64:
            return 0
        value = product
    return value


@functools.lru_cache(maxsize=4096)
def _scaled_value(s: Any, exponent: int) -> int:
    """``Quantity.ScaledValue``: the value in units of 10**exponent, rounded up (Go's way)."""
    is_int64, unscaled, own = _go_quantity(s)
    if is_int64:
        if own < exponent:
            return _negative_scale(unscaled, exponent - own)
        return _positive_scale(unscaled, own - exponent)
    dif = exponent - own
    if dif == 0:
        return _wrap64(unscaled)
    if dif < 0:
        return _wrap64(_wrap64(unscaled) * 10**-dif)
    if unscaled < MAX_INT64 and dif < 19:
        small = _wrap64(unscaled)
        result = _trunc_div(small, 10**dif)
        return result + 1 if small - result * 10**dif else result
    result, remainder = divmod(unscaled, 10**dif)
    return _wrap64(result + 1 if remainder else result)


def quantity_value(s: Any) -> int:
    """``Quantity.Value()``: rounded up to an integer."""
    return _scaled_value(s, 0)


def quantity_milli(s: Any) -> int:
    """``Quantity.MilliValue()``: thousandths, rounded up."""
    return _scaled_value(s, -3)


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
            yield prometheus_labels(meta(obj).get(kind) or {}, matches, prefix), 1
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


_GO_FLOAT = re.compile(r"^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)$", re.I)


def resource_version(obj: Body) -> Samples:
    """KSM ``resourceVersionMetric``: only when ``strconv.ParseFloat`` accepts the resourceVersion."""
    rv = meta(obj).get("resourceVersion") or ""
    if isinstance(rv, str) and _GO_FLOAT.match(rv):
        yield (), float(rv)


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
            return o
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


def resource_unit(name: str) -> str | None:
    """The first ``unit`` label for a node resource name, or None when KSM drops it."""
    units = resource_units(name)
    return units[0] if units else None


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
